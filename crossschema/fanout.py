"""Entering group schemas from the public one: one at a time, each failure contained."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django_tenants.utils import tenant_context

from society.models import PeerGroup

logger = logging.getLogger(__name__)

T = TypeVar("T")


@contextmanager
def inside(group: PeerGroup) -> Iterator[PeerGroup]:
    """Run the block in `group`'s schema (public tables stay visible), then go back."""
    with tenant_context(group):
        yield group


@dataclass
class FanoutResult:
    """What a fan-out did: the groups it finished and the ones that failed (to retry later)."""

    done: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def ready_groups() -> Iterable[PeerGroup]:
    """Groups whose schema is made (periodic work skips queued, creating and failed ones)."""
    return PeerGroup.objects.filter(status=PeerGroup.Status.READY).order_by("pk")


def for_each_group(
    groups: Iterable[PeerGroup], work: Callable[[PeerGroup], object], *, what: str
) -> FanoutResult:
    """Run `work(group)` inside each group's schema, each in its own transaction.

    One group's exception rolls its work back whole, is logged (its id and the error's class,
    never its data), counted, and left for the next run, which finds the work again from the
    database; the others still run. A Celery soft time limit is not swallowed: it stops the
    whole run, as it must.
    """
    result = FanoutResult()
    for group in groups:
        try:
            with inside(group), transaction.atomic():
                work(group)
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:
            logger.error("%s failed for group %s (%s)", what, group.pk, type(exc).__name__)
            result.failed.append(group.slug)
        else:
            result.done.append(group.slug)
    if result.failed:
        logger.warning("%s: %d group(s) failed, to retry next run", what, len(result.failed))
    return result
