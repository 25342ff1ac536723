"""Kram's phases, pause, redefine, conclude, open seats (the group's public row)."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from society.audit import audit_record
from society.models import AuditEvent, PeerGroup, User

from ..models import (
    Mission,
)
from .context import current_group, group_row
from .mission import mission_adopt
from .reminders import group_reminders_resume


@transaction.atomic
def group_stage_set(*, stage: str, actor: User) -> PeerGroup:
    """Move the group to one of Kram's phases."""
    if stage not in PeerGroup.Stage.values:
        raise ValidationError(_("Unknown stage."))
    group = group_row()
    if group.is_read_only:
        raise ValidationError(_("This group has concluded."))
    group.stage = stage
    group.save(update_fields=["stage"])
    return group


@transaction.atomic
def group_pause_set(*, paused: bool, actor: User) -> PeerGroup:
    """Pause the group (no reminders, shown as paused) or resume it."""
    group = group_row()
    if group.is_read_only:
        raise ValidationError(_("This group has concluded."))
    resumed = not paused and group.lifecycle == PeerGroup.Lifecycle.PAUSED
    group.lifecycle = PeerGroup.Lifecycle.PAUSED if paused else PeerGroup.Lifecycle.ACTIVE
    group.save(update_fields=["lifecycle"])
    if resumed:
        group_reminders_resume()
    return group


@transaction.atomic
def group_redefine(*, mission_text: str, actor: User) -> Mission:
    """Redefine the group: a new mission version, and the redefinition stage."""
    group = group_row()
    if group.is_read_only:
        raise ValidationError(_("This group has concluded."))
    mission = mission_adopt(text=mission_text, actor=actor, note="redefined")
    group.stage = PeerGroup.Stage.REDEFINITION
    group.save(update_fields=["stage"])
    return mission


@transaction.atomic
def group_conclude(*, actor: User) -> PeerGroup:
    """Conclude on purpose: the space becomes read-only; export stays open for the window,
    after which crossschema.shredding.groups_shred_due destroys the confidential space."""
    group = group_row()
    if group.is_read_only:
        raise ValidationError(_("This group has already concluded."))
    group.lifecycle = PeerGroup.Lifecycle.CONCLUDED
    group.stage = PeerGroup.Stage.SEPARATION
    group.concluded_at = timezone.now()
    group.save(update_fields=["lifecycle", "stage", "concluded_at"])
    audit_record(kind=AuditEvent.Kind.GROUP_CONCLUDED, actor=actor, group=current_group())
    return group


def group_reopen_days_left(group: PeerGroup) -> int:
    """Whole days (rounded up) left to reopen a concluded group before its confidential space
    is destroyed; 0 once the export window has passed, or for a group that is not concluded."""
    if group.lifecycle != PeerGroup.Lifecycle.CONCLUDED or group.concluded_at is None:
        return 0
    deadline = group.concluded_at + timedelta(days=settings.HORIZONTAL_EXPORT_WINDOW_DAYS)
    left = (deadline - timezone.now()) / timedelta(days=1)
    return max(0, math.ceil(left))


@transaction.atomic
def group_reopen(*, actor: User) -> PeerGroup:
    """Reopen a concluded group within the export window: it is active again and its
    confidential space is no longer counted down for destruction (concluded_at is cleared,
    which crossschema.shredding.groups_shred_due reads). Audited.

    Raises ValidationError if the group has not concluded, if its confidential space was
    already destroyed, or if the export window has passed.
    """
    group = PeerGroup.objects.select_for_update().get(pk=current_group().pk)
    if group.lifecycle != PeerGroup.Lifecycle.CONCLUDED:
        raise ValidationError(_("This group has not concluded, so there is nothing to reopen."))
    if group.shredded_at is not None:
        raise ValidationError(
            _(
                "This group's confidential space was destroyed on %(date)s, so it can no longer "
                "be reopened. Start a new group through the society's application form instead."
            )
            % {"date": date_format(timezone.localtime(group.shredded_at), "j F Y")}
        )
    if group_reopen_days_left(group) == 0:
        raise ValidationError(
            _(
                "The %(days)s days in which a concluded group can be reopened have passed. "
                "Start a new group through the society's application form instead."
            )
            % {"days": settings.HORIZONTAL_EXPORT_WINDOW_DAYS}
        )
    group.lifecycle = PeerGroup.Lifecycle.ACTIVE
    group.concluded_at = None
    group.save(update_fields=["lifecycle", "concluded_at"])
    group_reminders_resume()
    audit_record(kind=AuditEvent.Kind.GROUP_REOPENED, actor=actor, group=group)
    return group


@transaction.atomic
def open_seats_set(*, seats: int, actor: User) -> PeerGroup:
    """Open (or close, with 0) seats for newcomers; the directory shows open seats."""
    if not 0 <= seats <= 12:
        raise ValidationError(_("Between 0 and 12 seats."))
    group = group_row()
    group.open_seats = seats
    group.save(update_fields=["open_seats"])
    return group
