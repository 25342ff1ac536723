"""Reads inside the current group schema."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, Count, IntegerField, QuerySet, Value, When
from django.utils import timezone

from .models import (
    Achievement,
    Attendance,
    Commitment,
    Invitation,
    Meeting,
    Membership,
    Minutes,
    Mission,
    PollVote,
    SchedulingPoll,
    WorkerCheck,
)
from .scheduling import rank_slots


def membership_get_active(*, user_id: int) -> Membership | None:
    """The active membership of `user_id` in this group, or None."""
    return Membership.objects.filter(user_id=user_id, is_active=True).first()


def membership_list() -> QuerySet[Membership]:
    """Active members with their user and institution, point-persons first (one query)."""
    point_person_first = Case(
        When(role=Membership.Role.POINT_PERSON, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return (
        Membership.objects.filter(is_active=True)
        .select_related("user", "user__institution")
        .order_by(point_person_first, "user__full_name", "pk")
    )


def worker_check_list(*, limit: int = 5) -> list[WorkerCheck]:
    """The latest worker checks."""
    return list(WorkerCheck.objects.all()[:limit])


def invitation_list_pending() -> list[Invitation]:
    """Invitations not yet accepted and not expired, newest first."""
    return list(Invitation.objects.filter(accepted_at__isnull=True, expires_at__gt=timezone.now()))


def mission_current() -> Mission | None:
    """The mission version in force, if the group has written one."""
    return Mission.objects.order_by("-version").first()


def meeting_next() -> Meeting | None:
    """The next meeting that has not started yet."""
    return Meeting.objects.filter(starts_at__gte=timezone.now()).order_by("starts_at").first()


def commitment_list_open_for(*, user_id: int, limit: int = 10) -> list[Commitment]:
    """`user_id`'s latest commitments not yet reviewed, with their meeting (one query)."""
    return list(
        Commitment.objects.filter(owner_id=user_id, reviewed_at__isnull=True)
        .select_related("meeting")
        .order_by("-meeting__starts_at", "-pk")[:limit]
    )


def dashboard_get(*, user_id: int) -> dict[str, object]:
    """Everything the group dashboard shows, in a fixed number of queries."""
    recent_minutes = list(
        Minutes.objects.select_related("meeting")
        .only("published_at", "meeting__id", "meeting__title")
        .order_by("-published_at")[:3]
    )
    recent_wins = list(
        Achievement.objects.select_related("owner")
        .only("kind", "text", "owner__full_name", "owner__email")
        .order_by("-created_at")[:3]
    )
    return {
        "next_meeting": meeting_next(),
        "my_commitments": commitment_list_open_for(user_id=user_id),
        "my_open_count": Commitment.objects.filter(
            owner_id=user_id, reviewed_at__isnull=True
        ).count(),
        "mission": mission_current(),
        "recent_minutes": recent_minutes,
        "recent_wins": recent_wins,
        "memberships": list(
            membership_list().only(
                "role", "user__full_name", "user__email", "user__institution__name"
            )
        ),
    }


def meeting_get(*, pk: int) -> Meeting | None:
    return Meeting.objects.select_related("note_taker").filter(pk=pk).first()


def meeting_detail(*, meeting: Meeting) -> dict[str, object]:
    """Agenda, attendance, this meeting's commitments and the previous meeting's open ones, in
    a fixed number of queries whatever the size of the group or its history."""
    previous = (
        Meeting.objects.filter(starts_at__lt=meeting.starts_at).order_by("-starts_at").first()
    )
    carried = []
    if previous is not None:
        carried = list(
            Commitment.objects.filter(meeting=previous).select_related("owner").order_by("pk")
        )
    return {
        "agenda": list(meeting.agenda.select_related("member")),
        "attendance": {a.member_id: a.present for a in meeting.attendance.all()},
        "commitments": list(meeting.commitments.select_related("owner")),
        "carried": carried,
        "previous": previous,
        "members": [m.user for m in membership_list().exclude(role=Membership.Role.EVALUATOR)],
        "has_minutes": Minutes.objects.filter(meeting=meeting).exists(),
    }


def attendance_summary(*, since: datetime | None = None) -> dict[str, object]:
    """Per member: meetings held, attended, rate, and whether they reached the 50 % "win"."""
    held = Meeting.objects.filter(held_at__isnull=False)
    if since is not None:
        held = held.filter(starts_at__gte=since)
    held_count = held.count()
    present = dict(
        Attendance.objects.filter(meeting__in=held, present=True)
        .values_list("member_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = []
    for m in membership_list().exclude(role=Membership.Role.EVALUATOR):
        attended = present.get(m.user_id, 0)
        rate = attended / held_count if held_count else 0.0
        rows.append({"user": m.user, "attended": attended, "rate": rate, "win": rate >= 0.5})
    group_rate = sum(r["rate"] for r in rows) / len(rows) if rows else 0.0
    return {"held": held_count, "rows": rows, "group_rate": group_rate}


def poll_ranked(*, poll: SchedulingPoll):
    """The poll's times, ranked by fairness to the worst-placed member, then head count."""
    slots = list(poll.slots.all())
    votes = {(v.slot_id, v.voter_id): v.available for v in PollVote.objects.filter(slot__poll=poll)}
    members = [m.user for m in membership_list().exclude(role=Membership.Role.EVALUATOR)]
    return rank_slots(slots, members, votes, poll.duration_minutes)
