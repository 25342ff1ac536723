"""Writes inside the current group schema, and the public rows that mirror them (index, audit)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from society.audit import audit_record
from society.models import AuditEvent, MembershipIndex, PeerGroup, User
from society.urls_helpers import group_url

from . import crypto
from .crypto import KeyDestroyed
from .models import ConfidentialEntry, GroupKey, Invitation, Membership, Mission, WorkerCheck

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
    return ConfidentialEntry.objects.create(author=author, peers_only=peers_only, ciphertext=sealed)


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
    """Destroy the group's confidential space for good: its data key, then its entries."""
    GroupKey.objects.all().delete()
    ConfidentialEntry.objects.all().delete()


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
