"""The mission: its versions, the six-monthly review, and a change between reviews."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import MissionChangeForm, MissionReviewForm
from ..models import Mission
from ..permissions import access_group_steering, access_participation, can_steer_group
from ..rules import mission_review_due  # a read the reminders share (groups.rules)
from ..selectors import mission_current
from ..services.mission import mission_change, mission_review_record
from .common import fail


def _mission_page(
    request: HttpRequest, change_form: MissionChangeForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "groups/mission.html",
        {
            "versions": Mission.objects.select_related("adopted_by").prefetch_related("reviews"),
            "current": mission_current(),
            "review_due": mission_review_due(),
            "form": MissionReviewForm(),
            "change_form": change_form or MissionChangeForm(),
            "can_steer": can_steer_group(request.membership),
        },
        status=status,
    )


@require_http_methods(["GET"])
def mission(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    return _mission_page(request)


@require_POST
def mission_review(request: HttpRequest) -> HttpResponse:
    access_group_steering(request.membership)
    form = MissionReviewForm(request.POST)
    if form.is_valid():
        try:
            mission_review_record(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            fail(request, exc)
        else:
            messages.success(request, _("Review recorded."))
    else:
        messages.error(request, _("Choose kept or revised."))
    return redirect("groups:mission")


@require_POST
def mission_change_view(request: HttpRequest) -> HttpResponse:
    """A point-person adopts a new mission version between reviews, saying why."""
    access_group_steering(request.membership)
    form = MissionChangeForm(request.POST)
    if form.is_valid():
        try:
            mission = mission_change(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Mission version %(n)s is in force; the reason is shown with it.")
                % {"n": mission.version},
            )
            return redirect("groups:mission")
    return _mission_page(request, change_form=form, status=400)
