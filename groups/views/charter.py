"""The norms and the confidentiality pledge."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import CharterForm
from ..permissions import access_group_steering, access_participation, can_steer_group
from ..rules import charter_review_due  # a read the reminders share (groups.rules)
from ..services.charter import charter_get, charter_update, pledge_accept


@require_http_methods(["GET", "POST"])
def charter(request: HttpRequest) -> HttpResponse:
    """The norms; point-persons edit them, every member accepts the pledge."""
    access_participation(request.membership)
    current = charter_get()
    form = CharterForm(request.POST or None, instance=current)
    if request.method == "POST":
        access_group_steering(request.membership)
        if form.is_valid():
            try:
                charter_update(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Norms saved."))
                return redirect("groups:charter")
        return render(
            request, "groups/charter.html", {"charter": current, "form": form}, status=400
        )
    return render(
        request,
        "groups/charter.html",
        {
            "charter": current,
            "form": form if can_steer_group(request.membership) else None,
            "review_due": charter_review_due(request.tenant),
        },
    )


@require_POST
def pledge_accept_view(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    pledge_accept(membership=request.membership)
    messages.success(request, _("Thank you. The pledge is recorded."))
    return redirect("groups:charter")
