"""Opening an invitation link and joining."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..models import Invitation
from ..services.invitations import (
    invitation_accept,
    invitation_get_by_token,
    invitation_was_for,
)


@require_http_methods(["GET", "POST"])
def invitation_detail(request: HttpRequest, token: str) -> HttpResponse:
    """Open (GET) and accept (POST) an invitation. Signed-in non-members may reach this page."""
    invitation: Invitation | None = invitation_get_by_token(token=token)
    if (
        invitation is None
        and request.membership is not None
        and invitation_was_for(token=token, user=request.user)
    ):
        # Their own link, used already: they are in the group, so take them to it.
        return redirect("groups:group-home")
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
