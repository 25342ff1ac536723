"""Who may do what inside a group. Society-admin status gives nothing here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .models import Membership


def can_view_group(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active


def can_check_workers(membership: Membership | None) -> bool:
    return can_view_group(membership) and membership.role == Membership.Role.POINT_PERSON


def access_worker_checks(membership: Membership | None) -> Membership:
    """The membership if it may run worker checks; 403 for other members (who know the page)."""
    if not can_check_workers(membership):
        raise PermissionDenied
    return membership
