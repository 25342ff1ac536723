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

from .models import Invitation, Membership, WorkerCheck

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
