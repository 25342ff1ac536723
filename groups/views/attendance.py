"""Attendance over time, with the 50 % line."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from society.inputs import parse_int

from ..permissions import access_attendance
from ..selectors import attendance_summary


@require_http_methods(["GET"])
def attendance(request: HttpRequest) -> HttpResponse:
    """Attendance per member over a period, with the 50 % line (a chart and its table)."""
    access_attendance(request.membership)
    months = parse_int(request.GET.get("months"), min=1, max=120, default=12)
    summary = attendance_summary(since=timezone.now() - timedelta(days=30 * months))
    return render(request, "groups/attendance.html", {**summary, "months": months})
