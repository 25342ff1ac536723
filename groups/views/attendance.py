"""Attendance over time, with the 50 % line."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from ..permissions import access_attendance
from ..selectors import attendance_summary


@require_http_methods(["GET"])
def attendance(request: HttpRequest) -> HttpResponse:
    """Attendance per member over a period, with the 50 % line (a chart and its table)."""
    access_attendance(request.membership)
    months = request.GET.get("months", "12")
    months = int(months) if months.isdigit() and 0 < int(months) <= 120 else 12
    summary = attendance_summary(since=timezone.now() - timedelta(days=30 * months))
    return render(request, "groups/attendance.html", {**summary, "months": months})
