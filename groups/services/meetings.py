"""Meetings: scheduling, invitations, agenda, attendance, notes, commitments."""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import PeerGroup, User
from society.outbox import email_enqueue
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
from ..scheduling import calendar_method, meeting_calendar
from .confidential import group_data_key
from .context import current_group, paused_refuse
from .minutes import meeting_recordable_check, minutes_redact
from .reminders import attendance_nudge_keep, commitment_nudge_keep, meeting_reminders_keep


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
    allow_past: bool = False,
) -> Meeting:
    """Schedule a meeting (from a poll's chosen time, or directly, e.g. an in-person social),
    build its agenda from the template, close the poll.

    Raises ValidationError in a paused group, or for a time in the past. `allow_past=True`
    records a meeting that already took place (tests, the demo data and the benchmarks write
    history with it; no page passes it).

    Side effects: an .ics invitation to every participating member (the outbox); the
    reminders' index (its reminders, the point-persons' no-meeting nudge, the commitment
    nudge of the meeting before it).
    """
    paused_refuse()
    if not allow_past:
        _refuse_the_past(starts_at)
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
    meeting_reminders_keep(meeting)
    meeting_invitations_record(meeting=meeting, change="new")
    return meeting


def _refuse_the_past(starts_at: datetime) -> None:
    if starts_at < timezone.now():
        raise ValidationError(_("That time has already passed: choose a time in the future."))


def meeting_ics(meetings, *, method: str = "PUBLISH") -> bytes:
    group = current_group()
    return meeting_calendar(
        meetings,
        group_name=group.name,
        uid_domain=group_host(group.slug),
        url_of=lambda m: group_url(group.slug, f"/meetings/{m.pk}/"),
        method=method,
    )


def meeting_one_ics(meeting: Meeting) -> bytes:
    """One meeting's .ics, as invitations carry it: PUBLISH when first scheduled, REQUEST with
    the same UID and a higher SEQUENCE after a change, CANCEL once cancelled."""
    return meeting_ics([meeting], method=calendar_method(meeting))


@transaction.atomic
def meeting_update(
    *,
    meeting: Meeting,
    actor: User,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    link: str = "",
    place: str = "",
    note_taker: User | None = None,
    agenda: dict[int, str] | None = None,
) -> Meeting:
    """Correct a meeting: its title, time (a move), length, link or place, its agenda items'
    text, and its note-taker (one of the participating members).

    Raises ValidationError for a cancelled meeting, a move into the past, a move of a meeting
    already recorded, a note-taker who does not take part, or an empty agenda item.
    Side effects: SEQUENCE goes up when what calendars show changes; a moved meeting is
    e-mailed (the outbox) to every participating member with its new .ics (same UID); the
    reminders' index follows a move.
    """
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.cancelled_at is not None:
        raise ValidationError(_("This meeting was cancelled: it can no longer be changed."))
    starts_at = starts_at.astimezone(UTC)
    previous = meeting.starts_at
    if starts_at == previous.replace(second=0, microsecond=0):
        starts_at = previous  # the page writes whole minutes: the same minute is no move
    moved = starts_at != meeting.starts_at or duration_minutes != meeting.duration_minutes
    if moved:
        if meeting.held_at is not None or hasattr(meeting, "minutes_doc"):
            raise ValidationError(
                _("This meeting has been recorded: its time can no longer change.")
            )
        if starts_at != meeting.starts_at:
            _refuse_the_past(starts_at)
    if (
        note_taker is not None
        and not Membership.objects.filter(
            user=note_taker, is_active=True, role__in=PARTICIPANT_ROLES
        ).exists()
    ):
        raise ValidationError(_("Choose the note-taker among the members who take part."))
    shown = (title, link, place)
    changed = moved or shown != (meeting.title, meeting.link, meeting.place)
    meeting.title, meeting.link, meeting.place = shown
    meeting.starts_at, meeting.duration_minutes = starts_at, duration_minutes
    if note_taker is not None:
        meeting.note_taker = note_taker
    if changed:
        meeting.sequence += 1
    meeting.full_clean()
    meeting.save()
    meeting_reminders_keep(meeting, previous_start=previous)
    items = {item.pk: item for item in meeting.agenda.all()}
    for pk, text in (agenda or {}).items():
        item = items.get(pk)
        if item is None or item.title == text:
            continue
        if not text.strip():
            raise ValidationError(_("Give every agenda item a title."))
        item.title = text.strip()
        item.full_clean()
        item.save(update_fields=["title"])
    if moved:
        meeting_invitations_record(meeting=meeting, change="moved", previous=previous)
    return meeting


@transaction.atomic
def meeting_cancel(*, meeting: Meeting, actor: User) -> Meeting:
    """Cancel a meeting that has not been recorded. Raises ValidationError otherwise.

    Side effects: SEQUENCE goes up; every participating member is e-mailed (the outbox) the
    cancellation with an .ics (METHOD:CANCEL, STATUS:CANCELLED, the same UID); its reminders
    are withdrawn and the nudges it moved are set again.
    """
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.cancelled_at is not None:
        raise ValidationError(_("This meeting was already cancelled."))
    if meeting.held_at is not None or hasattr(meeting, "minutes_doc"):
        raise ValidationError(_("This meeting has been recorded: it cannot be cancelled."))
    meeting.cancelled_at = timezone.now()
    meeting.sequence += 1
    meeting.save(update_fields=["cancelled_at", "sequence"])
    meeting_reminders_keep(meeting)
    meeting_invitations_record(meeting=meeting, change="cancelled")
    return meeting


def meeting_invitations_record(
    *, meeting: Meeting, change: str = "new", previous: datetime | None = None
) -> None:
    """Record in the outbox, with the change, an e-mail and .ics (an invitation, a move or a
    cancellation: `change`) to each participating member; `previous` is a moved meeting's old
    start. The worker renders each in its reader's zone (groups.emails.meeting_invitation).

    Keyed by the meeting's SEQUENCE, so each change is told once per member."""
    group = current_group()
    context: dict[str, object] = {
        "meeting": meeting.pk,
        "change": change,
        "sequence": meeting.sequence,
    }
    if previous is not None:
        context["previous"] = previous.astimezone(UTC).isoformat()
    # Meetings are for those who take part in them: never the evaluator (README, roles).
    attendees = (
        Membership.objects.filter(is_active=True, role__in=PARTICIPANT_ROLES)
        .values_list("user_id", "user__email")
        .order_by("user_id")
    )
    for user_id, address in attendees:
        email_enqueue(
            key=f"meeting:{group.schema_name}:{meeting.pk}:{meeting.sequence}:{change}:{user_id}",
            kind="meeting_invitation",
            to=address,
            context={**context, "user": user_id},
            group=group,
        )


@transaction.atomic
def attendance_record(*, meeting: Meeting, present_ids: set[int], actor: User) -> None:
    """Record who came, for every active member who attends meetings.

    Raises ValidationError for a cancelled meeting or one that has not started.
    Side effect: the point-persons' nudge when attendance over the last three meetings is
    under half (the reminders' index)."""
    meeting_recordable_check(meeting, started=True)
    members = Membership.objects.filter(is_active=True).exclude(role=Membership.Role.EVALUATOR)
    for user_id in members.values_list("user_id", flat=True):
        Attendance.objects.update_or_create(
            meeting=meeting, member_id=user_id, defaults={"present": user_id in present_ids}
        )
    if meeting.held_at is None:
        meeting.held_at = timezone.now()
        meeting.save(update_fields=["held_at"])
    PeerGroup.objects.filter(pk=current_group().pk).filter(
        Q(last_meeting_at__isnull=True) | Q(last_meeting_at__lt=meeting.starts_at)
    ).update(last_meeting_at=meeting.starts_at)
    attendance_nudge_keep(meeting)


@transaction.atomic
def agenda_notes_record(
    *, item: AgendaItem, notes: str, confidential: bool, actor: User
) -> AgendaItem:
    """Notes for an agenda item. Confidential notes are stored only encrypted, and minutes
    will say no more than that a confidential topic was discussed.

    Side effect: an item marked confidential after the minutes were published is taken out of
    them (minutes_redact); the caller tells the note-taker the e-mail cannot be recalled.
    """
    meeting_recordable_check(item.meeting, started=False)
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


@transaction.atomic
def agenda_notes_record_many(
    *, meeting: Meeting, notes: dict[int, tuple[str, bool]], actor: User
) -> list[AgendaItem]:
    """Several agenda items' notes at once, as (text, confidential) by item pk, all or none
    (agenda_notes_record for each item whose text or mark changed; pks not on this meeting's
    agenda are ignored). Returns the items changed.

    Raises ValidationError for a cancelled meeting (nothing is recorded then).
    """
    meeting_recordable_check(meeting, started=False)
    items = list(meeting.agenda.select_for_update().filter(pk__in=notes).order_by("position"))
    stored = agenda_notes_texts(
        items=[
            (i.pk, i.confidential, i.notes, i.notes_sealed and bytes(i.notes_sealed)) for i in items
        ]
    )
    changed = []
    for item in items:
        text, confidential = notes[item.pk]
        if stored[item.pk] == text and item.confidential == confidential:
            continue
        agenda_notes_record(item=item, notes=text, confidential=confidential, actor=actor)
        changed.append(item)
    return changed


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
    """A member's action plan for the next meeting. Raises ValidationError for a cancelled
    meeting or an empty plan.

    Side effect: the owner is nudged about it halfway to the next meeting (the index)."""
    meeting_recordable_check(meeting, started=False)
    if not text.strip():
        raise ValidationError(_("Write the action plan."))
    commitment = Commitment.objects.create(meeting=meeting, owner=owner, text=text.strip())
    commitment_nudge_keep(meeting)
    return commitment


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
    commitment_nudge_keep(commitment.meeting)  # none left open: no nudge
    return commitment
