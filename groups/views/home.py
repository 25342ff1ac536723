"""The group's home (dashboard) and the newcomer's welcome page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ..models import Minutes
from ..permissions import (
    access_participation,
    can_check_workers,
    can_manage_members,
    can_participate,
    can_see_group_nudges,
    can_steer_group,
)
from ..selectors import (
    dashboard_get,
    meeting_next,
    member_rows,
    mission_current,
    point_person_nudges,
    reviews_due,
)
from ..services.charter import charter_get


@require_http_methods(["GET"])
def group_home(request: HttpRequest) -> HttpResponse:
    """The group dashboard: what is coming up (the next meeting, my open commitments, the
    mission's and norms' reviews, and for the point-persons the group's nudges), recent
    activity. Membership was checked by the middleware; the evaluator sees the members only."""
    participant = can_participate(request.membership)
    context = (
        dashboard_get(user_id=request.user.pk)
        if participant
        else {"memberships": member_rows(), "review_due": None}
    )
    if participant:
        context["reviews"] = reviews_due(group=request.tenant, mission_due=context["review_due"])
    if can_see_group_nudges(request.membership):
        context["nudges"] = point_person_nudges(group=request.tenant)
    return render(
        request,
        "groups/group_home.html",
        {
            **context,
            "participant": participant,
            "can_check_workers": can_check_workers(request.membership),
            "can_manage_members": can_manage_members(request.membership),
            "can_steer_group": can_steer_group(request.membership),
            "needs_pledge": participant and request.membership.pledge_accepted_at is None,
            "now": timezone.now(),
        },
    )


@require_http_methods(["GET"])
def welcome(request: HttpRequest) -> HttpResponse:
    """A newcomer's page: mission, norms, the next meeting, recent minutes."""
    access_participation(request.membership)
    return render(
        request,
        "groups/welcome.html",
        {
            "mission": mission_current(),
            "charter": charter_get(),
            "next_meeting": meeting_next(),
            "recent_minutes": Minutes.objects.select_related("meeting").order_by("-published_at")[
                :3
            ],
        },
    )
