"""The mission and its six-monthly review."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import MissionReviewForm
from ..models import Mission
from ..permissions import access_group_steering, access_participation, can_steer_group
from ..selectors import mission_current, mission_review_due
from ..services.mission import mission_review_record
from .common import fail


@require_http_methods(["GET"])
def mission(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    return render(
        request,
        "groups/mission.html",
        {
            "versions": Mission.objects.select_related("adopted_by").prefetch_related("reviews"),
            "current": mission_current(),
            "review_due": mission_review_due(),
            "form": MissionReviewForm(),
            "can_steer": can_steer_group(request.membership),
        },
    )


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
