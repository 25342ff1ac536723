"""Who may use the society management pages (/manage/)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .models import User


def can_manage_society(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_society_admin)


def access_society_management(user: User) -> User:
    """The user, if a society admin; 403 for other signed-in people (the pages are no secret)."""
    if not can_manage_society(user):
        raise PermissionDenied
    return user
