"""A group's export, its own record, as a zip of open formats.

- `group.json`: the group, members, mission versions with their reviews, the charter, goals,
  polls (slots and votes), meetings (agenda with notes, attendance, commitments and their
  outcomes, a pointer to the minutes), achievements with celebrations, and the confidential
  space (threads with their replies);
- `minutes/`: one Markdown file per meeting with published minutes, as published;
- `meetings.ics`: every meeting (iCalendar).

The export page is for point-persons (groups.permissions.access_group_steering), but the rule
for what an exporter sees is applied here: peers-only threads are left out for anyone who may
not see them (the facilitator). Confidential texts (entries, confidential agenda notes) are
included decrypted: the export is the group's own copy, made before the space is destroyed;
after crypto-shredding they are null.

The number of queries does not depend on the group's size or history (each kind of row is
read once, related rows by select_related / prefetch_related; the data key at most twice).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict
from datetime import date, datetime

from django.db import connection
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.text import slugify

from .models import (
    Achievement,
    AgendaItem,
    Attendance,
    Celebration,
    Commitment,
    ConfidentialEntry,
    Goal,
    Meeting,
    Membership,
    Mission,
    MissionReview,
    PollSlot,
    PollVote,
    SchedulingPoll,
)
from .permissions import can_see_peers_only
from .services.charter import charter_get
from .services.confidential import confidential_entries_texts
from .services.meetings import agenda_notes_texts, meeting_ics


def _name(user) -> str | None:
    return user.display_name if user is not None else None


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def minutes_file_name(meeting: Meeting) -> str:
    """Where a meeting's minutes are in the zip: minutes/<date>-<id>-<title>.md."""
    title = slugify(meeting.title)[:60] or "meeting"
    return f"minutes/{meeting.starts_at:%Y-%m-%d}-{meeting.pk}-{title}.md"


def _members() -> list[dict]:
    return [
        {
            "name": m.user.display_name,
            "email": m.user.email,
            "institution": m.user.institution.name if m.user.institution else None,
            "role": m.role,
            "joined": m.joined_at.date().isoformat(),
            "ended": _iso(m.ended_at),
            "active": m.is_active,
            "pledge_accepted": _iso(m.pledge_accepted_at),
        }
        for m in Membership.objects.select_related("user", "user__institution").order_by("pk")
    ]


def _missions() -> list[dict]:
    reviews = MissionReview.objects.select_related("reviewed_by").order_by("reviewed_at", "pk")
    missions = (
        Mission.objects.select_related("adopted_by")
        .prefetch_related(Prefetch("reviews", queryset=reviews))
        .order_by("version")
    )
    return [
        {
            "version": m.version,
            "text": m.text,
            "adopted": m.adopted_at.isoformat(),
            "adopted_by": _name(m.adopted_by),
            "note": m.note,
            "reviews": [
                {
                    "outcome": r.outcome,
                    "reviewed": r.reviewed_at.isoformat(),
                    "reviewed_by": _name(r.reviewed_by),
                }
                for r in m.reviews.all()
            ],
        }
        for m in missions
    ]


def _charter() -> dict:
    charter = charter_get()
    return {
        "agenda_setter": charter.agenda_setter,
        "meeting_style": charter.meeting_style,
        "work_between_meetings": charter.work_between_meetings,
        "email_any_time": charter.email_any_time,
        "pledge": charter.pledge,
        "updated": charter.updated_at.isoformat(),
    }


def _goals() -> list[dict]:
    return [
        {
            "owner": g.owner.display_name,
            "text": g.text,
            "alignment": g.alignment,
            "status": g.status,
            "target_date": _iso(g.target_date),
            "created": g.created_at.isoformat(),
        }
        for g in Goal.objects.select_related("owner").order_by("created_at", "pk")
    ]


def _polls() -> list[dict]:
    votes = PollVote.objects.select_related("voter").order_by("pk")
    slots = PollSlot.objects.prefetch_related(Prefetch("votes", queryset=votes))
    polls = (
        SchedulingPoll.objects.select_related("created_by")
        .prefetch_related(Prefetch("slots", queryset=slots.order_by("starts_at", "pk")))
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": p.pk,
            "title": p.title,
            "duration_minutes": p.duration_minutes,
            "created_by": _name(p.created_by),
            "created": p.created_at.isoformat(),
            "closed": _iso(p.closed_at),
            "slots": [
                {
                    "starts_at": s.starts_at.isoformat(),
                    "votes": [
                        {"voter": v.voter.display_name, "available": v.available}
                        for v in s.votes.all()
                    ],
                }
                for s in p.slots.all()
            ],
        }
        for p in polls
    ]


def _meetings(meetings: list[Meeting], *, shredded: bool) -> list[dict]:
    notes = agenda_notes_texts(
        items=[
            (i.pk, i.confidential, i.notes, i.notes_sealed)
            for m in meetings
            for i in m.agenda.all()
        ],
        destroyed=None,
    )

    def item_notes(item: AgendaItem) -> str | None:
        # After shredding, confidential notes are gone (their ciphertexts too): null.
        return None if (item.confidential and shredded) else notes[item.pk]

    rows = []
    for m in meetings:
        minutes = getattr(m, "minutes_doc", None)
        rows.append(
            {
                "id": m.pk,
                "title": m.title,
                "starts_at": m.starts_at.isoformat(),
                "duration_minutes": m.duration_minutes,
                "link": m.link,
                "place": m.place,
                "note_taker": _name(m.note_taker),
                "poll": m.poll_id,
                "held": _iso(m.held_at),
                "agenda": [
                    {
                        "position": i.position,
                        "kind": i.kind,
                        "title": i.title,
                        "member": _name(i.member),
                        "minutes": i.minutes,
                        "confidential": i.confidential,
                        "notes": item_notes(i),
                    }
                    for i in m.agenda.all()
                ],
                "attendance": [
                    {"member": a.member.display_name, "present": a.present}
                    for a in m.attendance.all()
                ],
                "commitments": [
                    {
                        "owner": c.owner.display_name,
                        "text": c.text,
                        "outcome": c.outcome,
                        "reviewed": _iso(c.reviewed_at),
                        "reviewed_by": _name(c.reviewed_by),
                    }
                    for c in m.commitments.all()
                ],
                "minutes": minutes
                and {
                    "file": minutes_file_name(m),
                    "published": minutes.published_at.isoformat(),
                    "published_by": _name(minutes.published_by),
                },
            }
        )
    return rows


def _meeting_list() -> list[Meeting]:
    return list(
        Meeting.objects.select_related("note_taker", "minutes_doc", "minutes_doc__published_by")
        .prefetch_related(
            Prefetch("agenda", queryset=AgendaItem.objects.select_related("member")),
            Prefetch(
                "attendance",
                queryset=Attendance.objects.select_related("member").order_by(
                    "member__full_name", "pk"
                ),
            ),
            Prefetch(
                "commitments",
                queryset=Commitment.objects.select_related("owner", "reviewed_by").order_by("pk"),
            ),
        )
        .order_by("starts_at", "pk")
    )


def _achievements() -> list[dict]:
    celebrations = Celebration.objects.select_related("by").order_by("pk")
    achievements = (
        Achievement.objects.select_related("owner")
        .prefetch_related(Prefetch("celebrations", queryset=celebrations))
        .order_by("achieved_on", "pk")
    )
    return [
        {
            "owner": a.owner.display_name,
            "kind": a.kind,
            "text": a.text,
            "achieved_on": a.achieved_on.isoformat(),
            "shareable": a.shareable,
            "created": a.created_at.isoformat(),
            "celebrated_by": [c.by.display_name for c in a.celebrations.all()],
        }
        for a in achievements
    ]


def _confidential(membership: Membership) -> list[dict]:
    """Threads with their replies, decrypted; peers-only ones only for those who see them."""
    entries = ConfidentialEntry.objects.select_related("author").order_by("created_at", "pk")
    if not can_see_peers_only(membership):
        entries = entries.exclude(Q(peers_only=True) | Q(parent__peers_only=True))
    entries = list(entries)
    texts = confidential_entries_texts(entries=entries)
    replies = defaultdict(list)
    for entry in entries:
        if entry.parent_id is not None:
            replies[entry.parent_id].append(
                {
                    "author": entry.author.display_name,
                    "written": entry.created_at.isoformat(),
                    "text": texts[entry.pk],
                }
            )
    return [
        {
            "author": entry.author.display_name,
            "written": entry.created_at.isoformat(),
            "peers_only": entry.peers_only,
            "text": texts[entry.pk],
            "replies": replies[entry.pk],
        }
        for entry in entries
        if entry.parent_id is None
    ]


def group_export_zip(*, membership: Membership) -> bytes:
    """Everything the group wrote, as `membership` may see it, as the bytes of a zip file."""
    group = connection.tenant
    meetings = _meeting_list()
    data = {
        "group": {
            "name": group.name,
            "address": group.slug,
            "stage": group.stage,
            "lifecycle": group.lifecycle,
        },
        "exported_at": timezone.now().isoformat(),
        "members": _members(),
        "missions": _missions(),
        "charter": _charter(),
        "goals": _goals(),
        "polls": _polls(),
        "meetings": _meetings(meetings, shredded=group.shredded_at is not None),
        "achievements": _achievements(),
        "confidential_threads": _confidential(membership),
    }
    with_minutes = [m for m in meetings if getattr(m, "minutes_doc", None) is not None]
    index = "\n".join(
        f"- {m.starts_at:%Y-%m-%d}, {m.title}: {minutes_file_name(m).split('/', 1)[1]}"
        for m in with_minutes
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("group.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("meetings.ics", meeting_ics(meetings))
        archive.writestr(
            "minutes/README.md",
            f"# Minutes of {group.name}\n\nOne Markdown file per meeting with published "
            f"minutes, as published (confidential items left out).\n\n{index or '- None yet.'}\n",
        )
        for meeting in with_minutes:
            archive.writestr(minutes_file_name(meeting), meeting.minutes_doc.body)
    return buffer.getvalue()
