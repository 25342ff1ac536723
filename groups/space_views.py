"""The group's working space: mission, norms, goals, scheduling, meetings, minutes, attendance,
the confidential space, achievements, open seats and the newcomer's page."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .forms import (
    AchievementForm,
    CharterForm,
    CommitmentForm,
    CommitmentReviewForm,
    ConfidentialForm,
    GoalForm,
    MeetingForm,
    MissionReviewForm,
    NotesForm,
    PollForm,
    ReplyForm,
    SeatsForm,
    localise,
)
from .models import (
    Achievement,
    Commitment,
    ConfidentialEntry,
    Goal,
    Meeting,
    Membership,
    Minutes,
    SchedulingPoll,
)
from .permissions import (
    access_attendance,
    access_confidential_thread,
    access_group_steering,
    access_meeting,
    access_participation,
    can_record_meeting,
    can_see_peers_only,
    can_steer_group,
)
from .selectors import (
    attendance_summary,
    meeting_detail,
    mission_current,
    mission_review_due,
    poll_ranked,
)


def _fail(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


# --- Mission and norms -------------------------------------------------------------------------


@require_http_methods(["GET"])
def mission(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    from .models import Mission

    return render(
        request,
        "groups/mission.html",
        {
            "versions": Mission.objects.select_related("adopted_by").prefetch_related("reviews"),
            "current": mission_current(),
            "review_due": mission_review_due(),
            "form": MissionReviewForm(),
            "can_steer": can_steer_group(request.membership),
        },
    )


@require_POST
def mission_review(request: HttpRequest) -> HttpResponse:
    access_group_steering(request.membership)
    form = MissionReviewForm(request.POST)
    if form.is_valid():
        try:
            services.mission_review_record(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _fail(request, exc)
        else:
            messages.success(request, _("Review recorded."))
    else:
        messages.error(request, _("Choose kept or revised."))
    return redirect("groups:mission")


@require_http_methods(["GET", "POST"])
def charter(request: HttpRequest) -> HttpResponse:
    """The norms; point-persons edit them, every member accepts the pledge."""
    access_participation(request.membership)
    current = services.charter_get()
    form = CharterForm(request.POST or None, instance=current)
    if request.method == "POST":
        access_group_steering(request.membership)
        if form.is_valid():
            try:
                services.charter_update(actor=request.user, **form.cleaned_data)
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
        },
    )


@require_POST
def pledge_accept(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    services.pledge_accept(membership=request.membership)
    messages.success(request, _("Thank you. The pledge is recorded."))
    return redirect("groups:charter")


# --- Goals ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def goals(request: HttpRequest) -> HttpResponse:
    """Each member's goals, visible to the group only; members add their own."""
    access_participation(request.membership)
    form = GoalForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            services.goal_save(owner=request.user, **form.cleaned_data)
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
    access_participation(request.membership)
    goal = Goal.objects.filter(pk=pk).first()
    if goal is None:
        raise Http404
    if request.POST.get("status") not in Goal.Status.values:
        messages.error(request, _("Choose a status."))
        return redirect("groups:goals")
    services.goal_save(owner=request.user, goal=goal, status=request.POST["status"])
    return redirect("groups:goals")


# --- Scheduling ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def polls(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    form = PollForm(request.POST or None)
    status = 200
    if request.method == "POST":
        access_group_steering(request.membership)
        if form.is_valid():
            try:
                poll = services.poll_create(
                    title=form.cleaned_data["title"],
                    duration_minutes=form.cleaned_data["duration_minutes"],
                    starts=[localise(t, request.user) for t in form.cleaned_data["times"]],
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error("times", exc)
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


def _poll_or_404(pk: int) -> SchedulingPoll:
    poll = SchedulingPoll.objects.filter(pk=pk).first()
    if poll is None:
        raise Http404
    return poll


@require_http_methods(["GET"])
def poll_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access_participation(request.membership)
    poll = _poll_or_404(pk)
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
def poll_vote(request: HttpRequest, pk: int) -> HttpResponse:
    access_participation(request.membership)
    poll = _poll_or_404(pk)
    chosen = {int(v) for v in request.POST.getlist("slot") if v.isdigit()}
    try:
        services.poll_vote(poll=poll, voter=request.user, available_slot_ids=chosen)
    except ValidationError as exc:
        _fail(request, exc)
    else:
        messages.success(request, _("Your availability is saved."))
    return redirect("groups:poll-detail", pk=pk)


@require_POST
def poll_choose(request: HttpRequest, pk: int) -> HttpResponse:
    """A point-person picks a time: the meeting is created and invitations go out."""
    access_group_steering(request.membership)
    poll = _poll_or_404(pk)
    slot = poll.slots.filter(pk=request.POST.get("slot") or 0).first()
    if slot is None:
        messages.error(request, _("Choose one of the proposed times."))
        return redirect("groups:poll-detail", pk=pk)
    try:
        meeting = services.meeting_schedule(
            title=poll.title,
            starts_at=slot.starts_at,
            duration_minutes=poll.duration_minutes,
            link=request.POST.get("link", ""),
            actor=request.user,
            poll=poll,
        )
    except ValidationError as exc:
        _fail(request, exc)
        return redirect("groups:poll-detail", pk=pk)
    messages.success(request, _("Meeting scheduled; invitations are on their way."))
    return redirect("groups:meeting-detail", pk=meeting.pk)


# --- Meetings -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def meetings(request: HttpRequest) -> HttpResponse:
    """Upcoming and past meetings; point-persons can also schedule one directly (a social)."""
    access_participation(request.membership)
    form = MeetingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        access_group_steering(request.membership)
        if form.is_valid():
            data = form.cleaned_data
            try:
                meeting = services.meeting_schedule(
                    title=data["title"],
                    starts_at=localise(data["starts"], request.user),
                    duration_minutes=data["duration_minutes"],
                    link=data["link"],
                    place=data["place"],
                    actor=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("groups:meeting-detail", pk=meeting.pk)
        status = 400
    now = timezone.now()
    return render(
        request,
        "groups/meetings.html",
        {
            "upcoming": Meeting.objects.filter(starts_at__gte=now).order_by("starts_at")[:10],
            "past": Meeting.objects.filter(starts_at__lt=now).order_by("-starts_at")[:20],
            "form": form if can_steer_group(request.membership) else None,
        },
        status=status,
    )


@require_http_methods(["GET"])
def meeting_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = access_meeting(request.membership, pk=pk)
    context = meeting_detail(meeting=meeting)
    can_record = can_record_meeting(request.membership, meeting)
    return render(
        request,
        "groups/meeting_detail.html",
        {
            **context,
            "meeting": meeting,
            "can_record": can_record,
            "outcomes": CommitmentReviewForm.base_fields["outcome"].choices,
        },
    )


@require_POST
def meeting_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = access_meeting(request.membership, pk=pk, write=True)
    present = {int(v) for v in request.POST.getlist("present") if v.isdigit()}
    services.attendance_record(meeting=meeting, present_ids=present, actor=request.user)
    messages.success(request, _("Attendance saved."))
    return redirect("groups:meeting-detail", pk=pk)


@require_POST
def meeting_notes(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    meeting = access_meeting(request.membership, pk=pk, write=True)
    agenda_item = meeting.agenda.filter(pk=item).first()
    if agenda_item is None:
        raise Http404
    form = NotesForm(request.POST)
    if form.is_valid():
        services.agenda_notes_record(item=agenda_item, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Notes saved."))
    return redirect("groups:meeting-detail", pk=pk)


@require_POST
def meeting_commitment(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = access_meeting(request.membership, pk=pk, write=True)
    form = CommitmentForm(request.POST)
    owner = None
    if form.is_valid():
        owner = (
            Membership.objects.filter(user_id=form.cleaned_data["owner"], is_active=True)
            .select_related("user")
            .first()
        )
    if owner is None:
        messages.error(request, _("Write the action plan for one of the members."))
        return redirect("groups:meeting-detail", pk=pk)
    try:
        services.commitment_add(
            meeting=meeting, owner=owner.user, text=form.cleaned_data["text"], actor=request.user
        )
    except ValidationError as exc:
        _fail(request, exc)
    return redirect("groups:meeting-detail", pk=pk)


@require_POST
def commitment_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Last meeting's commitment marked kept / partly kept / dropped, by its owner or recorder."""
    access_participation(request.membership)
    commitment = Commitment.objects.select_related("meeting").filter(pk=pk).first()
    if commitment is None:
        raise Http404
    if commitment.owner_id != request.user.pk and not can_steer_group(request.membership):
        raise PermissionDenied
    form = CommitmentReviewForm(request.POST)
    if form.is_valid():
        try:
            services.commitment_review(
                commitment=commitment, actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _fail(request, exc)
    else:
        messages.error(request, _("Choose kept, partly kept or dropped."))
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/") and not back.startswith("//") else "/")


@require_http_methods(["GET", "POST"])
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """Read the minutes (GET); the note-taker or a point-person publishes them (POST)."""
    meeting = access_meeting(request.membership, pk=pk, write=request.method == "POST")
    if request.method == "POST":
        services.minutes_publish(meeting=meeting, actor=request.user)
        messages.success(request, _("Minutes published and e-mailed to the group."))
        return redirect("groups:meeting-minutes", pk=pk)
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is None:
        raise Http404
    return render(request, "groups/minutes.html", {"meeting": meeting, "minutes": minutes})


@require_http_methods(["GET"])
def meeting_ics(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = access_meeting(request.membership, pk=pk)
    response = HttpResponse(services.meeting_ics([meeting]), content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response


# --- Attendance ---------------------------------------------------------------------------------


@require_http_methods(["GET"])
def attendance(request: HttpRequest) -> HttpResponse:
    """Attendance per member over a period, with the 50 % line (a chart and its table)."""
    access_attendance(request.membership)
    months = request.GET.get("months", "12")
    months = int(months) if months.isdigit() and 0 < int(months) <= 120 else 12
    summary = attendance_summary(since=timezone.now() - timedelta(days=30 * months))
    return render(request, "groups/attendance.html", {**summary, "months": months})


# --- Confidential space --------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def confidential(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    form = ConfidentialForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            peers_only = form.cleaned_data["peers_only"] and can_see_peers_only(request.membership)
            entry = services.confidential_entry_create(
                author=request.user, text=form.cleaned_data["text"], peers_only=peers_only
            )
            return redirect("groups:confidential-thread", pk=entry.pk)
        status = 400
    else:
        status = 200
    threads = ConfidentialEntry.objects.filter(parent=None).select_related("author")
    if not can_see_peers_only(request.membership):
        threads = threads.filter(peers_only=False)
    try:
        items = [(t, services.confidential_entry_text(entry=t)) for t in threads]
    except services.KeyDestroyed:
        items = []
    return render(
        request,
        "groups/confidential.html",
        {
            "threads": items,
            "form": form,
            "can_peers_only": can_see_peers_only(request.membership),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def confidential_thread(request: HttpRequest, pk: int) -> HttpResponse:
    thread = access_confidential_thread(request.membership, pk=pk)
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.confidential_reply(
            thread=thread, author=request.user, text=form.cleaned_data["text"]
        )
        return redirect("groups:confidential-thread", pk=pk)
    entries = [thread, *thread.replies.select_related("author").order_by("pk")]
    return render(
        request,
        "groups/confidential_thread.html",
        {
            "thread": thread,
            "form": form,
            "entries": [(e, services.confidential_entry_text(entry=e)) for e in entries],
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Achievements, seats, newcomers, calendar feeds --------------------------------------------


@require_http_methods(["GET", "POST"])
def achievements(request: HttpRequest) -> HttpResponse:
    access_participation(request.membership)
    form = AchievementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.achievement_add(
            owner=request.user,
            **{k: form.cleaned_data[k] for k in ("kind", "text", "shareable")},
        )
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
def achievement_celebrate(request: HttpRequest, pk: int) -> HttpResponse:
    access_participation(request.membership)
    achievement = Achievement.objects.filter(pk=pk).first()
    if achievement is None:
        raise Http404
    services.achievement_celebrate(achievement=achievement, by=request.user)
    return redirect("groups:achievements")


@require_POST
def seats(request: HttpRequest) -> HttpResponse:
    access_group_steering(request.membership)
    form = SeatsForm(request.POST)
    if form.is_valid():
        services.open_seats_set(seats=form.cleaned_data["seats"], actor=request.user)
        messages.success(request, _("Open seats updated."))
    else:
        messages.error(request, _("Between 0 and 12 seats."))
    return redirect("groups:lifecycle")


@require_http_methods(["GET"])
def welcome(request: HttpRequest) -> HttpResponse:
    """A newcomer's page: mission, norms, the next meeting, recent minutes."""
    access_participation(request.membership)
    from .selectors import meeting_next

    return render(
        request,
        "groups/welcome.html",
        {
            "mission": mission_current(),
            "charter": services.charter_get(),
            "next_meeting": meeting_next(),
            "recent_minutes": Minutes.objects.select_related("meeting").order_by("-published_at")[
                :3
            ],
        },
    )


@require_http_methods(["GET", "POST"])
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """A member's secret calendar-feed address: issue a new one, or revoke it."""
    access_participation(request.membership)
    token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.calendar_feed_revoke(member=request.user)
            messages.success(request, _("The feed address no longer works."))
        else:
            token = services.calendar_feed_issue(member=request.user)
    return render(request, "groups/calendar.html", {"token": token})


@require_http_methods(["GET"])
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The member's meetings as a calendar feed. The secret token is the only credential
    (calendar apps carry no session); a revoked or unknown token is a 404."""
    member = services.calendar_feed_member(token=token.removesuffix(".ics"))
    if member is None:
        raise Http404
    upcoming = Meeting.objects.filter(starts_at__gte=timezone.now() - timedelta(days=90))
    return HttpResponse(services.meeting_ics(upcoming), content_type="text/calendar")
