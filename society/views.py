from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .selectors import group_list_for_user
from .urls_helpers import group_url


def home(request: HttpRequest) -> HttpResponse:
    """The society's front page; signed-in members also see links to their groups."""
    my_groups = []
    if request.user.is_authenticated:
        my_groups = [
            {"name": g.name, "url": group_url(g.slug)}
            for g in group_list_for_user(user=request.user)
        ]
    return render(request, "society/home.html", {"my_groups": my_groups})


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and `make run`: answers once the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
