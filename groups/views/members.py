"""Members: the list, invitations by the point-person, roles, removal."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import InvitationForm, MemberRemoveForm, RoleForm
from ..permissions import access_invitation, access_member_management, access_membership
from ..selectors import invitation_list_pending, membership_list
from ..services.invitations import invitation_create, invitation_email_send, invitation_revoke
from ..services.membership import membership_end, membership_role_set


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


@require_POST
def member_invite(request: HttpRequest) -> HttpResponse:
    access_member_management(request.membership)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        return _members_page(request, form, status=400)
    try:
        invitation, _token = invitation_create(actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        form.add_error("email", exc)
        return _members_page(request, form, status=400)
    invitation_email_send(invitation=invitation)  # the worker sends it, now or once it can
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


@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """A point-person removes a member: a page naming them (GET), then the confirmed POST."""
    target = access_membership(request.membership, pk=pk, write=True)
    if request.method == "GET":
        return render(
            request, "groups/member_remove.html", {"target": target, "form": MemberRemoveForm()}
        )
    if not MemberRemoveForm(request.POST).is_valid():
        messages.error(
            request,
            _("%(name)s was not removed: tick the box to confirm, then remove.")
            % {"name": target.user.display_name},
        )
        return redirect("groups:member-remove", pk=pk)
    try:
        membership_end(membership=target, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _(
                "%(name)s was removed from the group. Any invitation still pending for them "
                "was withdrawn."
            )
            % {"name": target.user.display_name},
        )
    return redirect("groups:members-manage")


@require_POST
def invitation_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A point-person withdraws a pending invitation."""
    invitation = access_invitation(request.membership, pk=pk)
    try:
        invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email}
        )
    return redirect("groups:members-manage")
