"""Reads inside the current group schema."""

from __future__ import annotations

from base64 import b64decode
from datetime import datetime

from django.db import connection
from django.db.models import (
    Case,
    Count,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from society.models import Institution, PeerGroup, User

from .models import (
    Achievement,
    AgendaItem,
    Attendance,
    Commitment,
    Invitation,
    Meeting,
    Membership,
    Minutes,
    Mission,
    MissionReview,
    PollVote,
    SchedulingPoll,
    WorkerCheck,
)
from .rules import (
    attendance_low,
    charter_review_due,
    join_requests_waiting,
    no_meeting_due,
    review_due,
)
from .scheduling import rank_slots
from .services.meetings import agenda_notes_texts


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
    """Invitations not yet accepted, revoked or expired, newest first."""
    return list(
        Invitation.objects.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
    )


def mission_current() -> Mission | None:
    """The mission version in force, if the group has written one."""
    return Mission.objects.order_by("-version").first()


def meeting_next() -> Meeting | None:
    """The next meeting that has not started yet."""
    return (
        Meeting.objects.filter(starts_at__gte=timezone.now(), cancelled_at__isnull=True)
        .order_by("starts_at")
        .first()
    )


def meeting_get(*, pk: int) -> Meeting | None:
    """A meeting, or None."""
    return Meeting.objects.filter(pk=pk).first()


# The meeting page is the group's busiest page. Its data comes back in one round trip as JSON
# built by PostgreSQL, so the page costs the same whatever the group's size or history and
# spends no time building model instances (bench/pages.py measures it). Tables are named from
# the models' _meta; unqualified names resolve in the current group's schema.
def _display_name_sql(alias: str) -> str:
    """SQL for User.display_name: the full name, or the e-mail's local part."""
    return f"coalesce(nullif({alias}.full_name, ''), split_part({alias}.email, '@', 1))"


# The tables the two page queries read, by the names their SQL uses.
_TABLES = {
    name: model._meta.db_table
    for name, model in {
        "achievement": Achievement,
        "agenda": AgendaItem,
        "attendance": Attendance,
        "commitment": Commitment,
        "institution": Institution,
        "meeting": Meeting,
        "membership": Membership,
        "minutes": Minutes,
        "mission": Mission,
        "review": MissionReview,
        "user": User,
    }.items()
}

_MEETING_PAGE_SQL = """
WITH previous AS (
    SELECT p.id FROM {meeting} p
    WHERE p.cancelled_at IS NULL
      AND p.starts_at < (SELECT starts_at FROM {meeting} WHERE id = %(meeting)s)
    ORDER BY p.starts_at DESC LIMIT 1
)
SELECT
  (SELECT coalesce(json_agg(json_build_object(
      'pk', a.id, 'title', a.title, 'minutes', a.minutes, 'confidential', a.confidential,
      'notes', a.notes, 'sealed', encode(a.notes_sealed, 'base64')
    ) ORDER BY a.position, a.id), '[]')
   FROM {agenda} a WHERE a.meeting_id = %(meeting)s),
  (SELECT coalesce(json_agg(json_build_object(
      'pk', c.id, 'this_meeting', c.meeting_id = %(meeting)s, 'owner_id', c.owner_id,
      'owner_name', {owner_name}, 'text', c.text, 'outcome', c.outcome,
      'reviewed', c.reviewed_at IS NOT NULL
    ) ORDER BY c.id), '[]')
   FROM {commitment} c JOIN {user} o ON o.id = c.owner_id
   WHERE c.meeting_id = %(meeting)s OR c.meeting_id = (SELECT id FROM previous)),
  (SELECT coalesce(json_agg(json_build_object(
      'pk', u.id, 'display_name', {member_name}, 'present', t.present
    ) ORDER BY m.role <> %(point_person)s, u.full_name, m.id), '[]')
   FROM {membership} m JOIN {user} u ON u.id = m.user_id
   LEFT JOIN {attendance} t ON t.meeting_id = %(meeting)s AND t.member_id = m.user_id
   WHERE m.is_active AND m.role <> %(evaluator)s),
  EXISTS (SELECT 1 FROM {minutes} WHERE meeting_id = %(meeting)s),
  (SELECT {taker_name} FROM {meeting} x JOIN {user} t ON t.id = x.note_taker_id
   WHERE x.id = %(meeting)s)
""".format(
    **_TABLES,
    owner_name=_display_name_sql("o"),
    member_name=_display_name_sql("u"),
    taker_name=_display_name_sql("t"),
)


def meeting_detail(*, meeting: Meeting) -> dict[str, object]:
    """Agenda (with notes, confidential ones opened for the member reading them), attendance,
    this meeting's commitments and the previous meeting's, the members who take part,
    whether minutes exist and the note-taker's name: one query whatever the size of the
    group or its history."""
    with connection.cursor() as cursor:
        cursor.execute(
            _MEETING_PAGE_SQL,
            {
                "meeting": meeting.pk,
                "point_person": Membership.Role.POINT_PERSON,
                "evaluator": Membership.Role.EVALUATOR,
            },
        )
        agenda, commitments, members, has_minutes, note_taker = cursor.fetchone()
    outcomes = dict(Commitment.Outcome.choices)
    for c in commitments:
        c["outcome_label"] = outcomes.get(c["outcome"], c["outcome"])
    notes = agenda_notes_texts(
        items=[
            (i["pk"], i["confidential"], i["notes"], i["sealed"] and b64decode(i["sealed"]))
            for i in agenda
        ]
    )
    for item in agenda:
        del item["notes"], item["sealed"]
        item["text"] = notes[item["pk"]]
    return {
        "agenda": agenda,
        "commitments": [c for c in commitments if c["this_meeting"]],
        "carried": [c for c in commitments if not c["this_meeting"]],
        "members": members,
        "has_minutes": has_minutes,
        "note_taker": note_taker,
    }


_DASHBOARD_SQL = """
WITH mine AS (
    SELECT c.id, c.text, m.title AS meeting_title, m.starts_at AS meeting_starts_at
    FROM {commitment} c JOIN {meeting} m ON m.id = c.meeting_id
    WHERE c.owner_id = %(user)s AND c.reviewed_at IS NULL
)
SELECT
  (SELECT row_to_json(n) FROM (
      SELECT id AS pk, title, starts_at, place FROM {meeting}
      WHERE starts_at >= %(now)s AND cancelled_at IS NULL ORDER BY starts_at LIMIT 1) n),
  (SELECT coalesce(json_agg(l ORDER BY l.meeting_starts_at DESC, l.id DESC), '[]') FROM (
      SELECT * FROM mine ORDER BY meeting_starts_at DESC, id DESC LIMIT %(limit)s) l),
  (SELECT count(*) FROM mine),
  (SELECT row_to_json(v) FROM (
      SELECT s.text, s.adopted_at,
        (SELECT max(r.reviewed_at) FROM {review} r WHERE r.mission_id = s.id) AS last_reviewed_at
      FROM {mission} s ORDER BY s.version DESC LIMIT 1) v),
  (SELECT coalesce(json_agg(r ORDER BY r.published_at DESC), '[]') FROM (
      SELECT n.meeting_id, m.title, n.published_at FROM {minutes} n
      JOIN {meeting} m ON m.id = n.meeting_id ORDER BY n.published_at DESC LIMIT 3) r),
  (SELECT coalesce(json_agg(w ORDER BY w.created_at DESC, w.id DESC), '[]') FROM (
      SELECT a.id, a.kind, a.text, a.created_at, {owner_name} AS owner_name
      FROM {achievement} a JOIN {user} o ON o.id = a.owner_id
      ORDER BY a.created_at DESC, a.id DESC LIMIT 3) w),
  (SELECT coalesce(json_agg(json_build_object(
      'name', {member_name}, 'institution', i.name, 'role', m.role
    ) ORDER BY m.role <> %(point_person)s, u.full_name, m.id), '[]')
   FROM {membership} m JOIN {user} u ON u.id = m.user_id
   LEFT JOIN {institution} i ON i.id = u.institution_id
   WHERE m.is_active)
""".format(
    **_TABLES,
    owner_name=_display_name_sql("o"),
    member_name=_display_name_sql("u"),
)


def _parse_times(row: dict | None, *names: str) -> dict | None:
    """JSON carries timestamps as ISO 8601 text; turn the named ones back into datetimes."""
    for name in names:
        if row is not None and row.get(name):
            row[name] = datetime.fromisoformat(row[name])
    return row


def member_rows() -> list[dict[str, str]]:
    """Active members as name, institution and role label, point-persons first."""
    return [
        {
            "name": m.user.display_name,
            "institution": m.user.institution.name if m.user.institution else "",
            "role_label": m.get_role_display(),
        }
        for m in membership_list()
    ]


def dashboard_get(*, user_id: int, limit: int = 10) -> dict[str, object]:
    """Everything the group dashboard shows to a participant: the next meeting, `user_id`'s
    latest open commitments and their count, the mission and when it is due for review,
    recent minutes and wins, and the members. One query whatever the group's size."""
    with connection.cursor() as cursor:
        cursor.execute(
            _DASHBOARD_SQL,
            {
                "user": user_id,
                "now": timezone.now(),
                "limit": limit,
                "point_person": Membership.Role.POINT_PERSON,
            },
        )
        next_meeting, mine, open_count, mission, minutes, wins, members = cursor.fetchone()
    kinds, roles = dict(Achievement.Kind.choices), dict(Membership.Role.choices)
    for win in wins:
        win["kind_label"] = kinds.get(win["kind"], win["kind"])
    for member in members:
        member["role_label"] = roles.get(member["role"], member["role"])
    mission = _parse_times(mission, "adopted_at", "last_reviewed_at")
    return {
        "next_meeting": _parse_times(next_meeting, "starts_at"),
        "my_commitments": [_parse_times(c, "meeting_starts_at") for c in mine],
        "my_open_count": open_count,
        "mission": mission,
        "review_due": mission
        and review_due(
            adopted_at=mission["adopted_at"], last_reviewed_at=mission["last_reviewed_at"]
        ),
        "recent_minutes": [_parse_times(m, "published_at") for m in minutes],
        "recent_wins": wins,
        "memberships": members,
    }


def reviews_due(*, group: PeerGroup, mission_due: datetime | None) -> list[dict[str, object]]:
    """The reviews coming up on the dashboard, soonest first: the mission's (`mission_due`, as
    dashboard_get read it) and the norms' at the group's rhythm (groups.rules, as the
    reminders). One query."""
    reviews = [{"what": "mission", "due": mission_due}] if mission_due else []
    charter_due = charter_review_due(group)
    if charter_due is not None:
        reviews.append({"what": "charter", "due": charter_due})
    return sorted(reviews, key=lambda r: r["due"])


def point_person_nudges(*, group: PeerGroup) -> dict[str, object] | None:
    """What the point-persons' reminders are about, as it stands now (the same rules,
    groups.rules): no meeting held or planned for 45 days (since when), attendance under half
    over the last three meetings (the figures, never names), join requests unanswered for
    more than three days (how many). None for a paused or concluded group, which gets no
    reminders either. Four queries."""
    if group.lifecycle != PeerGroup.Lifecycle.ACTIVE:
        return None
    now = timezone.now()
    quiet_since = no_meeting_due(group)
    return {
        "no_meeting": quiet_since is not None and quiet_since <= now,
        "attendance": attendance_low(),
        "join_requests": join_requests_waiting(group, now=now).count(),
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
