"""Crypto-shredding: concluded groups lose their confidential space after the export window."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from groups.services.confidential import confidential_destroy
from society.models import PeerGroup

from .fanout import FanoutResult, for_each_group

logger = logging.getLogger(__name__)


def groups_shred_due() -> FanoutResult:
    """Destroy the confidential space of groups concluded longer than the export window ago.

    Computed from database state, so a missed or repeated run is harmless, and a group that
    fails is tried again at the next run while the others are shredded. Returns the slugs done
    and failed.
    """
    cutoff = timezone.now() - timedelta(days=settings.HORIZONTAL_EXPORT_WINDOW_DAYS)
    due = PeerGroup.objects.filter(
        lifecycle=PeerGroup.Lifecycle.CONCLUDED,
        concluded_at__lte=cutoff,
        shredded_at__isnull=True,
        status=PeerGroup.Status.READY,
    ).order_by("pk")

    def shred(group: PeerGroup) -> None:
        confidential_destroy()
        PeerGroup.objects.filter(pk=group.pk).update(shredded_at=timezone.now())
        logger.info("Destroyed the confidential space of concluded group %s", group.pk)

    return for_each_group(due, shred, what="Shredding")
