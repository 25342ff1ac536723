"""Meetings: list, page, corrections (edit, move, cancel), attendance, notes, commitments,
minutes, .ics."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from society.inputs import parse_ids
from society.urls_helpers import safe_redirect_or

from ..forms import (
    CommitmentForm,
    CommitmentReviewForm,
    MeetingCancelForm,
    MeetingEditForm,
    MeetingForm,
    MeetingNotesForm,
    localise,
)
from ..models import PARTICIPANT_ROLES, Meeting, Membership, Minutes
from ..permissions import (
    access_commitment,
    access_group_steering,
    access_meeting,
    access_participation,
    can_record_meeting,
    can_steer_group,
)
from ..scheduling import zone_of
from ..selectors import meeting_detail
from ..services.meetings import (
    agenda_notes_record_many,
    attendance_record,
    commitment_add,
    commitment_review,
    meeting_cancel,
    meeting_one_ics,
    meeting_schedule,
    meeting_update,
)
from ..services.minutes import minutes_publish
from .common import fail


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
                meeting = meeting_schedule(
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


def _meeting_page(
    request: HttpRequest,
    meeting: Meeting,
    notes_form: MeetingNotesForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = meeting_detail(meeting=meeting)
    # A cancelled meeting is shown as cancelled, and nothing more is recorded for it.
    can_record = can_record_meeting(request.membership, meeting) and meeting.cancelled_at is None
    if can_record and notes_form is None:
        notes_form = MeetingNotesForm(items=context["agenda"])
    return render(
        request,
        "groups/meeting_detail.html",
        {
            **context,
            "meeting": meeting,
            "can_record": can_record,
            "notes_form": notes_form,
            "outcomes": CommitmentReviewForm.base_fields["outcome"].choices,
        },
        status=status,
    )


@require_http_methods(["GET"])
def meeting_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = access_meeting(request.membership, pk=pk)
    return _meeting_page(request, meeting)


def _participants() -> list[tuple[int, str]]:
    """(user id, name) of the members who take part in meetings: who may take the notes."""
    rows = Membership.objects.filter(is_active=True, role__in=PARTICIPANT_ROLES).select_related(
        "user"
    )
    return sorted(((m.user_id, m.user.display_name) for m in rows), key=lambda r: r[1])


@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The note-taker or a point-person corrects a meeting: title, time (a move), length,
    link or place, the agenda items' text, the note-taker."""
    meeting = access_meeting(request.membership, pk=pk, write=True)
    if meeting.cancelled_at is not None:
        messages.error(request, _("This meeting was cancelled: it can no longer be changed."))
        return redirect("groups:meeting-detail", pk=pk)
    items = list(meeting.agenda.all())
    zone = zone_of(request.user)
    form = MeetingEditForm(
        request.POST or None,
        items=items,
        participants=_participants(),
        initial={
            "title": meeting.title,
            "starts": f"{meeting.starts_at.astimezone(zone):%Y-%m-%dT%H:%M}",
            "duration_minutes": meeting.duration_minutes,
            "link": meeting.link,
            "place": meeting.place,
            "note_taker": meeting.note_taker_id,
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            note_taker = (
                Membership.objects.filter(user_id=data["note_taker"], is_active=True)
                .select_related("user")
                .first()
            )
            try:
                moved = meeting.starts_at
                meeting = meeting_update(
                    meeting=meeting,
                    actor=request.user,
                    title=data["title"],
                    starts_at=localise(data["starts"], request.user),
                    duration_minutes=data["duration_minutes"],
                    link=data["link"],
                    place=data["place"],
                    note_taker=note_taker and note_taker.user,
                    agenda=form.agenda(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _("Meeting moved; the members are told by e-mail.")
                    if moved != meeting.starts_at
                    else _("Meeting saved."),
                )
                return redirect("groups:meeting-detail", pk=pk)
        status = 400
    return render(
        request,
        "groups/meeting_edit.html",
        {"meeting": meeting, "form": form, "cancel_form": MeetingCancelForm()},
        status=status,
    )


@require_POST
def meeting_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The note-taker or a point-person cancels a meeting (confirmed); the members are told."""
    meeting = access_meeting(request.membership, pk=pk, write=True)
    form = MeetingCancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Tick the box to confirm the cancellation."))
        return redirect("groups:meeting-edit", pk=pk)
    try:
        meeting_cancel(meeting=meeting, actor=request.user)
    except ValidationError as exc:
        fail(request, exc)
    else:
        messages.success(request, _("Meeting cancelled; the members are told by e-mail."))
    return redirect("groups:meeting-detail", pk=pk)


@require_POST
def meeting_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = access_meeting(request.membership, pk=pk, write=True)
    present = parse_ids(request.POST.getlist("present"))
    try:
        attendance_record(meeting=meeting, present_ids=present, actor=request.user)
    except ValidationError as exc:
        fail(request, exc)
    else:
        messages.success(request, _("Attendance saved."))
    return redirect("groups:meeting-detail", pk=pk)


@require_POST
def meeting_notes(request: HttpRequest, pk: int) -> HttpResponse:
    """Every agenda item's notes and confidential mark in one save, back to where they were;
    a box refused shows the page again with every box as typed."""
    meeting = access_meeting(request.membership, pk=pk, write=True)
    back = reverse("groups:meeting-detail", kwargs={"pk": pk}) + "#notes"
    agenda = meeting_detail(meeting=meeting)["agenda"]
    form = MeetingNotesForm(request.POST, items=agenda)
    if not form.is_valid():
        return _meeting_page(request, meeting, notes_form=form, status=400)
    notes = form.notes()
    if not notes:
        messages.error(request, _("No notes were sent, so nothing was saved. Reload the page."))
        return redirect(back)
    try:
        changed = agenda_notes_record_many(meeting=meeting, notes=notes, actor=request.user)
    except ValidationError as exc:
        fail(request, exc)
        return redirect(back)
    messages.success(request, _("Notes saved."))
    was_confidential = {item["pk"]: item["confidential"] for item in agenda}
    newly_confidential = [i for i in changed if i.confidential and not was_confidential[i.pk]]
    if newly_confidential and Minutes.objects.filter(meeting=meeting).exists():
        messages.warning(
            request,
            _(
                "The published minutes no longer contain what is now marked confidential; they "
                "say only that a confidential topic was discussed. The minutes e-mailed earlier "
                "cannot be recalled: ask the members to delete that e-mail."
            ),
        )
    return redirect(back)


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
        commitment_add(
            meeting=meeting, owner=owner.user, text=form.cleaned_data["text"], actor=request.user
        )
    except ValidationError as exc:
        fail(request, exc)
    return redirect("groups:meeting-detail", pk=pk)


@require_POST
def commitment_review_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Last meeting's commitment marked kept / partly kept / dropped, by its owner or recorder."""
    commitment = access_commitment(request.membership, pk=pk)
    form = CommitmentReviewForm(request.POST)
    if form.is_valid():
        try:
            commitment_review(commitment=commitment, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            fail(request, exc)
    else:
        messages.error(request, _("Choose kept, partly kept or dropped."))
    return redirect(safe_redirect_or(request.POST.get("back", ""), "/", path_only=True))


@require_http_methods(["GET", "POST"])
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """Read the minutes (GET); the note-taker or a point-person publishes them (POST)."""
    meeting = access_meeting(request.membership, pk=pk, write=request.method == "POST")
    if request.method == "POST":
        try:
            minutes_publish(meeting=meeting, actor=request.user)
        except ValidationError as exc:
            fail(request, exc)
            return redirect("groups:meeting-detail", pk=pk)
        messages.success(request, _("Minutes published and e-mailed to the group."))
        return redirect("groups:meeting-minutes", pk=pk)
    minutes = Minutes.objects.filter(meeting=meeting).first()
    if minutes is None:
        raise Http404
    return render(request, "groups/minutes.html", {"meeting": meeting, "minutes": minutes})


@require_http_methods(["GET"])
def meeting_ics_view(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = access_meeting(request.membership, pk=pk)
    response = HttpResponse(meeting_one_ics(meeting), content_type="text/calendar")
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}.ics"'
    return response
