"""Meetings as tests need them: scheduled through the group's services (so the reminders'
index is kept), then moved in time, as if days had passed."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from groups.models import Meeting
from groups.services.meetings import meeting_schedule
from groups.services.reminders import MEETING_REMINDERS
from society.models import OutboundEmail, ReminderDue


def _forget_invitations(meetings) -> None:
    """Their invitations went days ago, as far as the test is concerned."""
    OutboundEmail.objects.filter(
        kind="meeting_invitation", context__meeting__in=[m.pk for m in meetings]
    ).delete()


def meetings_due(world, count: int, title: str, *, minutes: int = 30) -> list[Meeting]:
    """`count` meetings of Alpha scheduled days ahead; then time passes and they start in
    `minutes` (one more minute each), so both reminders of each are due."""
    meetings = []
    with tenant_context(world.alpha):
        for n in range(count):
            meetings.append(
                meeting_schedule(
                    title=f"{title} {n}" if count > 1 else title,
                    starts_at=timezone.now() + timedelta(days=3, minutes=n),
                    duration_minutes=60,
                    link="",
                    actor=world.alice,
                )
            )
        for n, meeting in enumerate(meetings):
            starts = timezone.now() + timedelta(minutes=minutes + n)
            Meeting.objects.filter(pk=meeting.pk).update(starts_at=starts)
            meeting.starts_at = starts
            for kind, before in MEETING_REMINDERS.items():
                ReminderDue.objects.filter(
                    group=world.alpha, kind=kind, object_id=meeting.pk
                ).update(due_at=starts - before)
    _forget_invitations(meetings)
    return meetings


def meeting_held(world, title: str, *, days_ago: int = 1) -> Meeting:
    """A meeting of Alpha scheduled ahead, then held `days_ago` days ago."""
    with tenant_context(world.alpha):
        meeting = meeting_schedule(
            title=title,
            starts_at=timezone.now() + timedelta(days=2),
            duration_minutes=60,
            link="",
            actor=world.alice,
        )
        starts = timezone.now() - timedelta(days=days_ago)
        Meeting.objects.filter(pk=meeting.pk).update(starts_at=starts)
        meeting.starts_at = starts
    _forget_invitations([meeting])
    return meeting
