"""The dashboard's "coming up": every member sees the next meeting, their open commitments and
the reviews due; the point-person also sees the group's nudges, by the same rules as the
reminders (groups.rules). Others get what they got before."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from directory.services import join_request_create
from groups.models import Meeting
from groups.services.charter import charter_update
from groups.services.meetings import attendance_record, meeting_schedule
from groups.services.mission import mission_adopt
from society.models import PeerGroup, ReminderDue
from tests.conftest import fresh
from tests.crossschema.test_reminder_kinds import _time_passes
from tests.society.factories import UserFactory

NUDGES = "For you as point-person"


def _held(world, days_ago: int) -> Meeting:
    with tenant_context(world.alpha):
        meeting = meeting_schedule(
            title=f"Held {days_ago}",
            starts_at=timezone.now() - timedelta(days=days_ago),
            duration_minutes=60,
            actor=world.alice,
            allow_past=True,
        )
        attendance_record(meeting=meeting, present_ids={world.alice.pk}, actor=world.alice)
    return meeting


def _quiet_group_with_everything_waiting(world) -> None:
    """Three meetings where only Alice came, a join request, a mission, then 32 days without
    a meeting (the latest, the world's, was two weeks ago): 46 days in all."""
    for days in (100, 90, 80):
        _held(world, days)
    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=1)
    join_request_create(
        user=fresh(world.olivia), group=PeerGroup.objects.get(pk=world.alpha.pk), message="Hi"
    )
    with tenant_context(world.alpha):
        mission_adopt(text="Each of us submits a K award.", actor=world.alice)
        charter_update(actor=world.alice, review_every_months=3)
    _time_passes(world.alpha, timedelta(days=32))


def test_the_point_person_sees_the_groups_nudges_with_links(db, world, client_for):
    _quiet_group_with_everything_waiting(world)
    page = client_for(world.alice, world.alpha).get("/").text
    assert NUDGES in page
    assert "No meeting in the last 45 days, and none planned." in page and 'href="/polls/"' in page
    assert "Attendance over the last 3 meetings is under half: 3 of 9 (33 %)." in page
    assert 'href="/attendance/"' in page
    assert "1 request to join waiting more than 3 days." in page
    assert 'href="/join-requests/"' in page
    # The same rule as the reminder: its index row is due too.
    row = ReminderDue.objects.get(group=world.alpha, kind="pp_no_meeting")
    assert row.due_at <= timezone.now()


def test_every_member_sees_the_reviews_but_not_the_point_persons_nudges(db, world, client_for):
    _quiet_group_with_everything_waiting(world)
    for person in (world.bob, world.carol):
        response = client_for(person, world.alpha).get("/")
        assert response.status_code == 200
        page = response.text
        assert NUDGES not in page and "request to join" not in page
        assert "Mission review due" in page and 'href="/mission/"' in page
        assert "Norms review due" in page and 'href="/charter/"' in page
    evaluator = client_for(world.erin, world.alpha).get("/")
    assert evaluator.status_code == 200
    assert NUDGES not in evaluator.text and "Norms review" not in evaluator.text
    assert "As the group's evaluator you see who is in it and" in evaluator.text
    assert client_for(world.erin, world.alpha).get("/attendance/").status_code == 200


def test_others_get_what_they_got_before(db, world, client_for):
    _quiet_group_with_everything_waiting(world)
    assert client_for(world.mallory, world.alpha).get("/").status_code == 404  # another group
    assert client_for(world.olivia, world.alpha).get("/").status_code == 404  # an outsider
    assert client_for(world.sam, world.alpha).get("/").status_code == 404  # society admin
    assert client_for(None, world.alpha).get("/").status_code == 302  # signed out


def test_a_point_person_with_nothing_waiting_is_told_so(db, world, client_for):
    page = client_for(world.alice, world.alpha).get("/").text
    assert NUDGES in page and "Nothing is waiting for you." in page
    assert "Norms review due" in page  # a year after the group opened


def test_a_paused_group_shows_no_nudges(db, world, client_for):
    _quiet_group_with_everything_waiting(world)
    PeerGroup.objects.filter(pk=world.alpha.pk).update(lifecycle="paused")
    assert NUDGES not in client_for(world.alice, world.alpha).get("/").text


def test_the_point_persons_dashboard_makes_a_fixed_number_of_queries(db, world, client_for):
    alice = client_for(world.alice, world.alpha)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert alice.get("/").status_code == 200
        return len(queries)

    _quiet_group_with_everything_waiting(world)
    small = count()
    for days in (70, 60, 50):
        _held(world, days)
    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=9)
    alpha = PeerGroup.objects.get(pk=world.alpha.pk)
    for i in range(5):
        asker = UserFactory(email=f"asker{i}@lakeside.edu")
        join_request_create(user=asker, group=alpha, message="Hi")
    assert count() == small


def test_attendance_before_any_meeting_says_so_rather_than_zero_percent(db, world, client_for):
    from groups.models import Meeting

    with tenant_context(world.alpha):
        Meeting.objects.all().delete()
    page = client_for(world.erin, world.alpha).get("/attendance/").text  # the evaluator
    assert "No meeting has been held in this period yet" in page and "0 %" not in page
