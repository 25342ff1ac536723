"""Reads inside the current group schema."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from .models import Invitation, Membership, Mission, WorkerCheck


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
