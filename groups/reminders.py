"""A group's reminders: who gets one and what it says (read in the group's schema when they are
sent; groups.services.reminders keeps when they are due, by the rules in groups.rules).

Every renderer checks again, when the e-mail goes out, that it still applies (the reader is
still in the group in the right role, the thing is still due at the time recorded) and raises
EmailNoLongerApplies otherwise. Times are in the reader's zone, each e-mail links to the page
where the reader acts, and none carries anything confidential.

- meeting_24h, meeting_1h: 24 hours and 1 hour before a meeting, to each participating member
  (never the evaluator), with the meeting's link, the member's open commitments (what they
  planned to do) and the meeting's .ics.
- commitment_nudge: halfway to the next meeting, to each member with commitments still open
  from the meeting they were made at.
- mission_review, charter_review: when the mission (six months) or the norms (the group's
  rhythm) are due for a look, to every participating member.
- pp_no_meeting, pp_attendance, pp_join_request: to the point-persons.

`REMINDER_KINDS` lists them for crossschema.reminders, which registers them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from directory.models import JoinRequest
from society.models import OutboundEmail, User
from society.outbox import EmailNoLongerApplies
from society.reminders import ReminderKind
from society.timezones import zone_get, zone_name
from society.urls_helpers import group_url

from .emails import reader
from .models import PARTICIPANT_ROLES, Commitment, Meeting, Membership
from .rules import (
    attendance_low,
    charter_review_due,
    commitment_nudge_due,
    commitments_open,
    mission_review_due,
    no_meeting_due,
    participants,
    point_persons,
)
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


def _day_word(starts_at: datetime, zone) -> str:
    """When the meeting is, seen from the reader's today (the reminder may have waited for
    the end of their quiet hours, or for their digest)."""
    today = timezone.now().astimezone(zone).date()
    day = starts_at.astimezone(zone).date()
    if day == today:
        return _("Today")
    if (day - today).days == 1:
        return _("Tomorrow")
    return _("On %(day)s") % {"day": f"{starts_at.astimezone(zone):%A} {day.day} {day:%B}"}


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
                "zone": zone_name(zone_get(user.time_zone).key),
                "soon": email.kind == "meeting_1h",
                "day": _day_word(meeting.starts_at, zone_get(user.time_zone)),
                "commitments": open_commitments,
                "url": group_url(group.slug, f"/meetings/{meeting.pk}/"),
            },
        )
    subject = _("Reminder: %(group)s, %(title)s") % {"group": group.name, "title": meeting.title}
    message = EmailMessage(subject=subject, body=body, to=[user.email])
    method = calendar_method(meeting)
    message.attach("meeting.ics", meeting_one_ics(meeting), f"text/calendar; method={method}")
    return message


# --- The other kinds: a shared shape -----------------------------------------------------------

POINT_PERSON = (Membership.Role.POINT_PERSON,)


def _due(email: OutboundEmail) -> datetime:
    return datetime.fromisoformat(email.context["due"])


def _active() -> None:
    """A paused or concluded group gets no reminders."""
    if current_group().lifecycle != current_group().Lifecycle.ACTIVE:
        raise EmailNoLongerApplies


def _still(email: OutboundEmail, due_now: datetime | None) -> None:
    """The group is active and the reminder is still due at the time it was recorded for
    (moved, reviewed, answered: a later one tells, or none)."""
    _active()
    if due_now != _due(email):
        raise EmailNoLongerApplies


def _message(
    user: User, *, subject: str, template: str, path: str, context: dict[str, Any]
) -> EmailMessage:
    """A plain-text reminder to `user`, times written in their zone, linking to `path`."""
    group = current_group()
    zone = zone_get(user.time_zone)
    with timezone.override(zone):
        body = render_to_string(
            template,
            {
                "group": group,
                "zone": zone_name(zone.key),
                "url": group_url(group.slug, path),
                **context,
            },
        )
    return EmailMessage(subject=subject % {"group": group.name}, body=body, to=[user.email])


def _users(memberships) -> list[User]:
    return [m.user for m in memberships if m.user.is_active]


# --- commitment_nudge: one e-mail per owner, listing their open commitments -----------------


def commitment_nudge_recipients(meeting_id: int) -> list[User]:
    """Members with commitments still open from the meeting (if it was not cancelled)."""
    if not Meeting.objects.filter(pk=meeting_id, cancelled_at__isnull=True).exists():
        return []
    owners = commitments_open(meeting_id=meeting_id).values("owner_id")
    return _users(participants().filter(user_id__in=owners))


def commitment_nudge(email: OutboundEmail) -> EmailMessage:
    meeting = Meeting.objects.filter(pk=email.context["object"], cancelled_at__isnull=True).first()
    if meeting is None:
        raise EmailNoLongerApplies
    _still(email, commitment_nudge_due(meeting))
    user, _membership = reader(email, PARTICIPANT_ROLES)
    planned = list(commitments_open(meeting_id=meeting.pk, owner_id=user.pk).order_by("pk"))
    if not planned:
        raise EmailNoLongerApplies  # all marked already
    following = (
        Meeting.objects.filter(starts_at__gt=meeting.starts_at, cancelled_at__isnull=True)
        .order_by("starts_at")
        .first()
    )
    path = f"/meetings/{following.pk}/" if following else f"/meetings/{meeting.pk}/"
    return _message(
        user,
        subject=_("Halfway to your next meeting: %(group)s"),
        template="emails/groups/commitment_nudge.txt",
        path=path,
        context={"meeting": meeting, "next_meeting": following, "commitments": planned},
    )


# --- mission_review, charter_review: every participating member -------------------------------
# The seed asks each member to make sure the group's mission still fits their own and the
# group to revisit it about every six months: a matter for all of them, not the point-person
# alone (who records the review on the mission page).


def members_recipients(_object_id: int) -> list[User]:
    """Every participating member (not the evaluator)."""
    return _users(participants())


def _review(email: OutboundEmail, due, *, subject: str, template: str, path: str):
    _still(email, due)
    user, membership = reader(email, PARTICIPANT_ROLES)
    return _message(
        user,
        subject=subject,
        template=template,
        path=path,
        context={
            "due": _due(email),
            "point_person": membership.role == Membership.Role.POINT_PERSON,
        },
    )


def mission_review(email: OutboundEmail) -> EmailMessage:
    return _review(
        email,
        mission_review_due(),
        subject=_("Time to look at your mission again: %(group)s"),
        template="emails/groups/mission_review.txt",
        path="/mission/",
    )


def charter_review(email: OutboundEmail) -> EmailMessage:
    return _review(
        email,
        charter_review_due(current_group()),
        subject=_("Time to look at your norms again: %(group)s"),
        template="emails/groups/charter_review.txt",
        path="/charter/",
    )


# --- The point-persons' nudges -----------------------------------------------------------------


def point_persons_recipients(_object_id: int) -> list[User]:
    return _users(point_persons())


def pp_no_meeting(email: OutboundEmail) -> EmailMessage:
    group = current_group()
    _still(email, no_meeting_due(group))
    user, _membership = reader(email, POINT_PERSON)
    last = Meeting.objects.filter(cancelled_at__isnull=True).order_by("-starts_at").first()
    return _message(
        user,
        subject=_("No meeting planned: %(group)s"),
        template="emails/groups/pp_no_meeting.txt",
        path="/polls/",
        context={"last_meeting": last, "since": last.starts_at if last else group.ready_at},
    )


def attendance_recipients(meeting_id: int) -> list[User]:
    """The point-persons, while attendance up to this meeting is still under half."""
    low = attendance_low()
    return point_persons_recipients(meeting_id) if low and low["latest"] == meeting_id else []


def pp_attendance(email: OutboundEmail) -> EmailMessage:
    _active()
    low = attendance_low()
    if not low or low["latest"] != email.context["object"]:
        raise EmailNoLongerApplies  # corrected since, or a later meeting's nudge tells
    user, _membership = reader(email, POINT_PERSON)
    return _message(
        user,
        subject=_("Attendance is under half: %(group)s"),
        template="emails/groups/pp_attendance.txt",
        path="/attendance/",
        context=low,
    )


def _join_request_pending(request_id: int) -> JoinRequest | None:
    return (
        JoinRequest.objects.select_related("user")
        .filter(pk=request_id, group=current_group(), status=JoinRequest.Status.PENDING)
        .first()
    )


def join_request_recipients(request_id: int) -> list[User]:
    """The point-persons, while the request waits for an answer."""
    if _join_request_pending(request_id) is None:
        return []
    return point_persons_recipients(request_id)


def pp_join_request(email: OutboundEmail) -> EmailMessage:
    request = _join_request_pending(email.context["object"])
    if request is None:
        raise EmailNoLongerApplies  # answered (or withdrawn) meanwhile
    _active()
    user, _membership = reader(email, POINT_PERSON)
    return _message(
        user,
        subject=_("A request to join is waiting: %(group)s"),
        template="emails/groups/pp_join_request.txt",
        path="/join-requests/",
        context={"asked_at": request.created_at, "name": request.user.display_name},
    )


REMINDER_KINDS = (
    *(
        ReminderKind(kind, meeting_reminder_recipients, meeting_reminder)
        for kind in MEETING_REMINDERS
    ),
    ReminderKind("commitment_nudge", commitment_nudge_recipients, commitment_nudge),
    ReminderKind("mission_review", members_recipients, mission_review),
    ReminderKind("charter_review", members_recipients, charter_review),
    ReminderKind("pp_no_meeting", point_persons_recipients, pp_no_meeting),
    ReminderKind("pp_attendance", attendance_recipients, pp_attendance),
    ReminderKind("pp_join_request", join_request_recipients, pp_join_request),
)
