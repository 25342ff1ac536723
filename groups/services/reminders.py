"""Keeping the public index of due reminders in step with the group's meetings
(society.reminders holds ids and times only; groups.reminders says what a reminder says)."""

from __future__ import annotations

from datetime import timedelta

from society.reminders import reminder_clear, reminder_set

from ..models import Meeting
from .context import current_group

MEETING_REMINDERS = {"meeting_24h": timedelta(hours=24), "meeting_1h": timedelta(hours=1)}


def meeting_reminders_keep(meeting: Meeting) -> None:
    """Remind 24 hours and 1 hour before `meeting` starts (moved: at the new times; cancelled:
    not at all). A reminder whose time has already passed is not sent late."""
    group = current_group()
    for kind, before in MEETING_REMINDERS.items():
        if meeting.cancelled_at is not None:
            reminder_clear(group=group, kind=kind, object_id=meeting.pk)
        else:
            reminder_set(
                group=group, kind=kind, object_id=meeting.pk, due_at=meeting.starts_at - before
            )
