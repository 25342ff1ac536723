"""Who may do what inside a group. Society-admin status gives nothing here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Membership


def can_view_group(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active


def _is_point_person(membership: Membership | None) -> bool:
    return can_view_group(membership) and membership.role == Membership.Role.POINT_PERSON


def can_check_workers(membership: Membership | None) -> bool:
    return _is_point_person(membership)


def can_manage_members(membership: Membership | None) -> bool:
    return _is_point_person(membership)


def access_worker_checks(membership: Membership | None) -> Membership:
    """The membership if it may run worker checks; 403 for other members (who know the page)."""
    if not can_check_workers(membership):
        raise PermissionDenied
    return membership


def access_member_management(membership: Membership | None) -> Membership:
    """The membership if it may invite, re-role and remove members; 403 for other members."""
    if not can_manage_members(membership):
        raise PermissionDenied
    return membership


def access_membership(viewer: Membership | None, *, pk: int, write: bool) -> Membership:
    """Another active membership of this group; 404 if absent, 403 to change it without the role."""
    target = Membership.objects.select_related("user").filter(pk=pk, is_active=True).first()
    if target is None or not can_view_group(viewer):
        raise Http404
    if write and not can_manage_members(viewer):
        raise PermissionDenied
    return target


def can_steer_group(membership: Membership | None) -> bool:
    """Stage, pause, redefine, conclude and export: the point-persons' job."""
    return _is_point_person(membership)


def access_group_steering(membership: Membership | None) -> Membership:
    if not can_steer_group(membership):
        raise PermissionDenied
    return membership
