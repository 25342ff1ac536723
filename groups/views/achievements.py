"""Wins and celebrations."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ..forms import AchievementForm
from ..models import Achievement
from ..permissions import access_achievement, access_participation
from ..services.achievements import achievement_add, achievement_celebrate


@require_http_methods(["GET", "POST"])
def achievements(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    form = AchievementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            achievement_add(
                owner=request.user,
                **{k: form.cleaned_data[k] for k in ("kind", "text", "achieved_on", "shareable")},
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Congratulations!"))
            return redirect("groups:achievements")
    return render(
        request,
        "groups/achievements.html",
        {
            "achievements": Achievement.objects.select_related("owner").prefetch_related(
                "celebrations"
            ),
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def achievement_celebrate_view(request: HttpRequest, pk: int) -> HttpResponse:
    achievement = access_achievement(request.membership, pk=pk)
    achievement_celebrate(achievement=achievement, by=request.user)
    return redirect("groups:achievements")
