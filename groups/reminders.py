"""Reminders about a group's meetings: who gets one and what it says (read in the group's
schema when they are sent; society.reminders keeps when they are due).

A meeting reminder goes 24 hours and 1 hour before the meeting to each participating member
(never the evaluator), in the member's own zone, with the meeting's link, the member's open
commitments (what they planned to do; nothing confidential) and the meeting's .ics."""

from __future__ import annotations

from datetime import datetime

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import OutboundEmail, User
from society.outbox import EmailNoLongerApplies
from society.timezones import zone_get
from society.urls_helpers import group_url

from .emails import reader
from .models import PARTICIPANT_ROLES, Commitment, Meeting, Membership
from .scheduling import calendar_method
from .services.context import current_group
from .services.meetings import meeting_one_ics
from .services.reminders import MEETING_REMINDERS


def meeting_reminder_recipients(meeting_id: int) -> list[User]:
    """Who is reminded of a meeting: its participating members, if it still takes place."""
    meeting = Meeting.objects.filter(pk=meeting_id, cancelled_at__isnull=True).first()
    if meeting is None:
        return []
    members = Membership.objects.filter(is_active=True, role__in=PARTICIPANT_ROLES)
    return [m.user for m in members.select_related("user").order_by("user_id")]


def meeting_reminder(email: OutboundEmail) -> EmailMessage:
    """The reminder e-mail, in the recipient's zone."""
    group = current_group()
    meeting = Meeting.objects.filter(pk=email.context["object"], cancelled_at__isnull=True).first()
    if (
        meeting is None  # cancelled
        or group.lifecycle != group.Lifecycle.ACTIVE  # paused or concluded: no reminders
        or meeting.starts_at <= timezone.now()  # a late reminder helps nobody
        or meeting.starts_at - MEETING_REMINDERS[email.kind]
        != datetime.fromisoformat(email.context["due"])  # moved: the new time's reminder tells
    ):
        raise EmailNoLongerApplies
    user, _membership = reader(email, PARTICIPANT_ROLES)
    open_commitments = Commitment.objects.filter(
        owner=user, reviewed_at__isnull=True, meeting__starts_at__lt=meeting.starts_at
    ).order_by("meeting__starts_at", "pk")
    with timezone.override(zone_get(user.time_zone)):
        body = render_to_string(
            "emails/groups/meeting_reminder.txt",
            {
                "group": group,
                "meeting": meeting,
                "zone": zone_get(user.time_zone).key,
                "soon": email.kind == "meeting_1h",
                "commitments": open_commitments,
                "url": group_url(group.slug, f"/meetings/{meeting.pk}/"),
            },
        )
    subject = _("Reminder: %(group)s, %(title)s") % {"group": group.name, "title": meeting.title}
    message = EmailMessage(subject=subject, body=body, to=[user.email])
    method = calendar_method(meeting)
    message.attach("meeting.ics", meeting_one_ics(meeting), f"text/calendar; method={method}")
    return message
