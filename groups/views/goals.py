"""Members' own goals."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import GoalForm
from ..models import Goal
from ..permissions import access_goal, access_participation
from ..services.goals import goal_save


@require_http_methods(["GET", "POST"])
def goals(request: HttpRequest) -> HttpResponse:
    """Each member's goals, visible to the group only; members add their own."""
    access_participation(request.membership)
    form = GoalForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                goal_save(owner=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Goal added."))
                return redirect("groups:goals")
        status = 400
    return render(
        request,
        "groups/goals.html",
        {
            "goals": Goal.objects.select_related("owner").order_by("owner__full_name", "pk"),
            "form": form,
            "statuses": Goal.Status.choices,
        },
        status=status,
    )


@require_POST
def goal_status(request: HttpRequest, pk: int) -> HttpResponse:
    goal = access_goal(request.membership, pk=pk)
    if request.POST.get("status") not in Goal.Status.values:
        messages.error(request, _("Choose a status."))
        return redirect("groups:goals")
    goal_save(owner=request.user, goal=goal, status=request.POST["status"])
    return redirect("groups:goals")
