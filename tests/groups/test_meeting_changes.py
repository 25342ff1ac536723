"""Records people can correct: a meeting edited, moved and cancelled, and dates that make sense.

Every correction goes through the pages, as the point-person (Alice), the note-taker, a member
without the role (403) and another group's member (404). Calendars follow a change by the
meeting's UID and a higher SEQUENCE; the e-mails go to the participants only, never Erin (the
evaluator).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import vobject
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.outbox import emails_send_due
from groups.models import AgendaItem, Attendance, Goal, Meeting, Minutes
from groups.scheduling import zone_of
from groups.services.goals import goal_save
from groups.services.meetings import attendance_record, meeting_schedule
from tests.conftest import fresh

MOVED_INTO_THE_PAST = "That time has already passed: choose a time in the future."
NOT_STARTED = "This meeting has not started yet: record attendance and minutes once it has."
CANCELLED = "This meeting was cancelled: there is nothing to record."
PAST_TARGET = "That date has already passed: choose a target date ahead."


def _meeting(world, *, days=7.0, note_taker=None, **extra) -> Meeting:
    with tenant_context(world.alpha):
        return meeting_schedule(
            title="Monthly check-in",
            # whole minutes, as the pages write them
            starts_at=(timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0),
            duration_minutes=60,
            link="https://meet.example.org/a",
            actor=fresh(world.alice),
            note_taker=note_taker and fresh(note_taker),
            allow_past=days < 0,
            **extra,
        )


def _reload(world, meeting) -> Meeting:
    with tenant_context(world.alpha):
        return Meeting.objects.get(pk=meeting.pk)


def _rows(world, meeting) -> dict:
    """What the database holds for `meeting` and the records hanging on it."""
    with tenant_context(world.alpha):
        return {
            "meeting": list(Meeting.objects.filter(pk=meeting.pk).values()),
            "meetings": Meeting.objects.count(),
            "agenda": list(AgendaItem.objects.filter(meeting=meeting).order_by("pk").values()),
            "attendance": list(Attendance.objects.filter(meeting=meeting).values()),
            "minutes": Minutes.objects.filter(meeting=meeting).count(),
        }


def _form(world, meeting, viewer, **changes) -> dict:
    """The edit form as `viewer` would send it unchanged, with `changes`."""
    with tenant_context(world.alpha):
        items = list(meeting.agenda.all())
    starts = meeting.starts_at.astimezone(zone_of(viewer))
    data = {
        "title": meeting.title,
        "starts": f"{starts:%Y-%m-%dT%H:%M}",
        "duration_minutes": str(meeting.duration_minutes),
        "link": meeting.link,
        "place": meeting.place,
        "note_taker": str(meeting.note_taker_id),
        **{f"item_{item.pk}": item.title for item in items},
    }
    data.update(changes)
    return data


def _ics(client, meeting):
    response = client.get(f"/meetings/{meeting.pk}/ics/")
    assert response.status_code == 200
    calendar = vobject.readOne(response.content.decode())
    return calendar, calendar.vevent


def _flashed(response) -> list[str]:
    """The messages of this response (clients here never follow a redirect: see _fresh)."""
    return [str(m) for m in get_messages(response.wsgi_request)]


def _fresh(client):
    """`client` without the messages earlier responses left in its cookie."""
    client.cookies.pop("messages", None)
    return client


def _participants(world) -> set[str]:
    return {world.alice.email, world.bob.email, world.carol.email}


# --- Corrections --------------------------------------------------------------------------------


def test_the_point_person_moves_a_meeting_and_only_the_participants_are_told(
    db, world, client_for, django_capture_on_commit_callbacks
):
    meeting = _meeting(world, days=7)
    alice = client_for(world.alice, world.alpha)
    _calendar, before = _ics(alice, meeting)
    assert before.sequence.value == "0"
    later = meeting.starts_at + timedelta(days=2, hours=1)
    starts = later.astimezone(zone_of(world.alice))
    emails_send_due()  # what was recorded before (the invitations)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(
            f"/meetings/{meeting.pk}/edit/",
            _form(world, meeting, world.alice, starts=f"{starts:%Y-%m-%dT%H:%M}"),
        )
    assert response.status_code == 302
    assert _flashed(response) == ["Meeting moved; the members are told by e-mail."]
    assert emails_send_due() == 3
    moved = _reload(world, meeting)
    assert moved.starts_at == later.replace(second=0, microsecond=0)
    assert moved.sequence == 1
    # the .ics: the same UID, SEQUENCE + 1, METHOD:REQUEST, the new time
    calendar, event = _ics(alice, meeting)
    assert event.uid.value == before.uid.value
    assert int(event.sequence.value) == int(before.sequence.value) + 1
    assert calendar.method.value == "REQUEST"
    assert event.dtstart.value == moved.starts_at
    # every participant is e-mailed, never the evaluator
    assert sorted(m.to[0] for m in mail.outbox) == sorted(_participants(world))
    assert world.erin.email not in {a for m in mail.outbox for a in m.to + m.cc + m.bcc}
    sent = mail.outbox[0]
    assert sent.subject == "Moved: Alpha Peer Group, Monthly check-in"
    assert "MOVED: Alpha Peer Group: Monthly check-in" in sent.body and "It was:" in sent.body
    name, content, mimetype = sent.attachments[0]
    assert name == "meeting.ics" and mimetype == "text/calendar; method=REQUEST"
    attached = vobject.readOne(content.decode() if isinstance(content, bytes) else content)
    assert attached.vevent.uid.value == before.uid.value
    assert attached.vevent.sequence.value == "1"


def test_the_note_taker_corrects_title_agenda_and_hands_the_notes_on(
    db, world, client_for, django_capture_on_commit_callbacks
):
    meeting = _meeting(world, days=10, note_taker=world.bob)
    with tenant_context(world.alpha):
        first = meeting.agenda.order_by("position").first()
    bob = client_for(world.bob, world.alpha)
    assert bob.get(f"/meetings/{meeting.pk}/edit/").status_code == 200
    emails_send_due()  # what was recorded before (the invitations)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = bob.post(
            f"/meetings/{meeting.pk}/edit/",
            _form(
                world,
                meeting,
                world.bob,
                title="Monthly check-in (aims)",
                place="Room 101",
                link="",
                note_taker=str(world.carol.pk),
                **{f"item_{first.pk}": "How we are, briefly"},
            ),
        )
    assert response.status_code == 302
    assert _flashed(response) == ["Meeting saved."]
    changed = _reload(world, meeting)
    assert changed.title == "Monthly check-in (aims)" and changed.place == "Room 101"
    assert changed.note_taker_id == world.carol.pk
    assert changed.starts_at == meeting.starts_at  # not moved: nobody is e-mailed
    assert emails_send_due() == 0 and mail.outbox == []
    assert changed.sequence == 1  # but calendars show the new title and place
    with tenant_context(world.alpha):
        assert AgendaItem.objects.get(pk=first.pk).title == "How we are, briefly"
    page = bob.get(f"/meetings/{meeting.pk}/").text
    assert "How we are, briefly" in page and f"Note-taker: {world.carol.display_name}." in page
    # Bob handed the notes to Carol: he may no longer change the meeting
    assert bob.get(f"/meetings/{meeting.pk}/edit/").status_code == 403
    carol = client_for(world.carol, world.alpha)
    assert carol.get(f"/meetings/{meeting.pk}/edit/").status_code == 200


def test_the_note_taker_is_one_of_the_participating_members(db, world, client_for):
    meeting = _meeting(world, days=5)
    before = _rows(world, meeting)
    alice = client_for(world.alice, world.alpha)
    for who in (world.erin, world.mallory, world.olivia):  # the evaluator, outsiders
        response = alice.post(
            f"/meetings/{meeting.pk}/edit/",
            _form(world, meeting, world.alice, note_taker=str(who.pk)),
        )
        assert response.status_code == 400
        assert "Select a valid choice." in response.text
    assert _rows(world, meeting) == before


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_a_member_without_the_role_may_not_correct_a_meeting(db, world, client_for, who):
    meeting = _meeting(world, days=5)  # Alice takes the notes
    before = _rows(world, meeting)
    client = client_for(getattr(world, who), world.alpha)
    assert client.get(f"/meetings/{meeting.pk}/edit/").status_code == 403
    edit = _form(world, meeting, world.alice, title="Hijacked")
    assert client.post(f"/meetings/{meeting.pk}/edit/", edit).status_code == 403
    cancel = client.post(f"/meetings/{meeting.pk}/cancel/", {"confirm": "on"})
    assert cancel.status_code == 403
    assert "Change, move or cancel" not in client.get(f"/meetings/{meeting.pk}/").text
    assert _rows(world, meeting) == before


def test_another_groups_member_finds_nothing(db, world, client_for):
    meeting = _meeting(world, days=5)
    before = _rows(world, meeting)
    mallory = client_for(world.mallory, world.alpha)  # point-person of beta
    edit = _form(world, meeting, world.alice, title="Hijacked")
    for response in (
        mallory.get(f"/meetings/{meeting.pk}/edit/"),
        mallory.post(f"/meetings/{meeting.pk}/edit/", edit),
        mallory.post(f"/meetings/{meeting.pk}/cancel/", {"confirm": "on"}),
    ):
        assert response.status_code == 404
        assert "Alpha Peer Group" not in response.text
    assert _rows(world, meeting) == before


def test_a_cancelled_meeting_is_announced_shown_as_cancelled_and_records_nothing(
    db, world, client_for, django_capture_on_commit_callbacks
):
    meeting = _meeting(world, days=-1)  # it did not take place; nobody recorded it
    alice = client_for(world.alice, world.alpha)
    _calendar, before = _ics(alice, meeting)
    emails_send_due()  # what was recorded before (the invitations)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.post(f"/meetings/{meeting.pk}/cancel/", {"confirm": "on"})
    assert response.status_code == 302
    assert _flashed(response) == ["Meeting cancelled; the members are told by e-mail."]
    assert emails_send_due() == 3
    cancelled = _reload(world, meeting)
    assert cancelled.cancelled_at is not None and cancelled.sequence == 1
    calendar, event = _ics(alice, meeting)
    assert calendar.method.value == "CANCEL"
    assert event.status.value == "CANCELLED"
    assert event.uid.value == before.uid.value and event.sequence.value == "1"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(_participants(world))
    sent = mail.outbox[0]
    assert sent.subject == "Cancelled: Alpha Peer Group, Monthly check-in"
    assert "This meeting is cancelled." in sent.body
    assert sent.attachments[0][2] == "text/calendar; method=CANCEL"

    page = alice.get(f"/meetings/{meeting.pk}/").text
    assert "Monthly check-in (cancelled)" in page and "This meeting was cancelled on" in page
    assert "Save attendance" not in page and "Publish the minutes" not in page
    assert "Change, move or cancel" not in page
    assert "(cancelled)" in alice.get("/meetings/").text

    recorded = _rows(world, meeting)
    with tenant_context(world.alpha):
        item = meeting.agenda.first()
    for path, data in (
        ("attendance/", {"present": [world.bob.pk]}),
        ("minutes/", {}),
        ("notes/", {f"notes_{item.pk}": "Nothing"}),
        ("commitments/", {"owner": world.bob.pk, "text": "Nothing"}),
    ):
        refused = _fresh(alice).post(f"/meetings/{meeting.pk}/{path}", data)
        assert refused.status_code == 302, path
        assert _flashed(refused) == [CANCELLED], path
    again = _fresh(alice).post(f"/meetings/{meeting.pk}/cancel/", {"confirm": "on"})
    assert _flashed(again) == ["This meeting was already cancelled."]
    edit = _fresh(alice).get(f"/meetings/{meeting.pk}/edit/")
    assert edit.status_code == 302
    assert _flashed(edit) == ["This meeting was cancelled: it can no longer be changed."]
    moved = alice.post(
        f"/meetings/{meeting.pk}/edit/", _form(world, cancelled, world.alice, title="Back")
    )
    assert moved.status_code == 302
    assert _rows(world, meeting) == recorded
    with tenant_context(world.alpha):
        assert not meeting.commitments.exists()


def test_a_cancellation_must_be_confirmed(db, world, client_for):
    meeting = _meeting(world, days=3)
    before = _rows(world, meeting)
    response = client_for(world.alice, world.alpha).post(f"/meetings/{meeting.pk}/cancel/")
    assert response.status_code == 302
    assert _flashed(response) == ["Tick the box to confirm the cancellation."]
    assert _rows(world, meeting) == before


def test_a_recorded_meeting_is_neither_moved_nor_cancelled(db, world, client_for):
    meeting = _meeting(world, days=-2)
    with tenant_context(world.alpha):
        attendance_record(meeting=meeting, present_ids={world.bob.pk}, actor=fresh(world.alice))
        meeting = Meeting.objects.get(pk=meeting.pk)
    before = _rows(world, meeting)
    alice = client_for(world.alice, world.alpha)
    later = (timezone.now() + timedelta(days=1)).astimezone(zone_of(world.alice))
    response = alice.post(
        f"/meetings/{meeting.pk}/edit/",
        _form(world, meeting, world.alice, starts=f"{later:%Y-%m-%dT%H:%M}"),
    )
    assert response.status_code == 400
    assert "This meeting has been recorded: its time can no longer change." in response.text
    cancel = _fresh(alice).post(f"/meetings/{meeting.pk}/cancel/", {"confirm": "on"})
    assert _flashed(cancel) == ["This meeting has been recorded: it cannot be cancelled."]
    assert _rows(world, meeting) == before
    # its record can still be corrected
    fixed = alice.post(
        f"/meetings/{meeting.pk}/edit/", _form(world, meeting, world.alice, title="Aims review")
    )
    assert fixed.status_code == 302
    assert _reload(world, meeting).title == "Aims review"


# --- Dates that make sense ----------------------------------------------------------------------


def test_no_meeting_is_scheduled_into_the_past(db, world, client_for):
    alice = client_for(world.alice, world.alpha)
    with tenant_context(world.alpha):
        before = list(Meeting.objects.values_list("pk", flat=True))
    past = (timezone.now() - timedelta(hours=2)).astimezone(zone_of(world.alice))
    response = alice.post(
        "/meetings/",
        {"title": "Too late", "starts": f"{past:%Y-%m-%dT%H:%M}", "duration_minutes": "60"},
    )
    assert response.status_code == 400
    assert MOVED_INTO_THE_PAST in response.text
    with tenant_context(world.alpha):
        assert list(Meeting.objects.values_list("pk", flat=True)) == before
        with pytest.raises(ValidationError, match="already passed"):
            meeting_schedule(
                title="Too late",
                starts_at=timezone.now() - timedelta(minutes=1),
                duration_minutes=60,
                actor=fresh(world.alice),
            )
        assert list(Meeting.objects.values_list("pk", flat=True)) == before


def test_no_meeting_is_moved_into_the_past(
    db, world, client_for, django_capture_on_commit_callbacks
):
    meeting = _meeting(world, days=4)
    before = _rows(world, meeting)
    past = (timezone.now() - timedelta(days=1)).astimezone(zone_of(world.alice))
    emails_send_due()  # what was recorded before (the invitations)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.alice, world.alpha).post(
            f"/meetings/{meeting.pk}/edit/",
            _form(world, meeting, world.alice, starts=f"{past:%Y-%m-%dT%H:%M}", title="New"),
        )
    assert response.status_code == 400
    assert MOVED_INTO_THE_PAST in response.text
    assert _rows(world, meeting) == before
    assert emails_send_due() == 0 and mail.outbox == []


def test_no_attendance_or_minutes_before_a_meeting_starts(
    db, world, client_for, django_capture_on_commit_callbacks
):
    meeting = _meeting(world, days=1)
    before = _rows(world, meeting)
    alice = client_for(world.alice, world.alpha)
    emails_send_due()  # what was recorded before (the invitations)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        attendance = alice.post(f"/meetings/{meeting.pk}/attendance/", {"present": [world.bob.pk]})
        minutes = _fresh(alice).post(f"/meetings/{meeting.pk}/minutes/")
    for response in (attendance, minutes):
        assert response.status_code == 302
        assert _flashed(response) == [NOT_STARTED]
    assert _rows(world, meeting) == before
    assert emails_send_due() == 0 and mail.outbox == []  # no minutes e-mailed
    # notes may be prepared ahead of the meeting
    with tenant_context(world.alpha):
        item = meeting.agenda.first()
    notes = _fresh(alice).post(f"/meetings/{meeting.pk}/notes/", {f"notes_{item.pk}": "Ask Bob"})
    assert _flashed(notes) == ["Notes saved."]


def test_the_refusal_is_shown_on_the_meeting_page(db, world, client_for):
    meeting = _meeting(world, days=1)
    alice = client_for(world.alice, world.alpha)
    page = alice.post(f"/meetings/{meeting.pk}/attendance/", {}, follow=True)
    assert page.status_code == 200 and NOT_STARTED in page.text


def test_no_new_goal_with_a_past_target_date(db, world, client_for):
    bob = client_for(world.bob, world.alpha)
    with tenant_context(world.alpha):
        before = list(Goal.objects.values())
    yesterday = timezone.now().astimezone(zone_of(world.bob)).date() - timedelta(days=1)
    response = bob.post(
        "/goals/", {"text": "Submit a K award", "status": "open", "target_date": str(yesterday)}
    )
    assert response.status_code == 400
    assert PAST_TARGET in response.text
    with tenant_context(world.alpha):
        assert list(Goal.objects.values()) == before
        with pytest.raises(ValidationError, match="already passed"):
            goal_save(owner=fresh(world.bob), text="Submit a K award", target_date=yesterday)
        assert list(Goal.objects.values()) == before
    today = yesterday + timedelta(days=1)
    accepted = bob.post(
        "/goals/", {"text": "Submit a K award", "status": "open", "target_date": str(today)}
    )
    assert accepted.status_code == 302
