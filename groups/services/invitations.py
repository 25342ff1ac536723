"""Invitations by e-mail: made, sent, found by token, accepted."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from society.audit import audit_record
from society.models import AuditEvent, User
from society.outbox import email_enqueue

from ..models import (
    Invitation,
    Membership,
)
from .context import current_group
from .membership import membership_add

INVITATION_LIFETIME = timedelta(days=14)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(*, email: str, role: str, actor: User) -> tuple[Invitation, str]:
    """Invite `email` to the current group; returns the invitation and its one-time token.

    Side effects: makes a (password-less) account for a new address, so the invitee can sign
    in by e-mail code or be linked by their institution's sign-in; withdraws any invitation
    to the same address still pending (only the newest link works, with the newest role);
    audit event.
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
    now = timezone.now()
    Invitation.objects.filter(
        email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(revoked_at=now, revoked_by=actor)
    nonce = secrets.token_urlsafe(32)
    token = invitation_token(nonce)
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        token_nonce=nonce,
        token_hash=token_hash(token),
        invited_by=actor,
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    audit_record(
        kind=AuditEvent.Kind.INVITATION_SENT, actor=actor, group=current_group(), detail=role
    )
    return invitation, token


def invitation_token(nonce: str) -> str:
    """An invitation link's token, from its stored nonce and the secret key."""
    return salted_hmac("horizontal.invitation", nonce, algorithm="sha256").hexdigest()


def invitation_email_send(*, invitation: Invitation) -> None:
    """Record, in the outbox, the e-mail with the invitation link (group name, inviter, role;
    nothing from inside the group); the worker writes and sends it
    (groups.emails.group_invitation). Never raises for the mail server: it is not asked."""
    group = current_group()
    email_enqueue(
        key=f"invitation:{group.schema_name}:{invitation.pk}",
        kind="group_invitation",
        to=invitation.email,
        group=group,
        context={"invitation": invitation.pk},
    )


def invitation_was_for(*, token: str, user: User) -> bool:
    """Whether this token belongs to an invitation (in any state) sent to `user`'s address."""
    return Invitation.objects.filter(
        token_hash=token_hash(token), email__iexact=user.email
    ).exists()


def invitation_get_by_token(*, token: str) -> Invitation | None:
    """The invitation this token opens, if it is still pending."""
    invitation = Invitation.objects.filter(token_hash=token_hash(token)).first()
    if invitation is None or not invitation.is_pending:
        return None
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    """A point-person withdraws a pending invitation: its link stops working at once.

    Raises ValidationError if it was already accepted, revoked or expired.
    """
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending:
        raise ValidationError(_("This invitation is no longer pending."))
    invitation.revoked_at, invitation.revoked_by = timezone.now(), actor
    invitation.save(update_fields=["revoked_at", "revoked_by"])
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
    ended = Membership.objects.filter(user=user, is_active=False, ended_at__isnull=False).first()
    if ended is not None and invitation.created_at <= ended.ended_at:
        raise ValidationError(
            _(
                "Your membership of this group was ended after this invitation was sent. "
                "Ask a point-person for a new invitation."
            )
        )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    membership = membership_add(user=user, role=invitation.role, actor=invitation.invited_by)
    audit_record(
        kind=AuditEvent.Kind.INVITATION_ACCEPTED,
        actor=user,
        subject=user,
        group=current_group(),
        detail=invitation.role,
    )
    return membership
