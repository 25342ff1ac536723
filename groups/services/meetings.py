"""Meetings: scheduling, invitations, agenda, attendance, notes, commitments."""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import User
from society.urls_helpers import group_host, group_url

from .. import crypto
from ..crypto import KeyDestroyed
from ..models import (
    PARTICIPANT_ROLES,
    AgendaItem,
    Attendance,
    Commitment,
    Meeting,
    Membership,
    SchedulingPoll,
)
from ..scheduling import meeting_calendar, zone_of
from .confidential import group_data_key
from .context import current_group
from .minutes import minutes_redact

logger = logging.getLogger(__name__)


def _agenda_build(meeting: Meeting) -> None:
    members = [
        m.user
        for m in Membership.objects.filter(is_active=True)
        .exclude(role=Membership.Role.EVALUATOR)
        .select_related("user")
        .order_by("pk")
    ]
    items = [AgendaItem(kind=AgendaItem.Kind.PERSONAL, title=_("Personal check-in"), minutes=10)]
    items += [
        AgendaItem(
            kind=AgendaItem.Kind.CAREER,
            title=_("Career check-in: %(name)s") % {"name": user.display_name},
            member=user,
            minutes=15,
        )
        for user in members
    ]
    items.append(
        AgendaItem(
            kind=AgendaItem.Kind.UNPLANNED, title=_("Intentional unplanned time"), minutes=10
        )
    )
    for position, item in enumerate(items, start=1):
        item.meeting, item.position = meeting, position
    AgendaItem.objects.bulk_create(items)


@transaction.atomic
def meeting_schedule(
    *,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    actor: User,
    link: str = "",
    place: str = "",
    poll: SchedulingPoll | None = None,
    note_taker: User | None = None,
) -> Meeting:
    """Schedule a meeting (from a poll's chosen time, or directly, e.g. an in-person social),
    build its agenda from the template, close the poll.

    Side effects: after commit, an .ics invitation to every active member.
    """
    if poll is not None:
        poll = SchedulingPoll.objects.select_for_update().get(pk=poll.pk)
        if poll.closed_at is not None:
            raise ValidationError(_("This poll is closed: the meeting has been scheduled."))
        poll.closed_at = timezone.now()
        poll.save(update_fields=["closed_at"])
    meeting = Meeting(
        title=title,
        starts_at=starts_at.astimezone(UTC),
        duration_minutes=duration_minutes,
        link=link,
        place=place,
        poll=poll,
        note_taker=note_taker or actor,
    )
    meeting.full_clean()
    meeting.save()
    _agenda_build(meeting)
    # robust: the meeting is committed; a failing invitation is logged, never a 500.
    transaction.on_commit(lambda: meeting_invitations_send(meeting_id=meeting.pk), robust=True)
    return meeting


def meeting_ics(meetings) -> bytes:
    group = current_group()
    return meeting_calendar(
        meetings,
        group_name=group.name,
        uid_domain=group_host(group.slug),
        url_of=lambda m: group_url(group.slug, f"/meetings/{m.pk}/"),
    )


def meeting_invitations_send(*, meeting_id: int) -> None:
    """E-mail the .ics invitation to each active member, with the time in their own zone.

    Runs in the meeting's group schema (after the scheduling request's commit).
    """
    group = current_group()
    meeting = Meeting.objects.get(pk=meeting_id)
    ics = meeting_ics([meeting])
    # Meetings are for those who take part in them: never the evaluator (README, roles).
    attendees = Membership.objects.filter(is_active=True, role__in=PARTICIPANT_ROLES)
    for membership in attendees.select_related("user"):
        user = membership.user
        message = EmailMessage(
            subject=_("%(group)s: %(title)s") % {"group": group.name, "title": meeting.title},
            body=render_to_string(
                "emails/groups/meeting_invitation.txt",
                {
                    "group": group,
                    "meeting": meeting,
                    "zone": str(zone_of(user)),
                    "url": group_url(group.slug, f"/meetings/{meeting.pk}/"),
                },
            ),
            to=[user.email],
        )
        message.attach("meeting.ics", ics, "text/calendar; method=PUBLISH")
        try:
            message.send()
        except (OSError, smtplib.SMTPException):
            logger.warning("Meeting invitation %s was not e-mailed", meeting.pk)


@transaction.atomic
def attendance_record(*, meeting: Meeting, present_ids: set[int], actor: User) -> None:
    """Record who came, for every active member who attends meetings."""
    members = Membership.objects.filter(is_active=True).exclude(role=Membership.Role.EVALUATOR)
    for user_id in members.values_list("user_id", flat=True):
        Attendance.objects.update_or_create(
            meeting=meeting, member_id=user_id, defaults={"present": user_id in present_ids}
        )
    if meeting.held_at is None:
        meeting.held_at = timezone.now()
        meeting.save(update_fields=["held_at"])


@transaction.atomic
def agenda_notes_record(
    *, item: AgendaItem, notes: str, confidential: bool, actor: User
) -> AgendaItem:
    """Notes for an agenda item. Confidential notes are stored only encrypted, and minutes
    will say no more than that a confidential topic was discussed.

    Side effect: an item marked confidential after the minutes were published is taken out of
    them (minutes_redact); the caller tells the note-taker the e-mail cannot be recalled.
    """
    newly_confidential = confidential and not item.confidential
    item.confidential = confidential
    if confidential and notes.strip():
        group = current_group()
        item.notes_sealed = crypto.seal(
            group_data_key(create=True), notes, schema=group.schema_name
        )
        item.notes = ""
    else:
        item.notes, item.notes_sealed = (
            (notes, None) if not confidential else ("", item.notes_sealed)
        )
    item.save(update_fields=["confidential", "notes", "notes_sealed"])
    if newly_confidential:
        minutes_redact(meeting=item.meeting)
    return item


def agenda_notes_texts(
    *, items: list[tuple[int, bool, str, bytes | None]], destroyed: str | None = ""
) -> dict[int, str | None]:
    """Notes by agenda item pk from (pk, confidential, notes, notes_sealed) rows, opening the
    group's data key once (and only if some item is sealed). A sealed note whose key was
    destroyed reads as `destroyed` ("" on the pages, None in the export)."""
    texts, key = {}, None
    for pk, confidential, notes, sealed in items:
        if not (confidential and sealed):
            texts[pk] = notes
            continue
        try:
            key = key or group_data_key(create=False)
            texts[pk] = crypto.open_sealed(key, bytes(sealed), schema=current_group().schema_name)
        except KeyDestroyed:
            texts[pk] = destroyed
    return texts


@transaction.atomic
def commitment_add(*, meeting: Meeting, owner: User, text: str, actor: User) -> Commitment:
    """A member's action plan for the next meeting."""
    if not text.strip():
        raise ValidationError(_("Write the action plan."))
    return Commitment.objects.create(meeting=meeting, owner=owner, text=text.strip())


@transaction.atomic
def commitment_review(*, commitment: Commitment, outcome: str, actor: User) -> Commitment:
    """Mark last meeting's commitment as kept, partly kept or dropped (dropping is a decision).

    Raises ValidationError if it was already reviewed or the outcome is unknown.
    """
    commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
    if commitment.reviewed_at is not None:
        raise ValidationError(_("This commitment was already reviewed."))
    if outcome not in (
        Commitment.Outcome.KEPT,
        Commitment.Outcome.PARTLY,
        Commitment.Outcome.DROPPED,
    ):
        raise ValidationError(_("Choose kept, partly kept or dropped."))
    commitment.outcome = outcome
    commitment.reviewed_at = timezone.now()
    commitment.reviewed_by = actor
    commitment.save(update_fields=["outcome", "reviewed_at", "reviewed_by"])
    return commitment
