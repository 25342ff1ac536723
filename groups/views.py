from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from directory.models import JoinRequest
from directory.selectors import join_requests_pending
from directory.services import join_request_decide

from .export import group_export_zip
from .forms import InvitationForm, RedefineForm, RoleForm, StageForm
from .models import Invitation
from .permissions import (
    access_group_steering,
    access_member_management,
    access_membership,
    access_worker_checks,
    can_check_workers,
    can_manage_members,
    can_participate,
    can_steer_group,
)
from .selectors import (
    dashboard_get,
    invitation_list_pending,
    member_rows,
    membership_list,
    mission_current,
    worker_check_list,
)
from .services import (
    group_conclude,
    group_pause_set,
    group_redefine,
    group_stage_set,
    invitation_accept,
    invitation_create,
    invitation_email_send,
    invitation_get_by_token,
    membership_end,
    membership_role_set,
    worker_check_request,
)

logger = logging.getLogger(__name__)


@require_http_methods(["GET"])
def group_home(request: HttpRequest) -> HttpResponse:
    """The group dashboard: next meeting, my open commitments, mission review, recent activity.
    Membership was checked by the middleware; the evaluator sees the members and figures only."""
    participant = can_participate(request.membership)
    context = (
        dashboard_get(user_id=request.user.pk)
        if participant
        else {"memberships": member_rows(), "review_due": None}
    )
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


def _members_page(request: HttpRequest, form: InvitationForm | None = None, status: int = 200):
    return render(
        request,
        "groups/members_manage.html",
        {
            "memberships": membership_list(),
            "invitations": invitation_list_pending(),
            "form": form or InvitationForm(),
            "roles": RoleForm.base_fields["role"].choices,
        },
        status=status,
    )


@require_http_methods(["GET"])
def members_manage(request: HttpRequest) -> HttpResponse:
    """Point-persons invite, re-role and remove members here."""
    access_member_management(request.membership)
    return _members_page(request)


@require_http_methods(["GET"])
def join_requests(request: HttpRequest) -> HttpResponse:
    """Requests to join from the society directory, while the group has open seats."""
    access_member_management(request.membership)
    return render(
        request,
        "groups/join_requests.html",
        {"requests": join_requests_pending(group=request.tenant), "group": request.tenant},
    )


@require_POST
def join_request_decide_view(request: HttpRequest, pk: int) -> HttpResponse:
    access_member_management(request.membership)
    join = JoinRequest.objects.filter(pk=pk, group=request.tenant).first()
    if join is None:
        raise Http404
    decision = request.POST.get("decision")
    if decision not in ("accept", "decline"):
        messages.error(request, _("Accept or decline the request."))
        return redirect("groups:join-requests")
    try:
        join_request_decide(request=join, by=request.user, accept=decision == "accept")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Accepted: %(name)s is invited.") % {"name": join.user.display_name}
            if decision == "accept"
            else _("Declined; they are told kindly."),
        )
    return redirect("groups:join-requests")


@require_POST
def member_invite(request: HttpRequest) -> HttpResponse:
    access_member_management(request.membership)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _members_page(request, form, status=400)
    try:
        invitation, token = invitation_create(actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        form.add_error("email", exc)
        return _members_page(request, form, status=400)
    try:
        invitation_email_send(invitation=invitation, token=token)
    except (smtplib.SMTPException, OSError):
        logger.warning("Invitation %s could not be e-mailed", invitation.pk)
        messages.error(
            request,
            _("The invitation was saved but the e-mail could not be sent. Invite again later."),
        )
    else:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
    return redirect("groups:members-manage")


@require_POST
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    target = access_membership(request.membership, pk=pk, write=True)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            membership_role_set(
                membership=target, role=form.cleaned_data["role"], actor=request.user
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Role changed."))
    else:
        messages.error(request, _("Choose one of the roles."))
    return redirect("groups:members-manage")


@require_POST
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    target = access_membership(request.membership, pk=pk, write=True)
    try:
        membership_end(membership=target, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("%(name)s left the group.") % {"name": target.user.display_name}
        )
    return redirect("groups:members-manage")


@require_http_methods(["GET", "POST"])
def invitation_detail(request: HttpRequest, token: str) -> HttpResponse:
    """Open (GET) and accept (POST) an invitation. Signed-in non-members may reach this page."""
    invitation: Invitation | None = invitation_get_by_token(token=token)
    if invitation is None:
        return render(request, "groups/invitation_invalid.html", status=404)
    if invitation.email.lower() != request.user.email.lower():
        return render(
            request, "groups/invitation_other_address.html", {"invitation": invitation}, status=403
        )
    if request.membership is not None:
        return redirect("groups:group-home")
    if request.method == "POST":
        try:
            with transaction.atomic():
                invitation_accept(invitation=invitation, user=request.user)
        except (ValidationError, PermissionDenied):
            return render(request, "groups/invitation_invalid.html", status=404)
        messages.success(request, _("Welcome to %(group)s.") % {"group": request.group.name})
        return redirect("groups:group-home")
    return render(request, "groups/invitation_detail.html", {"invitation": invitation})


@require_http_methods(["GET", "POST"])
def worker_check(request: HttpRequest) -> HttpResponse:
    """Point-persons check that background work runs in this group (GET shows, POST queues)."""
    access_worker_checks(request.membership)
    if request.method == "POST":
        worker_check_request(actor=request.user)
        messages.success(request, _("Check queued. It shows as done once the worker has run it."))
        return redirect("groups:worker-check")
    template = (
        "groups/partials/worker_check_rows.html" if request.htmx else "groups/worker_check.html"
    )
    return render(request, template, {"checks": worker_check_list()})


# --- Lifecycle --------------------------------------------------------------------------------


def _lifecycle_page(request, redefine_form=None, status=200):
    return render(
        request,
        "groups/lifecycle.html",
        {
            "stage_form": StageForm(initial={"stage": request.group.stage}),
            "redefine_form": redefine_form or RedefineForm(),
            "mission": mission_current(),
            "export_window_days": settings.HORIZONTAL_EXPORT_WINDOW_DAYS,
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


@require_http_methods(["GET"])
def export(request: HttpRequest) -> HttpResponse:
    """The group's own export (zip): data as JSON, minutes as Markdown, meetings as .ics."""
    access_group_steering(request.membership)
    response = HttpResponse(group_export_zip(), content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="{request.group.slug}-export-{timezone.now():%Y-%m-%d}.zip"'
    )
    return response
