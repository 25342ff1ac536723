"""Answering members' requests to join from the society directory."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from directory.selectors import join_requests_pending

from ..permissions import access_join_request, access_member_management
from ..services.join_requests import join_request_answer


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
    join = access_join_request(request.membership, pk=pk)
    decision = request.POST.get("decision")
    if decision not in ("accept", "decline"):
        messages.error(request, _("Accept or decline the request."))
        return redirect("groups:join-requests")
    try:
        join_request_answer(request=join, by=request.user, accept=decision == "accept")
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
