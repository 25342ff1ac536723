"""Answering a member's request (from the society directory) to join this group."""

from __future__ import annotations

from django.db import transaction

from directory.models import JoinRequest
from directory.services import join_request_decide
from society.models import User

from ..models import Membership
from .invitations import invitation_create, invitation_email_send


@transaction.atomic
def join_request_answer(*, request: JoinRequest, by: User, accept: bool) -> JoinRequest:
    """The point-person accepts (a seat is taken and the member is invited as a member) or
    declines (the member is told kindly). Runs in the group's schema; the caller checks the role.

    Side effects: the public JoinRequest and the group's open seats; after commit, the
    invitation e-mail. Raises ValidationError if already answered or no seat is left.
    """
    request = join_request_decide(request=request, by=by, accept=accept)
    if accept:
        invitation, _token = invitation_create(
            email=request.user.email, role=Membership.Role.MEMBER, actor=by
        )
        invitation_email_send(invitation=invitation)
    return request
