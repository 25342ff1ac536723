"""Kram's phases, pause, redefine, conclude, open seats (the group's public row)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import PeerGroup, User

from ..models import (
    Mission,
)
from .context import group_row
from .mission import mission_adopt


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
    group.lifecycle = PeerGroup.Lifecycle.PAUSED if paused else PeerGroup.Lifecycle.ACTIVE
    group.save(update_fields=["lifecycle"])
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
