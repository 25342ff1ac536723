"""Each member's calendar feed."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ..models import Meeting
from ..permissions import access_participation
from ..services.calendar import calendar_feed_issue, calendar_feed_member, calendar_feed_revoke
from ..services.meetings import meeting_ics


@require_http_methods(["GET", "POST"])
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """A member's secret calendar-feed address: issue a new one, or revoke it."""
    access_participation(request.membership)
    token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            calendar_feed_revoke(member=request.user)
            messages.success(request, _("The feed address no longer works."))
        else:
            token = calendar_feed_issue(member=request.user)
    return render(request, "groups/calendar.html", {"token": token})


@require_http_methods(["GET"])
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The member's meetings as a calendar feed. The secret token is the only credential
    (calendar apps carry no session); a revoked or unknown token is a 404."""
    member = calendar_feed_member(token=token.removesuffix(".ics"))
    if member is None:
        raise Http404
    upcoming = Meeting.objects.filter(starts_at__gte=timezone.now() - timedelta(days=90))
    return HttpResponse(meeting_ics(upcoming), content_type="text/calendar")
