"""The group space at work: scheduling across time zones, meetings, minutes, commitments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import vobject
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.outbox import emails_send_due
from groups.models import Commitment, Meeting, Membership, SchedulingPoll
from groups.selectors import poll_ranked
from groups.services.achievements import achievement_add
from groups.services.meetings import (
    attendance_record,
    commitment_add,
    commitment_review,
    meeting_schedule,
)
from groups.services.membership import membership_add
from groups.services.minutes import minutes_publish
from groups.services.mission import mission_adopt, mission_review_record
from groups.services.polls import poll_create, poll_vote
from society.models import PeerGroup
from tests.society.factories import UserFactory

SECRET = "CANARY-tenure-negotiation-91c2"
ZONES = {
    "chicago": "America/Chicago",
    "newyork": "America/New_York",
    "london": "Europe/London",
    "berlin": "Europe/Berlin",
}
# 9 March 2027: US on standard time; 16 March: US on daylight time, Europe not yet.
BEFORE_DST = datetime(2027, 3, 9, 14, 0, tzinfo=UTC)
AFTER_DST = datetime(2027, 3, 16, 14, 0, tzinfo=UTC)
LATE = datetime(2027, 3, 16, 20, 0, tzinfo=UTC)


def _members_in_four_zones(world) -> dict[str, object]:
    people = {}
    with tenant_context(world.alpha):
        for name, zone in ZONES.items():
            user = UserFactory(email=f"{name}@zones.edu", full_name=name.title(), time_zone=zone)
            membership_add(user=user, role="member")
            people[name] = user
    return people


def test_poll_ranks_by_the_worst_placed_member_across_a_dst_change(db, world, client_for):
    people = _members_in_four_zones(world)
    with tenant_context(world.alpha):
        poll = poll_create(
            title="March",
            duration_minutes=60,
            actor=world.alice,
            starts=[BEFORE_DST, AFTER_DST, LATE],
        )
        slots = {s.starts_at: s for s in poll.slots.all()}
        everyone = set(slots.values())
        for user in people.values():  # all four can make the late slot, two the others
            poll_vote(poll=poll, voter=user, available_slot_ids={slots[LATE].pk})
        for name in ("chicago", "london"):
            poll_vote(poll=poll, voter=people[name], available_slot_ids={s.pk for s in everyone})
        ranks = poll_ranked(poll=poll)
    assert [r.slot.starts_at for r in ranks] == [BEFORE_DST, AFTER_DST, LATE]
    late = ranks[-1]
    assert len(late.available) == 4  # more people, but 20:00 in London, 21:00 in Berlin
    flagged = {u.email: local.strftime("%H:%M") for u, local in late.flagged}
    assert flagged["london@zones.edu"] == "20:00" and flagged["berlin@zones.edu"] == "21:00"
    assert not ranks[0].flagged

    page = client_for(people["chicago"], world.alpha).get(f"/polls/{poll.pk}/").text
    assert "Tue 9 Mar 2027, 08:00" in page  # CST, UTC-6
    assert "Tue 16 Mar 2027, 09:00" in page  # CDT, UTC-5, a week later
    berlin = client_for(people["berlin"], world.alpha).get(f"/polls/{poll.pk}/").text
    assert "Tue 9 Mar 2027, 15:00" in berlin and "Tue 16 Mar 2027, 15:00" in berlin


def test_choosing_a_time_sends_ics_that_an_independent_parser_reads_right(
    db, world, client_for, django_capture_on_commit_callbacks
):
    people = _members_in_four_zones(world)
    with tenant_context(world.alpha):
        poll = poll_create(
            title="Before and after",
            duration_minutes=90,
            actor=world.alice,
            starts=[BEFORE_DST, AFTER_DST],
        )
        slots = {s.starts_at: s.pk for s in poll.slots.all()}
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.alice, world.alpha).post(
            f"/polls/{poll.pk}/choose/",
            {"slot": slots[AFTER_DST], "link": "https://meet.example/x"},
        )
    assert response.status_code == 302
    assert not mail.outbox  # recorded with the meeting; the worker sends them
    assert emails_send_due() == 7
    to_chicago = next(m for m in mail.outbox if m.to == ["chicago@zones.edu"])
    assert "Tuesday 16 March 2027, 09:00 CDT (America/Chicago)" in to_chicago.body
    to_berlin = next(m for m in mail.outbox if m.to == ["berlin@zones.edu"])
    assert "Tuesday 16 March 2027, 15:00 CET (Europe/Berlin)" in to_berlin.body
    name, content, mimetype = to_chicago.attachments[0]
    assert name == "meeting.ics" and mimetype.startswith("text/calendar")
    event = vobject.readOne(content.decode() if isinstance(content, bytes) else content).vevent
    assert event.dtstart.value == AFTER_DST
    assert event.dtend.value == AFTER_DST + timedelta(minutes=90)
    assert event.location.value == "https://meet.example/x"
    # every participant, and never the evaluator (Erin), who does not see meetings
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        {u.email for u in people.values()} | {world.alice.email, world.bob.email, world.carol.email}
    )


def _hold_meeting(world, starts_at):
    with tenant_context(world.alpha):
        meeting = meeting_schedule(
            title="Career check-ins",
            starts_at=starts_at,
            duration_minutes=60,
            actor=world.alice,
            allow_past=True,  # most tests record a meeting that has taken place
        )
        items = list(meeting.agenda.all())
    return meeting, items


def test_a_note_marked_confidential_after_publication_leaves_the_minutes_with_a_warning(
    db, world, client_for, django_capture_on_commit_callbacks
):
    meeting, items = _hold_meeting(world, timezone.now() - timedelta(hours=1))
    lead = client_for(world.alice, world.alpha)
    notes, box = f"/meetings/{meeting.pk}/notes/", f"notes_{items[1].pk}"
    lead.post(notes, {box: f"Bob has an offer: {SECRET}"})  # not marked, by mistake
    with django_capture_on_commit_callbacks(execute=True):
        lead.post(f"/meetings/{meeting.pk}/minutes/")
    assert SECRET in lead.get(f"/meetings/{meeting.pk}/minutes/").text
    emails_send_due()  # the minutes went out as published
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        marked = lead.post(
            notes, {box: f"Bob has an offer: {SECRET}", f"confidential_{items[1].pk}": "on"}
        )
    warning = lead.get(marked["Location"]).text
    assert "e-mailed earlier cannot be recalled" in warning
    page = lead.get(f"/meetings/{meeting.pk}/minutes/").text
    assert SECRET not in page and "A confidential topic was discussed." in page
    assert emails_send_due() == 0 and mail.outbox == []  # nothing e-mailed again
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM g_alpha.groups_minutes WHERE body LIKE %s", [f"%{SECRET}%"]
        )
        assert cursor.fetchone()[0] == 0


def test_agenda_comes_from_the_template(db, world):
    _meeting, items = _hold_meeting(world, timezone.now() + timedelta(days=3))
    kinds = [i.kind for i in items]
    assert kinds[0] == "personal" and kinds[-1] == "unplanned"
    careers = [i for i in items if i.kind == "career"]
    assert {i.member_id for i in careers} == {world.alice.pk, world.bob.pk, world.carol.pk}
    assert all(10 <= i.minutes <= 30 for i in careers)


def test_minutes_leave_out_confidential_items_on_the_page_and_in_the_email(
    db, world, client_for, django_capture_on_commit_callbacks
):
    meeting, items = _hold_meeting(world, timezone.now() - timedelta(hours=1))
    lead = client_for(world.alice, world.alpha)
    lead.post(f"/meetings/{meeting.pk}/attendance/", {"present": [world.alice.pk, world.bob.pk]})
    lead.post(
        f"/meetings/{meeting.pk}/notes/",
        {
            f"notes_{items[1].pk}": f"Bob has an offer: {SECRET}",
            f"confidential_{items[1].pk}": "on",
            f"notes_{items[2].pk}": "Carol's aims page is nearly done.",
        },
    )
    lead.post(
        f"/meetings/{meeting.pk}/commitments/",
        {"owner": world.bob.pk, "text": "Send the aims page Friday"},
    )
    # the recorder still reads the confidential note in the meeting page
    assert SECRET in lead.get(f"/meetings/{meeting.pk}/").text
    emails_send_due()  # the invitations
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert lead.post(f"/meetings/{meeting.pk}/minutes/").status_code == 302
    assert emails_send_due() == 3
    page = lead.get(f"/meetings/{meeting.pk}/minutes/").text
    assert SECRET not in page and "A confidential topic was discussed." in page
    assert "Carol's aims page is nearly done." in page  # rendered from Markdown, not doubled
    assert "Bob Tester: Send the aims page Friday" in page
    assert "Alice Tester: present" in page and "Carol Tester: absent" in page
    sent = {message.to[0]: message for message in mail.outbox}  # one e-mail per member
    assert set(sent) == {world.alice.email, world.bob.email, world.carol.email}
    for message in sent.values():
        assert SECRET not in message.body and "A confidential topic was discussed." in message.body
        assert "Carol's aims page is nearly done." in message.body  # plain text, not escaped
    with connection.cursor() as cursor:  # and the note is only ciphertext in the database
        cursor.execute(
            "SELECT count(*) FROM g_alpha.groups_agendaitem WHERE notes LIKE %s", [f"%{SECRET}%"]
        )
        assert cursor.fetchone()[0] == 0


def test_commitments_carry_over_to_the_next_agenda_and_the_dashboard(db, world, client_for):
    first, _ = _hold_meeting(world, timezone.now() - timedelta(days=7))
    with tenant_context(world.alpha):
        commitment = commitment_add(
            meeting=first, owner=world.bob, text="Submit the K99 draft", actor=world.alice
        )
    second, _ = _hold_meeting(world, timezone.now() + timedelta(days=21))
    bob = client_for(world.bob, world.alpha)
    assert "Submit the K99 draft" in bob.get("/").text  # my open commitments
    agenda = bob.get(f"/meetings/{second.pk}/").text
    assert "Commitments from last time" in agenda and "Submit the K99 draft" in agenda
    carol = client_for(world.carol, world.alpha)
    assert (
        carol.post(f"/commitments/{commitment.pk}/review/", {"outcome": "kept"}).status_code == 403
    )
    assert (
        bob.post(
            f"/commitments/{commitment.pk}/review/",
            {"outcome": "dropped", "back": f"/meetings/{second.pk}/"},
        ).status_code
        == 302
    )
    with tenant_context(world.alpha):
        reviewed = Commitment.objects.get(pk=commitment.pk)
    assert reviewed.outcome == "dropped" and reviewed.reviewed_by == world.bob
    assert "Submit the K99 draft" not in bob.get("/").text
    again = bob.post(f"/commitments/{commitment.pk}/review/", {"outcome": "kept"}, follow=True)
    assert "already reviewed" in again.text


def test_attendance_shows_the_fifty_percent_line(db, world, client_for):
    for days in (30, 20, 10):
        meeting, _ = _hold_meeting(world, timezone.now() - timedelta(days=days))
        with tenant_context(world.alpha):
            present = {world.alice.pk} | ({world.bob.pk} if days == 30 else set())
            attendance_record(meeting=meeting, present_ids=present, actor=world.alice)
    page = client_for(world.erin, world.alpha).get("/attendance/").text  # the evaluator too
    assert "3 meetings held" in page
    assert "<td>Alice Tester</td><td>3 of 3</td><td>100 %</td><td>yes</td>" in page
    assert "<td>Bob Tester</td><td>1 of 3</td><td>33 %</td><td>not yet</td>" in page
    assert "the 50 % line" in page


def test_peers_only_threads_do_not_exist_for_the_facilitator(
    db, world, client_for, django_capture_on_commit_callbacks
):
    peers = world.samples["peers_thread"]
    assert client_for(world.alice, world.alpha).get(f"/confidential/{peers}/").status_code == 200
    assert client_for(world.carol, world.alpha).get(f"/confidential/{peers}/").status_code == 404
    assert "Peers only" not in client_for(world.carol, world.alpha).get("/confidential/").text
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.bob, world.alpha).post("/confidential/", {"text": SECRET})
    assert emails_send_due() == 2  # one notice each, to those who may read it
    for notice in mail.outbox:
        assert SECRET not in notice.body and "Something new was posted" in notice.body
        assert not notice.cc and not notice.bcc
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.alice.email, world.carol.email])


def test_calendar_feed_works_by_token_alone_and_stops_when_revoked(db, world, client_for):
    member = client_for(world.bob, world.alpha)
    page = member.post("/calendar/", {"action": "issue"}).text
    token = page.split("/calendar/feed/")[1].split(".ics")[0]
    anonymous = client_for(None, world.alpha)
    feed = anonymous.get(f"/calendar/feed/{token}.ics")
    assert feed.status_code == 200 and feed["Content-Type"] == "text/calendar"
    calendar = vobject.readOne(feed.content.decode())
    assert any(e.summary.value.endswith("Past meeting") for e in calendar.vevent_list)
    assert "no-store" in feed["Cache-Control"]
    member.post("/calendar/", {"action": "revoke"})
    assert anonymous.get(f"/calendar/feed/{token}.ics").status_code == 404


def _bobs_feed(world, client_for):
    """Bob's new calendar-feed address, and a client without a session to open it."""
    page = client_for(world.bob, world.alpha).post("/calendar/", {"action": "issue"}).text
    token = page.split("/calendar/feed/")[1].split(".ics")[0]
    return f"/calendar/feed/{token}.ics", client_for(None, world.alpha)


def test_a_feed_stops_when_its_member_is_removed(db, world, client_for):
    feed, anonymous = _bobs_feed(world, client_for)
    assert anonymous.get(feed).status_code == 200
    with tenant_context(world.alpha):
        bob = Membership.objects.get(user=world.bob)
    client_for(world.alice, world.alpha).post(f"/members/{bob.pk}/remove/", {"confirm": "on"})
    assert anonymous.get(feed).status_code == 404


def test_a_feed_stops_when_its_member_becomes_the_evaluator(db, world, client_for):
    feed, anonymous = _bobs_feed(world, client_for)
    assert anonymous.get(feed).status_code == 200
    with tenant_context(world.alpha):
        bob = Membership.objects.get(user=world.bob)
    response = client_for(world.alice, world.alpha).post(
        f"/members/{bob.pk}/role/", {"role": "evaluator"}
    )
    assert response.status_code == 302
    assert anonymous.get(feed).status_code == 404


def test_goals_norms_pledge_achievements_and_seats(db, world, client_for):
    bob = client_for(world.bob, world.alpha)
    bob.post(
        "/goals/",
        {
            "text": "Get promoted to associate professor",
            "status": "open",
            "alignment": "The group's promotion focus",
        },
    )
    assert (
        "Get promoted to associate professor"
        in client_for(world.carol, world.alpha).get("/goals/").text
    )
    assert "accept the confidentiality pledge" in bob.get("/").text
    bob.post("/charter/pledge/")
    assert "accept the confidentiality pledge" not in bob.get("/").text
    assert bob.post("/charter/", {"pledge": "x"}).status_code == 403
    bob.post(
        "/achievements/",
        {
            "kind": "grant_submitted",
            "text": "R01 submitted",
            "achieved_on": "2026-01-05",
            "shareable": "on",
        },
    )
    assert "R01 submitted" in client_for(world.alice, world.alpha).get("/achievements/").text
    client_for(world.alice, world.alpha).post("/seats/", {"seats": "2"})
    assert PeerGroup.objects.get(pk=world.alpha.pk).open_seats == 2


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_dashboard_and_meeting_page_make_a_fixed_number_of_queries(db, world, client_for):
    meeting, _ = _hold_meeting(world, timezone.now() - timedelta(days=1))
    bob = client_for(world.bob, world.alpha)
    small = (_count(bob, "/"), _count(bob, f"/meetings/{meeting.pk}/"))
    with tenant_context(world.alpha):
        for i in range(8):
            user = UserFactory(email=f"extra{i}@lakeside.edu")
            membership_add(user=user, role="member")
        for days in range(2, 40):
            past = meeting_schedule(
                title=f"M{days}",
                duration_minutes=60,
                starts_at=timezone.now() - timedelta(days=days),
                actor=world.alice,
                allow_past=True,
            )
            commitment_add(meeting=past, owner=world.bob, text=f"c{days}", actor=world.alice)
        for i in range(10):
            commitment_add(meeting=meeting, owner=world.bob, text=f"now{i}", actor=world.alice)
        meeting = Meeting.objects.get(pk=meeting.pk)
    large = (_count(bob, "/"), _count(bob, f"/meetings/{meeting.pk}/"))
    assert large == small, (small, large)


def test_dashboard_shows_each_part_from_its_one_query(db, world, client_for):
    past, _items = _hold_meeting(world, timezone.now() - timedelta(days=3))
    with tenant_context(world.alpha):
        mission_adopt(text="Each of us submits a K award.", actor=world.alice)
        mission_review_record(outcome="kept", actor=world.alice)
        for i in range(12):
            commitment_add(meeting=past, owner=world.bob, text=f"Plan {i}", actor=world.alice)
        minutes_publish(meeting=past, actor=world.alice)
        achievement_add(owner=world.carol, kind="award", text="Teaching award", shareable=False)
        upcoming = meeting_schedule(
            title="April check-ins",
            starts_at=timezone.now() + timedelta(days=9),
            duration_minutes=60,
            actor=world.alice,
        )
        open_count = Commitment.objects.filter(owner=world.bob, reviewed_at=None).count()
    assert open_count >= 12
    due = (timezone.now() + timedelta(days=182)).strftime("%-d %b %Y")
    page = client_for(world.bob, world.alpha).get("/").text
    assert "April check-ins" in page and f"/meetings/{upcoming.pk}/" in page
    assert upcoming.starts_at.strftime("%a %-d %b %Y, %H:%M") in page
    assert "Plan 11" in page and "Plan 1<" not in page  # the latest ten are listed
    assert f"{open_count} open in all" in page
    assert f"Mission review due {due}" in page  # six months after the review, not adoption
    assert f"/meetings/{past.pk}/minutes/" in page
    assert f"{world.carol.display_name}: award, Teaching award" in page
    assert world.alice.institution.name in page and "Point-person" in page
    evaluator = client_for(world.erin, world.alpha).get("/").text
    assert "Plan 11" not in evaluator and "Teaching award" not in evaluator
    assert world.bob.display_name in evaluator


def test_meeting_page_shows_notes_taker_outcomes_and_attendance(db, world, client_for):
    first, _ = _hold_meeting(world, timezone.now() - timedelta(days=10))
    with tenant_context(world.alpha):
        kept = commitment_add(meeting=first, owner=world.carol, text="Send aims", actor=world.alice)
        commitment_review(commitment=kept, outcome="partly", actor=world.carol)
    meeting, items = _hold_meeting(world, timezone.now() - timedelta(hours=1))
    lead = client_for(world.alice, world.alpha)
    lead.post(f"/meetings/{meeting.pk}/attendance/", {"present": [world.bob.pk]})
    lead.post(
        f"/meetings/{meeting.pk}/notes/",
        {f"notes_{items[1].pk}": f"Offer details {SECRET}", f"confidential_{items[1].pk}": "on"},
    )
    page = lead.get(f"/meetings/{meeting.pk}/").text
    assert f"Note-taker: {world.alice.display_name}." in page
    assert f"{world.carol.display_name}: Send aims —" in page and "Partly kept" in page
    assert f'value="{world.bob.pk}" id="present-{world.bob.pk}" checked' in page
    assert f'id="present-{world.carol.pk}" checked' not in page
    assert SECRET in page  # members read the confidential note; the minutes leave it out
    assert SECRET in client_for(world.bob, world.alpha).get(f"/meetings/{meeting.pk}/").text


def test_a_poll_takes_at_most_thirty_times_and_says_so(db, world, client_for):
    with tenant_context(world.alpha):
        before = SchedulingPoll.objects.count()
    times = "\n".join(
        (timezone.now() + timedelta(days=10, hours=h)).strftime("%Y-%m-%d %H:%M") for h in range(31)
    )
    response = client_for(world.alice, world.alpha).post(
        "/polls/", {"title": "Many", "duration_minutes": 60, "times": times}
    )
    assert "Propose at most 30 times" in response.text
    with tenant_context(world.alpha):
        assert SchedulingPoll.objects.count() == before


def test_minutes_are_rendered_from_markdown_and_sanitised(
    db, world, client_for, django_capture_on_commit_callbacks
):
    meeting, items = _hold_meeting(world, timezone.now() - timedelta(hours=1))
    lead = client_for(world.alice, world.alpha)
    hostile = "**Kept** <script>alert('x')</script> [link](javascript:alert(1)) <img src=x>"
    lead.post(f"/meetings/{meeting.pk}/notes/", {f"notes_{items[2].pk}": hostile})
    with django_capture_on_commit_callbacks(execute=True):
        lead.post(f"/meetings/{meeting.pk}/minutes/")
    page = lead.get(f"/meetings/{meeting.pk}/minutes/").text
    minutes = page.split('data-testid="minutes">')[1].split("</article>")[0]
    assert "<h1>" in minutes and "<strong>Kept</strong>" in minutes  # Markdown, rendered
    assert "<script" not in minutes
    assert "<img" not in minutes
    assert 'href="javascript' not in minutes  # left as text, never a link
    assert "&lt;script&gt;" in minutes  # shown as text, harmless
    assert "<h1>Minutes" not in page.split('data-testid="minutes">')[0]


def test_every_notes_box_is_saved_at_once_and_the_page_keeps_its_place(db, world, client_for):
    meeting, items = _hold_meeting(world, timezone.now() - timedelta(hours=1))
    lead = client_for(world.alice, world.alpha)
    page = lead.get(f"/meetings/{meeting.pk}/").text
    assert page.count('action="/meetings/') and page.count(">Save notes</button>") == 1
    assert f'name="notes_{items[1].pk}"' in page and f'name="notes_{items[2].pk}"' in page
    saved = lead.post(
        f"/meetings/{meeting.pk}/notes/",
        {
            f"notes_{items[1].pk}": f"Bob has an offer: {SECRET}",
            f"confidential_{items[1].pk}": "on",
            f"notes_{items[2].pk}": "Carol's aims page is nearly done.",
        },
    )
    assert saved.status_code == 302 and saved["Location"] == f"/meetings/{meeting.pk}/#notes"
    shown = lead.get(saved["Location"]).text
    assert "Notes saved." in shown
    assert SECRET in shown and "Carol&#x27;s aims page is nearly done." in shown
    assert f'id="conf-{items[1].pk}" checked' in shown
    assert f'id="conf-{items[2].pk}" checked' not in shown
    with connection.cursor() as cursor:  # the confidential one only as ciphertext
        cursor.execute(
            "SELECT id, notes, notes_sealed IS NOT NULL FROM g_alpha.groups_agendaitem"
            " WHERE id = ANY(%s) ORDER BY position",
            [[items[1].pk, items[2].pk]],
        )
        assert cursor.fetchall() == [
            (items[1].pk, "", True),
            (items[2].pk, "Carol's aims page is nearly done.", False),
        ]
    # a box not sent is left alone
    lead.post(f"/meetings/{meeting.pk}/notes/", {f"notes_{items[2].pk}": "Updated."})
    again = lead.get(f"/meetings/{meeting.pk}/").text
    assert SECRET in again and "Updated." in again


def test_a_refused_box_keeps_every_box_as_typed_and_saves_none(db, world, client_for):
    meeting, items = _hold_meeting(world, timezone.now() - timedelta(hours=1))
    lead = client_for(world.alice, world.alpha)
    refused = lead.post(
        f"/meetings/{meeting.pk}/notes/",
        {
            f"notes_{items[1].pk}": "First box, typed with care.",
            f"confidential_{items[1].pk}": "on",
            f"notes_{items[2].pk}": "Far too long. " * 2000,
        },
    )
    assert refused.status_code == 400
    assert "Nothing was saved: correct the notes marked below" in refused.text
    assert "First box, typed with care.</textarea>" in refused.text
    assert f'id="conf-{items[1].pk}" checked' in refused.text
    assert "Ensure this value has at most 20000 characters" in refused.text
    assert "Far too long. Far too long." in refused.text
    with tenant_context(world.alpha):
        stored = {i.pk: (i.notes, i.notes_sealed) for i in meeting.agenda.all()}
    assert stored[items[1].pk] == ("", None) and stored[items[2].pk] == ("", None)


def test_only_the_note_taker_and_point_persons_save_notes(db, world, client_for):
    meeting, items = _hold_meeting(world, timezone.now() - timedelta(hours=1))
    data = {f"notes_{items[1].pk}": "Not mine to write."}
    for person in (world.bob, world.carol, world.erin):
        client = client_for(person, world.alpha)
        assert client.post(f"/meetings/{meeting.pk}/notes/", data).status_code == 403
        assert "Save notes" not in client.get(f"/meetings/{meeting.pk}/").text
    assert (
        client_for(world.mallory, world.alpha)
        .post(f"/meetings/{meeting.pk}/notes/", data)
        .status_code
        == 404
    )
    with tenant_context(world.alpha):
        assert not meeting.agenda.exclude(notes="").exists()
