"""Kram's phases, pause, redefine, conclude, export, open seats."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..export import group_export_zip
from ..forms import RedefineForm, SeatsForm, StageForm
from ..permissions import access_group_steering
from ..selectors import mission_current
from ..services.lifecycle import (
    group_conclude,
    group_pause_set,
    group_redefine,
    group_reopen,
    group_reopen_days_left,
    group_stage_set,
    open_seats_set,
)


def _lifecycle_page(request, redefine_form=None, status=200):
    return render(
        request,
        "groups/lifecycle.html",
        {
            "stage_form": StageForm(initial={"stage": request.group.stage}),
            "redefine_form": redefine_form or RedefineForm(),
            "mission": mission_current(),
            "export_window_days": settings.HORIZONTAL_EXPORT_WINDOW_DAYS,
            "reopen_days_left": group_reopen_days_left(request.group),
        },
        status=status,
    )


@require_http_methods(["GET"])
def lifecycle(request: HttpRequest) -> HttpResponse:
    """Point-persons move the group through Kram's phases, pause, redefine or conclude it."""
    access_group_steering(request.membership)
    return _lifecycle_page(request)


def _lifecycle_action(request: HttpRequest, action, success: str) -> HttpResponse:
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, success)
    return redirect("groups:lifecycle")


@require_POST
def lifecycle_stage(request: HttpRequest) -> HttpResponse:
    access_group_steering(request.membership)
    form = StageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the stages."))
        return redirect("groups:lifecycle")
    return _lifecycle_action(
        request,
        lambda: group_stage_set(stage=form.cleaned_data["stage"], actor=request.user),
        _("Stage changed."),
    )


@require_POST
def lifecycle_pause(request: HttpRequest) -> HttpResponse:
    access_group_steering(request.membership)
    paused = request.POST.get("paused") == "1"
    return _lifecycle_action(
        request,
        lambda: group_pause_set(paused=paused, actor=request.user),
        _("The group is paused.") if paused else _("The group is active again."),
    )


@require_POST
def lifecycle_redefine(request: HttpRequest) -> HttpResponse:
    access_group_steering(request.membership)
    form = RedefineForm(request.POST)
    if not form.is_valid():
        return _lifecycle_page(request, redefine_form=form, status=400)
    return _lifecycle_action(
        request,
        lambda: group_redefine(mission_text=form.cleaned_data["mission"], actor=request.user),
        _("The group is redefined: a new mission version is in force."),
    )


@require_POST
def lifecycle_conclude(request: HttpRequest) -> HttpResponse:
    access_group_steering(request.membership)
    if request.POST.get("confirm") != "conclude":
        messages.error(request, _("Tick the box to confirm that the group concludes."))
        return redirect("groups:lifecycle")
    return _lifecycle_action(
        request,
        lambda: group_conclude(actor=request.user),
        _("The group has concluded. Download its export within %(days)s days.")
        % {"days": settings.HORIZONTAL_EXPORT_WINDOW_DAYS},
    )


@require_POST
def lifecycle_reopen(request: HttpRequest) -> HttpResponse:
    """Undo a conclusion within the export window (the one POST a concluded group accepts)."""
    access_group_steering(request.membership)
    return _lifecycle_action(
        request,
        lambda: group_reopen(actor=request.user),
        _("The group is active again; its confidential space will not be destroyed."),
    )


@require_http_methods(["GET"])
def export(request: HttpRequest) -> HttpResponse:
    """The group's own export (zip): data as JSON, minutes as Markdown, meetings as .ics."""
    membership = access_group_steering(request.membership)
    response = HttpResponse(group_export_zip(membership=membership), content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{request.group.slug}-export-{timezone.now():%Y-%m-%d}.zip"'
    )
    return response


@require_POST
def seats(request: HttpRequest) -> HttpResponse:
    access_group_steering(request.membership)
    form = SeatsForm(request.POST)
    if form.is_valid():
        open_seats_set(seats=form.cleaned_data["seats"], actor=request.user)
        seats = form.cleaned_data["seats"]
        messages.success(
            request,
            _("The group now has %(n)s open seat(s) in the society directory.") % {"n": seats}
            if seats
            else _("The group is closed to requests to join."),
        )
    else:
        messages.error(request, _("Between 0 and 12 seats."))
    return redirect("groups:join-requests")
