"""Who is in the group, with which role; the public index that mirrors it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from society.audit import audit_record
from society.models import AuditEvent, MembershipIndex, User

from ..models import (
    Invitation,
    Membership,
)
from .context import current_group


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
    group = current_group()
    membership, _created = Membership.objects.update_or_create(
        user=user, defaults={"role": role, "is_active": True, "ended_at": None}
    )
    MembershipIndex.objects.update_or_create(
        user=user, group=group, defaults={"is_point_person": role == Membership.Role.POINT_PERSON}
    )
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
    MembershipIndex.objects.filter(user_id=membership.user_id, group=current_group()).update(
        is_point_person=role == Membership.Role.POINT_PERSON
    )
    audit_record(
        kind=AuditEvent.Kind.ROLE_CHANGED,
        actor=actor,
        subject=membership.user,
        group=current_group(),
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
    group = current_group()
    membership.is_active = False
    membership.ended_at = timezone.now()
    membership.save(update_fields=["is_active", "ended_at"])
    # Any other way back in (a re-sent invitation, a founder's, an accepted join request's)
    # ends with the membership.
    Invitation.objects.filter(
        email__iexact=membership.user.email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=membership.ended_at, revoked_by=actor)
    MembershipIndex.objects.filter(user_id=membership.user_id, group=group).delete()
    audit_record(
        kind=AuditEvent.Kind.MEMBER_REMOVED, actor=actor, subject=membership.user, group=group
    )
    return membership
