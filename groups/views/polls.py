"""Availability polls and choosing the time."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from society.inputs import parse_id, parse_ids

from ..forms import PollForm, localise
from ..models import SchedulingPoll
from ..permissions import access_group_steering, access_participation, access_poll, can_steer_group
from ..selectors import poll_ranked
from ..services.meetings import meeting_schedule
from ..services.polls import poll_create, poll_vote
from .common import fail


@require_http_methods(["GET", "POST"])
def polls(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    form = PollForm(request.POST or None)
    status = 200
    if request.method == "POST":
        access_group_steering(request.membership)
        if form.is_valid():
            try:
                poll = poll_create(
                    title=form.cleaned_data["title"],
                    duration_minutes=form.cleaned_data["duration_minutes"],
                    starts=[localise(t, request.user) for t in form.cleaned_data["times"]],
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error(None if exc.code == "paused" else "times", exc)
            else:
                return redirect("groups:poll-detail", pk=poll.pk)
        status = 400
    return render(
        request,
        "groups/polls.html",
        {
            "polls": SchedulingPoll.objects.select_related("meeting")[:20],
            "form": form if can_steer_group(request.membership) else None,
        },
        status=status,
    )


@require_http_methods(["GET"])
def poll_detail(request: HttpRequest, pk: int) -> HttpResponse:
    poll = access_poll(request.membership, pk=pk)
    ranks = poll_ranked(poll=poll)
    mine = {r.slot.pk for r in ranks if request.user in r.available}
    return render(
        request,
        "groups/poll_detail.html",
        {
            "poll": poll,
            "ranks": ranks,
            "mine": mine,
            "can_steer": can_steer_group(request.membership),
        },
    )


@require_POST
def poll_vote_view(request: HttpRequest, pk: int) -> HttpResponse:
    poll = access_poll(request.membership, pk=pk)
    chosen = parse_ids(request.POST.getlist("slot"))
    try:
        poll_vote(poll=poll, voter=request.user, available_slot_ids=chosen)
    except ValidationError as exc:
        fail(request, exc)
    else:
        messages.success(request, _("Your availability is saved."))
    return redirect("groups:poll-detail", pk=pk)


@require_POST
def poll_choose(request: HttpRequest, pk: int) -> HttpResponse:
    """A point-person picks a time: the meeting is created and invitations go out."""
    poll = access_poll(request.membership, pk=pk, write=True)
    slot_id = parse_id(request.POST.get("slot"))
    slot = poll.slots.filter(pk=slot_id).first() if slot_id else None
    if slot is None:
        messages.error(request, _("Choose one of the proposed times."))
        return redirect("groups:poll-detail", pk=pk)
    try:
        meeting = meeting_schedule(
            title=poll.title,
            starts_at=slot.starts_at,
            duration_minutes=poll.duration_minutes,
            link=request.POST.get("link", ""),
            actor=request.user,
            poll=poll,
        )
    except ValidationError as exc:
        fail(request, exc)
        return redirect("groups:poll-detail", pk=pk)
    messages.success(request, _("Meeting scheduled; invitations are on their way."))
    return redirect("groups:meeting-detail", pk=meeting.pk)
