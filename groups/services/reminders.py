"""Keeping the public index of due reminders in step with the group (society.reminders holds
ids and times only; groups.reminders says what a reminder says; groups.rules says when).

Each keeper is called by the service that changes what its reminder is about, in that
service's transaction: meetings scheduled, moved or cancelled, commitments added or marked,
attendance recorded, the mission adopted or reviewed, the norms saved."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from society.reminders import reminder_clear, reminder_set, reminders_reopen

from ..models import Commitment, Meeting
from ..rules import (
    WHOLE_GROUP,
    attendance_low,
    charter_review_due,
    commitment_nudge_due,
    commitments_open,
    mission_review_due,
    no_meeting_due,
)
from .context import current_group

MEETING_REMINDERS = {"meeting_24h": timedelta(hours=24), "meeting_1h": timedelta(hours=1)}


def meeting_reminders_keep(meeting: Meeting, *, previous_start: datetime | None = None) -> None:
    """Remind 24 hours and 1 hour before `meeting` starts (moved: at the new times; cancelled:
    not at all). A reminder whose time has already passed is not sent late.

    A meeting also sets when the point-persons hear that none is planned (pp_no_meeting) and
    when commitments made at the meeting before it (before its old time too, if it moved:
    `previous_start`) are nudged, halfway to it."""
    group = current_group()
    for kind, before in MEETING_REMINDERS.items():
        if meeting.cancelled_at is not None:
            reminder_clear(group=group, kind=kind, object_id=meeting.pk)
        else:
            reminder_set(
                group=group, kind=kind, object_id=meeting.pk, due_at=meeting.starts_at - before
            )
    no_meeting_nudge_keep()
    around = Meeting.objects.filter(cancelled_at__isnull=True).exclude(pk=meeting.pk)
    touched = {meeting}
    for start in {meeting.starts_at, previous_start or meeting.starts_at}:
        before = around.filter(starts_at__lt=start).order_by("-starts_at", "-pk").first()
        if before is not None:
            touched.add(before)
    for each in touched:
        commitment_nudge_keep(each)


def commitment_nudge_keep(meeting: Meeting) -> None:
    """Nudge the owners of the commitments made at `meeting` halfway to the next meeting (a
    week after it if none is planned); no nudge once the meeting is cancelled or none of its
    commitments is open."""
    group = current_group()
    if meeting.cancelled_at is not None or not commitments_open(meeting_id=meeting.pk).exists():
        reminder_clear(group=group, kind="commitment_nudge", object_id=meeting.pk)
        return
    reminder_set(
        group=group,
        kind="commitment_nudge",
        object_id=meeting.pk,
        due_at=commitment_nudge_due(meeting),
    )


def _whole_group_keep(kind: str, due) -> None:
    """Remind the group of `kind` at `due` (None: not at all)."""
    group = current_group()
    if due is None:
        reminder_clear(group=group, kind=kind, object_id=WHOLE_GROUP)
    else:
        reminder_set(group=group, kind=kind, object_id=WHOLE_GROUP, due_at=due)


def no_meeting_nudge_keep() -> None:
    """Tell the point-persons when the group will have gone 45 days without a meeting."""
    _whole_group_keep("pp_no_meeting", no_meeting_due(current_group()))


def attendance_nudge_keep(meeting: Meeting) -> None:
    """After attendance at `meeting` is recorded: if the group's attendance over its last three
    meetings is under half, the point-persons are told now, once for this meeting (recording
    it again changes nothing; a correction that lifts it above half withdraws a nudge not yet
    sent)."""
    group = current_group()
    low = attendance_low()
    if low and low["latest"] == meeting.pk:
        reminder_set(
            group=group,
            kind="pp_attendance",
            object_id=meeting.pk,
            due_at=meeting.held_at or timezone.now(),
            late_ok=True,
        )
    elif not low:
        reminder_clear(group=group, kind="pp_attendance", object_id=meeting.pk)


def mission_review_keep() -> None:
    """Remind every member six months after the mission's adoption or last review."""
    _whole_group_keep("mission_review", mission_review_due())


def charter_review_keep() -> None:
    """Remind every member when the norms are due for a look, at the group's rhythm."""
    _whole_group_keep("charter_review", charter_review_due(current_group()))


# What stays true while a group is paused, so a resumed group still hears of it.
RESUMED_KINDS = ["mission_review", "charter_review", "pp_no_meeting"]


def group_reminders_resume() -> int:
    """A paused or concluded group is active again: a review or the no-meeting nudge that
    fell due meanwhile (and was not sent, being paused) goes now, if the rule still says so
    (the renderer checks again when it sends it)."""
    return reminders_reopen(group=current_group(), kinds=RESUMED_KINDS, object_id=WHOLE_GROUP)


def group_reminders_keep() -> int:
    """Index every reminder this group's present state calls for: meetings to come, nudges
    about open commitments, the mission and norms reviews, the point-persons' meeting nudge.
    Idempotent (what is indexed already at the same time is left as it is). Run when a group
    becomes ready, and once by `manage.py reminders_backfill` for groups older than the index.
    Returns how many meetings it looked at."""
    mission_review_keep()
    charter_review_keep()
    no_meeting_nudge_keep()
    open_at = Commitment.objects.filter(reviewed_at__isnull=True).values("meeting_id")
    meetings = Meeting.objects.filter(cancelled_at__isnull=True).filter(
        Q(starts_at__gt=timezone.now()) | Q(pk__in=open_at)
    )
    for meeting in meetings:
        if meeting.starts_at > timezone.now():
            meeting_reminders_keep(meeting)
        commitment_nudge_keep(meeting)
    return len(meetings)
