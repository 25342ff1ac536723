"""The point-persons' check that the worker runs this group's tasks."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..permissions import access_worker_checks
from ..selectors import worker_check_list
from ..services.workers import worker_check_request


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
