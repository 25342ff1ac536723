"""Availability polls for choosing a meeting time."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import User

from ..models import (
    PollSlot,
    PollVote,
    SchedulingPoll,
)
from .context import paused_refuse

POLL_MAX_TIMES = 30


@transaction.atomic
def poll_create(
    *, title: str, duration_minutes: int, starts: list[datetime], actor: User
) -> SchedulingPoll:
    """Propose times (aware datetimes) for a meeting. Raises ValidationError in a paused group,
    without any time, with more than POLL_MAX_TIMES, or with one in the past."""
    paused_refuse()
    starts = sorted({s.astimezone(UTC) for s in starts})
    if not starts:
        raise ValidationError(_("Propose at least one time."))
    if len(starts) > POLL_MAX_TIMES:
        raise ValidationError(
            _("Propose at most %(n)s times: members answer for each one.") % {"n": POLL_MAX_TIMES}
        )
    if any(s <= timezone.now() for s in starts):
        raise ValidationError(_("Propose times in the future."))
    poll = SchedulingPoll.objects.create(
        title=title, duration_minutes=duration_minutes, created_by=actor
    )
    PollSlot.objects.bulk_create([PollSlot(poll=poll, starts_at=s) for s in starts])
    return poll


@transaction.atomic
def poll_vote(*, poll: SchedulingPoll, voter: User, available_slot_ids: set[int]) -> None:
    """Record `voter`'s availability for every slot of an open poll (replacing earlier answers)."""
    if poll.closed_at is not None:
        raise ValidationError(_("This poll is closed: the meeting has been scheduled."))
    for slot in poll.slots.all():
        PollVote.objects.update_or_create(
            slot=slot, voter=voter, defaults={"available": slot.pk in available_slot_ids}
        )
