"""When something in a group is due a nudge: the rules both the reminders (groups.services.
reminders keeps the index, groups.reminders re-checks at sending time) and the dashboard
(groups.selectors) read, so an e-mail and the page never disagree.

Every function reads the current group's schema (and, for join requests, the public
directory); none writes."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from directory.models import JOIN_REQUEST_NUDGE_AFTER, JoinRequest
from society.models import PeerGroup

from .models import (
    MISSION_REVIEW_EVERY,
    PARTICIPANT_ROLES,
    Attendance,
    Charter,
    Commitment,
    Meeting,
    Membership,
    Mission,
)

# The point-persons are nudged when no meeting has been held or planned for this long.
NO_MEETING_WITHIN = timedelta(days=45)
# ... and when the group's attendance over its last three meetings falls under half
# (the seed's 50 % "win").
ATTENDANCE_MEETINGS = 3
ATTENDANCE_WIN = 0.5
# A mid-cycle nudge about one's commitments is due halfway to the next meeting, or this long
# after the meeting they were made at when no next meeting is scheduled.
NUDGE_WITHOUT_NEXT_MEETING = timedelta(days=7)
# Reminders about the group as a whole (not one of its rows) use this object id.
WHOLE_GROUP = 0


def add_months(moment: datetime, months: int) -> datetime:
    """`moment` plus whole calendar months (the 31st becomes the month's last day)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# --- Reviews (every participating member) -----------------------------------------------------


def review_due(*, adopted_at: datetime, last_reviewed_at: datetime | None) -> datetime:
    """When a mission next comes up for review: six months after its last review, or after
    its adoption if it was never reviewed."""
    return (last_reviewed_at or adopted_at) + MISSION_REVIEW_EVERY


def mission_review_due() -> datetime | None:
    """When the mission in force next comes up for review, if the group has one."""
    mission = (
        Mission.objects.annotate(last_reviewed_at=Max("reviews__reviewed_at"))
        .order_by("-version")
        .first()
    )
    if mission is None:
        return None
    return review_due(adopted_at=mission.adopted_at, last_reviewed_at=mission.last_reviewed_at)


def charter_review_due(group: PeerGroup) -> datetime | None:
    """When the norms are next due for a look, at the group's chosen rhythm: after they were
    last saved, or after the group became ready while they were never saved; None for
    "never"."""
    charter = Charter.objects.filter(singleton=True).first()
    every = charter.review_every_months if charter else Charter.ReviewEvery.YEAR
    since = charter.updated_at if charter else (group.ready_at or group.created_at)
    if not every:
        return None
    return add_months(since, every)


# --- Commitments (their owner) ---------------------------------------------------------------


def commitment_nudge_due(meeting: Meeting) -> datetime:
    """Halfway between `meeting` and the next meeting scheduled after it, or a week after it
    when none is."""
    following = (
        Meeting.objects.filter(starts_at__gt=meeting.starts_at, cancelled_at__isnull=True)
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    if following is None:
        return meeting.starts_at + NUDGE_WITHOUT_NEXT_MEETING
    return meeting.starts_at + (following - meeting.starts_at) / 2


def commitments_open(*, meeting_id: int, owner_id: int | None = None):
    """The commitments made at a meeting that are still open (not yet marked at a meeting)."""
    open_ = Commitment.objects.filter(meeting_id=meeting_id, reviewed_at__isnull=True)
    return open_ if owner_id is None else open_.filter(owner_id=owner_id)


# --- Point-persons' nudges -------------------------------------------------------------------


def no_meeting_due(group: PeerGroup) -> datetime | None:
    """When the group will have gone 45 days without a meeting: 45 days after the start of its
    latest meeting (held or planned, not cancelled), or after it became ready if it has none."""
    latest = Meeting.objects.filter(cancelled_at__isnull=True).aggregate(latest=Max("starts_at"))[
        "latest"
    ]
    since = latest or group.ready_at
    return since + NO_MEETING_WITHIN if since else None


def attendance_recent() -> tuple[int, int, list[int]]:
    """Attendance over the last three meetings held: (present, recorded, those meetings' ids).
    One query."""
    recent = list(
        Meeting.objects.filter(held_at__isnull=False, cancelled_at__isnull=True)
        .order_by("-starts_at", "-pk")
        .values_list("pk", flat=True)[:ATTENDANCE_MEETINGS]
    )
    figures = Attendance.objects.filter(meeting_id__in=recent).aggregate(
        recorded=Count("pk"), present=Count("pk", filter=Q(present=True))
    )
    return figures["present"], figures["recorded"], recent


def attendance_low() -> dict[str, int] | None:
    """Attendance over the last three meetings held, when it is under 50 % (with three held
    and recorded): present, recorded, percent, and the latest of those meetings; else None."""
    present, recorded, recent = attendance_recent()
    if len(recent) < ATTENDANCE_MEETINGS or not recorded or present / recorded >= ATTENDANCE_WIN:
        return None
    return {
        "present": present,
        "recorded": recorded,
        "percent": round(100 * present / recorded),
        "meetings": ATTENDANCE_MEETINGS,
        "latest": recent[0],
    }


def join_requests_waiting(group: PeerGroup, *, now: datetime | None = None):
    """Requests to join `group` unanswered for more than three days (public rows, oldest
    first)."""
    before = (now or timezone.now()) - JOIN_REQUEST_NUDGE_AFTER
    return JoinRequest.objects.filter(
        group=group, status=JoinRequest.Status.PENDING, created_at__lte=before
    ).order_by("created_at", "pk")


def join_request_nudge_due(request: JoinRequest) -> datetime:
    return request.created_at + JOIN_REQUEST_NUDGE_AFTER


# --- Who hears ---------------------------------------------------------------------------------


def participants():
    """Active members who take part (not the evaluator), with their accounts, by user id."""
    return (
        Membership.objects.filter(is_active=True, role__in=PARTICIPANT_ROLES)
        .select_related("user")
        .order_by("user_id")
    )


def point_persons():
    """Active point-persons, with their accounts, by user id."""
    return participants().filter(role=Membership.Role.POINT_PERSON)
