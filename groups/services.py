"""Writes inside the current group schema, and the public rows that mirror them (index, audit)."""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage, send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from society.audit import audit_record
from society.models import AuditEvent, MembershipIndex, PeerGroup, User
from society.urls_helpers import group_host, group_url

from . import crypto
from .crypto import KeyDestroyed
from .models import (
    Achievement,
    AgendaItem,
    Attendance,
    CalendarFeed,
    Celebration,
    Charter,
    Commitment,
    ConfidentialEntry,
    Goal,
    GroupKey,
    Invitation,
    Meeting,
    Membership,
    Minutes,
    Mission,
    MissionReview,
    PollSlot,
    PollVote,
    SchedulingPoll,
    WorkerCheck,
)
from .scheduling import meeting_calendar, zone_of

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=14)


def _current_group() -> PeerGroup:
    group = connection.tenant
    if not isinstance(group, PeerGroup):
        raise RuntimeError("Group services run inside a group's schema (use tenant_context).")
    return group


def _point_person_count() -> int:
    return Membership.objects.filter(is_active=True, role=Membership.Role.POINT_PERSON).count()


@transaction.atomic
def membership_add(
    *, user: User, role: str = Membership.Role.MEMBER, actor: User | None = None
) -> Membership:
    """Add `user` to the current group with `role`, or reactivate / update their membership.

    Side effects: the public MembershipIndex row (so the society site can link here) and an
    audit event. Raises ValidationError for an unknown role or an inactive account.
    """
    if role not in Membership.Role.values:
        raise ValidationError(_("Unknown role."))
    if not user.is_active:
        raise ValidationError(_("This account is deactivated."))
    group = _current_group()
    membership, _created = Membership.objects.update_or_create(
        user=user, defaults={"role": role, "is_active": True, "ended_at": None}
    )
    MembershipIndex.objects.get_or_create(user=user, group=group)
    audit_record(
        kind=AuditEvent.Kind.MEMBER_ADDED, actor=actor, subject=user, group=group, detail=role
    )
    return membership


@transaction.atomic
def membership_role_set(*, membership: Membership, role: str, actor: User) -> Membership:
    """Change a member's role. Raises ValidationError if it would leave no point-person."""
    if role not in Membership.Role.values:
        raise ValidationError(_("Unknown role."))
    if (
        membership.role == Membership.Role.POINT_PERSON
        and role != Membership.Role.POINT_PERSON
        and _point_person_count() <= 1
    ):
        raise ValidationError(_("A group needs at least one point-person. Name another first."))
    old = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        kind=AuditEvent.Kind.ROLE_CHANGED,
        actor=actor,
        subject=membership.user,
        group=_current_group(),
        detail=f"{old} -> {role}",
    )
    return membership


@transaction.atomic
def membership_end(*, membership: Membership, actor: User | None = None) -> Membership:
    """End a membership: the person loses access at their very next request.

    Side effects: removes the public MembershipIndex row; audit event. Raises ValidationError
    if it would leave the group without a point-person.
    """
    if membership.role == Membership.Role.POINT_PERSON and _point_person_count() <= 1:
        raise ValidationError(_("A group needs at least one point-person. Name another first."))
    group = _current_group()
    membership.is_active = False
    membership.ended_at = timezone.now()
    membership.save(update_fields=["is_active", "ended_at"])
    MembershipIndex.objects.filter(user_id=membership.user_id, group=group).delete()
    audit_record(
        kind=AuditEvent.Kind.MEMBER_REMOVED, actor=actor, subject=membership.user, group=group
    )
    return membership


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(*, email: str, role: str, actor: User) -> tuple[Invitation, str]:
    """Invite `email` to the current group; returns the invitation and its one-time token.

    Side effects: makes a (password-less) account for a new address, so the invitee can sign
    in by e-mail code or be linked by their institution's sign-in; audit event.
    Raises ValidationError for an unknown role or someone already in the group.
    """
    email = User.objects.normalize_email(email).lower()
    if role not in Membership.Role.values:
        raise ValidationError(_("Unknown role."))
    user = User.objects.filter(email__iexact=email).first()
    if user is not None and Membership.objects.filter(user=user, is_active=True).exists():
        raise ValidationError(_("%(email)s is already in this group."), params={"email": email})
    if user is None:
        User.objects.create_user(email)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=actor,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    audit_record(
        kind=AuditEvent.Kind.INVITATION_SENT, actor=actor, group=_current_group(), detail=role
    )
    return invitation, token


def invitation_email_send(*, invitation: Invitation, token: str) -> None:
    """E-mail the invitation link (group name, inviter, role; nothing from inside the group).

    Raises the mail backend's error (the view tells the point-person to try again).
    """
    group = _current_group()
    context = {
        "group_name": group.name,
        "inviter": invitation.invited_by.display_name,
        "role": invitation.get_role_display(),
        "url": group_url(group.slug, f"/invitations/{token}/"),
        "expires_at": invitation.expires_at,
    }
    send_mail(
        subject=_("Invitation to join %(group)s") % {"group": group.name},
        message=render_to_string("emails/groups/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The invitation this token opens, if it is still pending."""
    invitation = Invitation.objects.filter(token_hash=_token_hash(token)).first()
    if invitation is None or not invitation.is_pending:
        return None
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Accept an invitation as `user`: they join with the invited role. Works once.

    Raises PermissionDenied if `user` is not the invited address, ValidationError if the
    invitation was used or expired meanwhile.
    """
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError(_("This invitation has already been used or has expired."))
    if invitation.email.lower() != user.email.lower():
        raise PermissionDenied
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    membership = membership_add(user=user, role=invitation.role, actor=invitation.invited_by)
    audit_record(
        kind=AuditEvent.Kind.INVITATION_ACCEPTED,
        actor=user,
        subject=user,
        group=_current_group(),
        detail=invitation.role,
    )
    return membership


def worker_check_request(*, actor: User) -> WorkerCheck:
    """Record a worker check and queue it for the Celery worker once the row is committed."""
    from .tasks import worker_check_run_task

    with transaction.atomic():
        check = WorkerCheck.objects.create(requested_by=actor)
        transaction.on_commit(lambda: worker_check_run_task.delay(check.pk))
    return check


@transaction.atomic
def worker_check_run(*, check_id: int) -> WorkerCheck | None:
    """Mark a check as run, recording the schema this code actually ran in. Idempotent."""
    check = WorkerCheck.objects.select_for_update().filter(pk=check_id).first()
    if check is None or check.ran_at is not None:
        return check
    check.ran_at = timezone.now()
    check.ran_in_schema = connection.schema_name
    check.save(update_fields=["ran_at", "ran_in_schema"])
    return check


# --- Mission ---------------------------------------------------------------------------------


@transaction.atomic
def mission_adopt(*, text: str, actor: User | None, note: str = "") -> Mission:
    """Adopt a new version of the mission (the first one comes from the approved application)."""
    text = text.strip()
    if not text:
        raise ValidationError(_("Write the mission down; it cannot be empty."))
    latest = Mission.objects.order_by("-version").first()
    return Mission.objects.create(
        version=(latest.version + 1) if latest else 1, text=text, adopted_by=actor, note=note
    )


# --- Confidential space: envelope encryption --------------------------------------------------


def _data_key(*, create: bool) -> bytes:
    schema = _current_group().schema_name
    key = GroupKey.objects.first()
    if key is None:
        if not create or _current_group().shredded_at is not None:
            raise KeyDestroyed
        data_key = crypto.new_data_key()
        GroupKey.objects.create(wrapped=crypto.wrap(data_key, schema=schema))
        return data_key
    return crypto.unwrap(key.wrapped, schema=schema)


@transaction.atomic
def confidential_entry_create(*, author: User, text: str, peers_only: bool = False):
    """Store a confidential note, encrypted with the group's data key (made on first use)."""
    if not text.strip():
        raise ValidationError(_("Write something first."))
    group = _current_group()
    sealed = crypto.seal(_data_key(create=True), text, schema=group.schema_name)
    entry = ConfidentialEntry.objects.create(
        author=author, peers_only=peers_only, ciphertext=sealed
    )
    _confidential_notify(entry)
    return entry


@transaction.atomic
def confidential_reply(*, thread: ConfidentialEntry, author: User, text: str) -> ConfidentialEntry:
    """A reply in a confidential thread; it shares the thread's audience."""
    if not text.strip():
        raise ValidationError(_("Write something first."))
    group = _current_group()
    sealed = crypto.seal(_data_key(create=True), text, schema=group.schema_name)
    entry = ConfidentialEntry.objects.create(
        author=author, parent=thread, peers_only=thread.peers_only, ciphertext=sealed
    )
    _confidential_notify(entry)
    return entry


def _confidential_notify(entry: ConfidentialEntry) -> None:
    """Tell the other members that something was posted, and nothing more."""
    group = _current_group()
    roles = [Membership.Role.POINT_PERSON, Membership.Role.MEMBER]
    if not entry.peers_only:
        roles.append(Membership.Role.FACILITATOR)
    recipients = list(
        Membership.objects.filter(is_active=True, role__in=roles)
        .exclude(user_id=entry.author_id)
        .values_list("user__email", flat=True)
    )
    body = _(
        "Something new was posted in the confidential space of %(group)s. Sign in to read it: "
        "%(url)s"
    ) % {"group": group.name, "url": group_url(group.slug, "/confidential/")}
    subject = _("%(group)s: new in the confidential space") % {"group": group.name}

    def send() -> None:
        try:
            EmailMessage(subject=subject, body=body, bcc=recipients).send()
        except (OSError, smtplib.SMTPException):
            logger.warning("Confidential-space notice was not e-mailed")

    if recipients:
        transaction.on_commit(send)


def confidential_entry_text(*, entry: ConfidentialEntry) -> str:
    """The plaintext of an entry. Raises KeyDestroyed after crypto-shredding."""
    group = _current_group()
    return crypto.open_sealed(_data_key(create=False), entry.ciphertext, schema=group.schema_name)


@transaction.atomic
def group_key_rewrap() -> bool:
    """Re-wrap this group's data key with the current KEK (after adding a new HORIZONTAL_KEYS
    entry first). Returns whether anything changed. Entries stay as they are."""
    key = GroupKey.objects.select_for_update().first()
    if key is None or key.wrapped.startswith(crypto.kek_id_current() + ":"):
        return False
    schema = _current_group().schema_name
    key.wrapped = crypto.wrap(crypto.unwrap(key.wrapped, schema=schema), schema=schema)
    key.save(update_fields=["wrapped"])
    return True


@transaction.atomic
def confidential_destroy() -> None:
    """Destroy the group's confidential space for good: its data key, then every ciphertext
    (confidential entries and confidential meeting notes)."""
    GroupKey.objects.all().delete()
    ConfidentialEntry.objects.all().delete()
    AgendaItem.objects.filter(notes_sealed__isnull=False).update(notes_sealed=None)


# --- Lifecycle (the group's public row: stage and lifecycle are not confidential) --------------


def _group_row() -> PeerGroup:
    return PeerGroup.objects.get(pk=_current_group().pk)


@transaction.atomic
def group_stage_set(*, stage: str, actor: User) -> PeerGroup:
    """Move the group to one of Kram's phases."""
    if stage not in PeerGroup.Stage.values:
        raise ValidationError(_("Unknown stage."))
    group = _group_row()
    if group.is_read_only:
        raise ValidationError(_("This group has concluded."))
    group.stage = stage
    group.save(update_fields=["stage"])
    return group


@transaction.atomic
def group_pause_set(*, paused: bool, actor: User) -> PeerGroup:
    """Pause the group (no reminders, shown as paused) or resume it."""
    group = _group_row()
    if group.is_read_only:
        raise ValidationError(_("This group has concluded."))
    group.lifecycle = PeerGroup.Lifecycle.PAUSED if paused else PeerGroup.Lifecycle.ACTIVE
    group.save(update_fields=["lifecycle"])
    return group


@transaction.atomic
def group_redefine(*, mission_text: str, actor: User) -> Mission:
    """Redefine the group: a new mission version, and the redefinition stage."""
    group = _group_row()
    if group.is_read_only:
        raise ValidationError(_("This group has concluded."))
    mission = mission_adopt(text=mission_text, actor=actor, note="redefined")
    group.stage = PeerGroup.Stage.REDEFINITION
    group.save(update_fields=["stage"])
    return mission


@transaction.atomic
def group_conclude(*, actor: User) -> PeerGroup:
    """Conclude on purpose: the space becomes read-only; export stays open for the window,
    after which society.services.groups_shred_due destroys the confidential space."""
    group = _group_row()
    if group.is_read_only:
        raise ValidationError(_("This group has already concluded."))
    group.lifecycle = PeerGroup.Lifecycle.CONCLUDED
    group.stage = PeerGroup.Stage.SEPARATION
    group.concluded_at = timezone.now()
    group.save(update_fields=["lifecycle", "stage", "concluded_at"])
    return group


# --- Norms, mission reviews, goals ---------------------------------------------------------------


def charter_get() -> Charter:
    """The group's charter (created with defaults on first use)."""
    charter, _created = Charter.objects.get_or_create(singleton=True)
    return charter


@transaction.atomic
def charter_update(*, actor: User, **fields: object) -> Charter:
    """Change the norms. Raises ValidationError for an empty pledge."""
    charter = charter_get()
    for name, value in fields.items():
        setattr(charter, name, value)
    if not str(charter.pledge).strip():
        raise ValidationError({"pledge": _("The confidentiality pledge cannot be empty.")})
    charter.updated_at = timezone.now()
    charter.full_clean()
    charter.save()
    return charter


@transaction.atomic
def pledge_accept(*, membership: Membership) -> Membership:
    """A member accepts the confidentiality pledge (asked on joining)."""
    if membership.pledge_accepted_at is None:
        membership.pledge_accepted_at = timezone.now()
        membership.save(update_fields=["pledge_accepted_at"])
    return membership


@transaction.atomic
def mission_review_record(*, outcome: str, actor: User, new_text: str = "") -> MissionReview:
    """Record the six-monthly review: kept, or revised into a new version."""
    mission = Mission.objects.order_by("-version").first()
    if mission is None:
        raise ValidationError(_("Write the mission first."))
    if outcome == MissionReview.Outcome.REVISED:
        mission = mission_adopt(text=new_text, actor=actor, note="revised at review")
    elif outcome != MissionReview.Outcome.KEPT:
        raise ValidationError(_("Choose kept or revised."))
    return MissionReview.objects.create(mission=mission, outcome=outcome, reviewed_by=actor)


@transaction.atomic
def goal_save(*, owner: User, goal: Goal | None = None, **fields: object) -> Goal:
    """Create or change one of `owner`'s goals. Raises PermissionDenied for someone else's."""
    goal = goal or Goal(owner=owner)
    if goal.owner_id != owner.pk:
        raise PermissionDenied
    for name, value in fields.items():
        setattr(goal, name, value)
    goal.full_clean()
    goal.save()
    return goal


# --- Scheduling ---------------------------------------------------------------------------


@transaction.atomic
def poll_create(
    *, title: str, duration_minutes: int, starts: list[datetime], actor: User
) -> SchedulingPoll:
    """Propose times (aware datetimes) for a meeting. Raises ValidationError without any."""
    starts = sorted({s.astimezone(UTC) for s in starts})
    if not starts:
        raise ValidationError(_("Propose at least one time."))
    if any(s <= timezone.now() for s in starts):
        raise ValidationError(_("Propose times in the future."))
    poll = SchedulingPoll.objects.create(
        title=title, duration_minutes=duration_minutes, created_by=actor
    )
    PollSlot.objects.bulk_create([PollSlot(poll=poll, starts_at=s) for s in starts])
    return poll


@transaction.atomic
def poll_vote(*, poll: SchedulingPoll, voter: User, available_slot_ids: set[int]) -> None:
    """Record `voter`'s availability for every slot of an open poll (replacing earlier answers)."""
    if poll.closed_at is not None:
        raise ValidationError(_("This poll is closed: the meeting has been scheduled."))
    for slot in poll.slots.all():
        PollVote.objects.update_or_create(
            slot=slot, voter=voter, defaults={"available": slot.pk in available_slot_ids}
        )


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
    schema = _current_group().schema_name
    transaction.on_commit(lambda: meeting_invitations_send(meeting_id=meeting.pk, schema=schema))
    return meeting


def meeting_ics(meetings) -> bytes:
    group = _current_group()
    return meeting_calendar(
        meetings,
        group_name=group.name,
        uid_domain=group_host(group.slug),
        url_of=lambda m: group_url(group.slug, f"/meetings/{m.pk}/"),
    )


def meeting_invitations_send(*, meeting_id: int, schema: str) -> None:
    """E-mail the .ics invitation to each active member, with the time in their own zone."""
    from django_tenants.utils import tenant_context

    group = PeerGroup.objects.get(schema_name=schema)
    with tenant_context(group):
        meeting = Meeting.objects.get(pk=meeting_id)
        ics = meeting_ics([meeting])
        for membership in Membership.objects.filter(is_active=True).select_related("user"):
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


# --- Holding a meeting --------------------------------------------------------------------------


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
    will say no more than that a confidential topic was discussed."""
    item.confidential = confidential
    if confidential and notes.strip():
        group = _current_group()
        item.notes_sealed = crypto.seal(_data_key(create=True), notes, schema=group.schema_name)
        item.notes = ""
    else:
        item.notes, item.notes_sealed = (
            (notes, None) if not confidential else ("", item.notes_sealed)
        )
    item.save(update_fields=["confidential", "notes", "notes_sealed"])
    return item


def agenda_notes_texts(*, items: list[tuple[int, bool, str, bytes | None]]) -> dict[int, str]:
    """Notes by agenda item pk from (pk, confidential, notes, notes_sealed) rows, opening the
    group's data key once (and only if some item is sealed). A destroyed key reads as ""."""
    texts, key = {}, None
    for pk, confidential, notes, sealed in items:
        if not (confidential and sealed):
            texts[pk] = notes
            continue
        try:
            key = key or _data_key(create=False)
            texts[pk] = crypto.open_sealed(key, bytes(sealed), schema=_current_group().schema_name)
        except KeyDestroyed:
            texts[pk] = ""
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


CONFIDENTIAL_PLACEHOLDER = "A confidential topic was discussed."


@transaction.atomic
def minutes_publish(*, meeting: Meeting, actor: User) -> Minutes:
    """Write the minutes from the meeting (attendance, notes, everyone's action plan), leaving
    out anything marked confidential, and e-mail them to the group's active members."""
    items = list(meeting.agenda.select_related("member"))
    body = render_to_string(
        "groups/minutes.md",
        {
            "group": _current_group(),
            "meeting": meeting,
            "attendance": meeting.attendance.select_related("member").order_by("member__full_name"),
            "items": [
                (item, CONFIDENTIAL_PLACEHOLDER if item.confidential else item.notes)
                for item in items
            ],
            "commitments": meeting.commitments.select_related("owner"),
        },
    )
    minutes, _created = Minutes.objects.update_or_create(
        meeting=meeting,
        defaults={"body": body, "published_by": actor, "published_at": timezone.now()},
    )
    group = _current_group()
    recipients = list(
        Membership.objects.filter(is_active=True)
        .exclude(role=Membership.Role.EVALUATOR)
        .values_list("user__email", flat=True)
    )
    subject = _("Minutes: %(group)s, %(title)s") % {"group": group.name, "title": meeting.title}
    transaction.on_commit(lambda: _minutes_email(subject, body, recipients))
    return minutes


def _minutes_email(subject: str, body: str, recipients: list[str]) -> None:
    try:
        EmailMessage(subject=subject, body=body, bcc=recipients).send()
    except (OSError, smtplib.SMTPException):
        logger.warning("Minutes were not e-mailed")


# --- Calendar feeds, achievements, open seats ---------------------------------------------------


@transaction.atomic
def calendar_feed_issue(*, member: User) -> str:
    """A new secret feed address for `member` (the old one stops working). Returns the token."""
    token = secrets.token_urlsafe(24)
    CalendarFeed.objects.update_or_create(
        member=member, defaults={"token_hash": _token_hash(token)}
    )
    return token


def calendar_feed_revoke(*, member: User) -> None:
    CalendarFeed.objects.filter(member=member).delete()


def calendar_feed_member(*, token: str) -> User | None:
    """The active member a feed token belongs to, if any."""
    feed = (
        CalendarFeed.objects.select_related("member").filter(token_hash=_token_hash(token)).first()
    )
    if feed is None or not Membership.objects.filter(user=feed.member, is_active=True).exists():
        return None
    return feed.member


@transaction.atomic
def achievement_add(*, owner: User, kind: str, text: str, shareable: bool) -> Achievement:
    achievement = Achievement(owner=owner, kind=kind, text=text.strip(), shareable=shareable)
    achievement.full_clean()
    achievement.save()
    return achievement


@transaction.atomic
def achievement_celebrate(*, achievement: Achievement, by: User) -> None:
    Celebration.objects.get_or_create(achievement=achievement, by=by)


@transaction.atomic
def open_seats_set(*, seats: int, actor: User) -> PeerGroup:
    """Open (or close, with 0) seats for newcomers; the directory shows open seats."""
    if not 0 <= seats <= 12:
        raise ValidationError(_("Between 0 and 12 seats."))
    group = _group_row()
    group.open_seats = seats
    group.save(update_fields=["open_seats"])
    return group
