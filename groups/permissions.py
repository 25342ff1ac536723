"""Who may do what inside a group. Society-admin status gives nothing here."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404

from directory.models import JoinRequest

from .models import (
    PARTICIPANT_ROLES,
    Achievement,
    Commitment,
    ConfidentialEntry,
    Goal,
    Invitation,
    Membership,
    SchedulingPoll,
)
from .selectors import meeting_get


def can_view_group(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active


def _is_point_person(membership: Membership | None) -> bool:
    return can_view_group(membership) and membership.role == Membership.Role.POINT_PERSON


def can_check_workers(membership: Membership | None) -> bool:
    return _is_point_person(membership)


def can_see_group_nudges(membership: Membership | None) -> bool:
    """The point-persons' nudges on the dashboard (no meeting planned, low attendance, join
    requests waiting): theirs, as the reminders are."""
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


PARTICIPANTS = PARTICIPANT_ROLES
PEERS = (Membership.Role.POINT_PERSON, Membership.Role.MEMBER)


def can_participate(membership: Membership | None) -> bool:
    return can_view_group(membership) and membership.role in PARTICIPANTS


def can_see_attendance(membership: Membership | None) -> bool:
    return can_view_group(membership)  # the evaluator too: figures, no content


def can_record_meeting(membership: Membership | None, meeting) -> bool:
    """The meeting's note-taker and the point-persons record it."""
    return can_participate(membership) and (
        membership.role == Membership.Role.POINT_PERSON
        or meeting.note_taker_id == membership.user_id
    )


def can_see_peers_only(membership: Membership | None) -> bool:
    return can_view_group(membership) and membership.role in PEERS


def access_participation(membership: Membership | None) -> Membership:
    """Working-space pages: 403 for the evaluator (who knows the group, not its content)."""
    if not can_participate(membership):
        raise PermissionDenied
    return membership


def access_attendance(membership: Membership | None) -> Membership:
    if not can_see_attendance(membership):
        raise PermissionDenied
    return membership


def access_meeting(membership: Membership | None, *, pk: int, write: bool = False):
    """A meeting: 404 if absent, 403 for the evaluator, and 403 to record it without the role."""
    access_participation(membership)
    meeting = meeting_get(pk=pk)
    if meeting is None:
        raise Http404
    if write and not can_record_meeting(membership, meeting):
        raise PermissionDenied
    return meeting


def access_confidential_thread(membership: Membership | None, *, pk: int):
    """A thread of the confidential space; peers-only threads do not exist for the facilitator."""
    access_participation(membership)
    entry = ConfidentialEntry.objects.select_related("author").filter(pk=pk, parent=None).first()
    if entry is None or (entry.peers_only and not can_see_peers_only(membership)):
        raise Http404
    return entry


def _found(obj):
    if obj is None:
        raise Http404
    return obj


def access_poll(membership: Membership | None, *, pk: int, write: bool = False) -> SchedulingPoll:
    """A poll: 403 for the evaluator, 404 if absent, 403 to choose its time without the role."""
    access_participation(membership)
    poll = _found(SchedulingPoll.objects.filter(pk=pk).first())
    if write and not can_steer_group(membership):
        raise PermissionDenied
    return poll


def access_goal(membership: Membership | None, *, pk: int) -> Goal:
    """A member's goal (the service lets only its owner change it); 404 if absent."""
    access_participation(membership)
    return _found(Goal.objects.filter(pk=pk).first())


def access_achievement(membership: Membership | None, *, pk: int) -> Achievement:
    access_participation(membership)
    return _found(Achievement.objects.filter(pk=pk).first())


def access_commitment(membership: Membership | None, *, pk: int) -> Commitment:
    """A commitment to review: its owner or a point-person; 404 if absent."""
    access_participation(membership)
    commitment = _found(Commitment.objects.select_related("meeting").filter(pk=pk).first())
    if commitment.owner_id != membership.user_id and not can_steer_group(membership):
        raise PermissionDenied
    return commitment


def access_invitation(membership: Membership | None, *, pk: int) -> Invitation:
    """An invitation of this group, for its point-persons; 404 if absent."""
    access_member_management(membership)
    return _found(Invitation.objects.filter(pk=pk).first())


def access_join_request(membership: Membership | None, *, pk: int) -> JoinRequest:
    """A request to join this group, for its point-persons; 404 for another group's."""
    access_member_management(membership)
    return _found(JoinRequest.objects.filter(pk=pk, group=connection.tenant).first())
