"""The export is the group's record: every part of the space, read back with independent parsers."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
import vobject
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.shredding import groups_shred_due
from groups.export import group_export_zip
from groups.models import GroupKey, Meeting, Membership, Minutes
from groups.services.achievements import achievement_add, achievement_celebrate
from groups.services.charter import charter_update
from groups.services.confidential import confidential_entry_create, confidential_reply
from groups.services.goals import goal_save
from groups.services.meetings import (
    agenda_notes_record,
    attendance_record,
    commitment_add,
    commitment_review,
    meeting_schedule,
)
from groups.services.minutes import CONFIDENTIAL_PLACEHOLDER, minutes_publish
from groups.services.mission import mission_adopt, mission_review_record
from groups.services.polls import poll_create, poll_vote
from society.models import PeerGroup
from tests.conftest import fresh

SECRET_NOTE = "Bob is weighing an offer from Lakeside (confidential)"
PUBLIC_NOTE = "Everyone is well; Alice starts teaching in May."


@dataclass
class Space:
    meeting: Meeting
    minutes: Minutes
    slots: list
    starts: datetime


def _export(client_for, world) -> zipfile.ZipFile:
    response = client_for(world.alice, world.alpha).get("/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert archive.testzip() is None
    return archive


def _meeting_with_everything(alice, bob, carol, *, title: str, starts: datetime, poll=None):
    meeting = meeting_schedule(
        title=title,
        starts_at=starts,
        duration_minutes=90,
        actor=alice,
        place="Room 101, national conference",
        poll=poll,
        allow_past=True,  # recording history: the meeting was held
    )
    items = list(meeting.agenda.all())
    agenda_notes_record(item=items[0], notes=PUBLIC_NOTE, confidential=False, actor=alice)
    agenda_notes_record(item=items[1], notes=SECRET_NOTE, confidential=True, actor=alice)
    attendance_record(meeting=meeting, present_ids={alice.pk, bob.pk}, actor=alice)
    kept = commitment_add(meeting=meeting, owner=bob, text="Send my specific aims", actor=alice)
    commitment_review(commitment=kept, outcome="kept", actor=alice)
    commitment_add(meeting=meeting, owner=carol, text="Find a reviewer", actor=carol)
    minutes = minutes_publish(meeting=meeting, actor=alice)
    return meeting, minutes


def _make_everything(world) -> Space:
    """One of each thing, through the services, in alpha (rolled back after the test)."""
    alice, bob, carol = fresh(world.alice), fresh(world.bob), fresh(world.carol)
    with tenant_context(world.alpha):
        mission_adopt(text="Promotion for all of us.", actor=alice)
        mission_review_record(outcome="kept", actor=alice)
        mission_review_record(outcome="revised", actor=bob, new_text="Promotion and R01s.")
        charter_update(
            actor=alice,
            agenda_setter="Bob, this term",
            meeting_style="task",
            email_any_time=False,
            pledge="Nothing leaves the room.",
        )
        goal_save(
            owner=bob,
            text="Submit an R01",
            alignment="Funding is our mission's first goal.",
            status="in_progress",
            target_date=date(2031, 6, 1),
        )
        first = (timezone.now() - timedelta(days=40)).replace(microsecond=0)  # held already
        proposed = (timezone.now() + timedelta(days=40)).replace(microsecond=0)
        poll = poll_create(
            title="Autumn meeting",
            duration_minutes=90,
            starts=[proposed, proposed + timedelta(days=1)],
            actor=alice,
        )
        slots = list(poll.slots.all())
        poll_vote(poll=poll, voter=bob, available_slot_ids={slots[0].pk})
        poll_vote(poll=poll, voter=alice, available_slot_ids={slots[0].pk, slots[1].pk})
        meeting, minutes = _meeting_with_everything(
            alice, bob, carol, title="Autumn meeting", starts=first, poll=poll
        )
        award = achievement_add(owner=bob, kind="award", text="Teaching award", shareable=True)
        achievement_celebrate(achievement=award, by=alice)
        achievement_celebrate(achievement=award, by=carol)
        thread = confidential_entry_create(author=bob, text="Should I take the offer?")
        confidential_reply(thread=thread, author=carol, text="Ask for a start-up package.")
        peers = confidential_entry_create(
            author=alice, text="About our facilitator", peers_only=True
        )
        confidential_reply(thread=peers, author=bob, text="Agreed, peers only.")
    return Space(meeting=meeting, minutes=minutes, slots=slots, starts=first)


def test_the_export_holds_every_part_of_the_group_record(db, world, client_for):
    space = _make_everything(world)
    archive = _export(client_for, world)
    data = json.loads(archive.read("group.json"))

    assert [(m["version"], m["text"], m["adopted_by"], m["note"]) for m in data["missions"]] == [
        (1, "Promotion for all of us.", "Alice Tester", ""),
        (2, "Promotion and R01s.", "Bob Tester", "revised at review"),
    ]
    assert [[(r["outcome"], r["reviewed_by"]) for r in m["reviews"]] for m in data["missions"]] == [
        [("kept", "Alice Tester")],
        [("revised", "Bob Tester")],
    ]

    charter = data["charter"]
    assert (charter["agenda_setter"], charter["meeting_style"], charter["email_any_time"]) == (
        "Bob, this term",
        "task",
        False,
    )
    assert charter["pledge"] == "Nothing leaves the room."

    goal = next(g for g in data["goals"] if g["text"] == "Submit an R01")
    assert (goal["owner"], goal["status"], goal["target_date"], goal["alignment"]) == (
        "Bob Tester",
        "in_progress",
        "2031-06-01",
        "Funding is our mission's first goal.",
    )
    assert "Submit a K award" in [g["text"] for g in data["goals"]]  # the session's sample

    poll = next(p for p in data["polls"] if p["id"] == space.meeting.poll_id)
    assert (poll["title"], poll["duration_minutes"], poll["created_by"]) == (
        "Autumn meeting",
        90,
        "Alice Tester",
    )
    assert poll["closed"] is not None  # scheduling the meeting closed it
    assert [datetime.fromisoformat(s["starts_at"]) for s in poll["slots"]] == [
        slot.starts_at for slot in space.slots
    ]
    assert [sorted((v["voter"], v["available"]) for v in s["votes"]) for s in poll["slots"]] == [
        [("Alice Tester", True), ("Bob Tester", True)],
        [("Alice Tester", True), ("Bob Tester", False)],
    ]

    assert "Past meeting" in [m["title"] for m in data["meetings"]]  # the session's sample
    meeting = next(m for m in data["meetings"] if m["id"] == space.meeting.pk)
    assert meeting["title"] == "Autumn meeting" and meeting["poll"] == poll["id"]
    assert datetime.fromisoformat(meeting["starts_at"]) == space.starts
    assert (meeting["duration_minutes"], meeting["place"], meeting["note_taker"]) == (
        90,
        "Room 101, national conference",
        "Alice Tester",
    )
    assert meeting["held"] is not None
    agenda = meeting["agenda"]
    assert [i["position"] for i in agenda] == list(range(1, len(agenda) + 1))
    assert [(i["kind"], i["title"], i["member"]) for i in agenda] == [
        ("personal", "Personal check-in", None),
        ("career", "Career check-in: Alice Tester", "Alice Tester"),
        ("career", "Career check-in: Bob Tester", "Bob Tester"),
        ("career", "Career check-in: Carol Tester", "Carol Tester"),
        ("unplanned", "Intentional unplanned time", None),
    ]
    assert [(i["confidential"], i["notes"]) for i in agenda[:3]] == [
        (False, PUBLIC_NOTE),
        (True, SECRET_NOTE),  # decrypted: the group's own copy
        (False, ""),
    ]
    assert meeting["attendance"] == [
        {"member": "Alice Tester", "present": True},
        {"member": "Bob Tester", "present": True},
        {"member": "Carol Tester", "present": False},
    ]
    assert [
        (c["owner"], c["text"], c["outcome"], c["reviewed_by"]) for c in meeting["commitments"]
    ] == [
        ("Bob Tester", "Send my specific aims", "kept", "Alice Tester"),
        ("Carol Tester", "Find a reviewer", "open", None),
    ]
    assert meeting["commitments"][0]["reviewed"] is not None
    assert meeting["commitments"][1]["reviewed"] is None

    # the minutes: one Markdown file per meeting with minutes, as published
    assert meeting["minutes"]["published_by"] == "Alice Tester"
    assert datetime.fromisoformat(meeting["minutes"]["published"]) == space.minutes.published_at
    minutes_files = [
        n for n in archive.namelist() if n.startswith("minutes/") and n != "minutes/README.md"
    ]
    assert minutes_files == [meeting["minutes"]["file"]]
    assert minutes_files[0].endswith(".md") and "autumn-meeting" in minutes_files[0]
    body = archive.read(minutes_files[0]).decode()
    assert body == space.minutes.body
    assert body.startswith("# Minutes: Alpha Peer Group, Autumn meeting")
    assert PUBLIC_NOTE in body and CONFIDENTIAL_PLACEHOLDER in body
    assert SECRET_NOTE not in body  # minutes leave confidential items out
    assert "- Carol Tester: absent" in body and "- Bob Tester: Send my specific aims" in body
    past = next(m for m in data["meetings"] if m["title"] == "Past meeting")
    assert past["minutes"] is None
    assert minutes_files[0].removeprefix("minutes/") in archive.read("minutes/README.md").decode()

    award = next(a for a in data["achievements"] if a["text"] == "Teaching award")
    assert (award["owner"], award["kind"], award["shareable"]) == ("Bob Tester", "award", True)
    assert award["achieved_on"] == timezone.localdate().isoformat()
    assert sorted(award["celebrated_by"]) == ["Alice Tester", "Carol Tester"]
    assert "Paper accepted" in [a["text"] for a in data["achievements"]]

    threads = {t["text"]: t for t in data["confidential_threads"]}
    assert set(threads) == {
        "Job offer: thoughts?",  # the session's samples
        "Peers only",
        "Should I take the offer?",
        "About our facilitator",
    }
    offer = threads["Should I take the offer?"]
    assert (offer["author"], offer["peers_only"]) == ("Bob Tester", False)
    assert [(r["author"], r["text"]) for r in offer["replies"]] == [
        ("Carol Tester", "Ask for a start-up package.")
    ]
    peers = threads["About our facilitator"]
    assert (peers["author"], peers["peers_only"]) == ("Alice Tester", True)
    assert [(r["author"], r["text"]) for r in peers["replies"]] == [
        ("Bob Tester", "Agreed, peers only.")
    ]

    calendar = vobject.readOne(archive.read("meetings.ics").decode())
    events = {e.uid.value: e for e in calendar.vevent_list}
    with tenant_context(world.alpha):
        meetings = list(Meeting.objects.all())
    assert len(events) == len(meetings) == len(data["meetings"])
    for m in meetings:
        event = next(e for uid, e in events.items() if uid.startswith(f"meeting-{m.pk}@"))
        assert event.summary.value == f"Alpha Peer Group: {m.title}"
        starts = m.starts_at.replace(microsecond=0)  # iCalendar has whole seconds
        assert event.dtstart.value == starts
        assert event.dtend.value == starts + timedelta(minutes=m.duration_minutes)
    autumn = next(e for uid, e in events.items() if uid.startswith(f"meeting-{space.meeting.pk}@"))
    assert autumn.location.value == "Room 101, national conference"
    assert SECRET_NOTE not in archive.read("meetings.ics").decode()


def test_a_facilitator_made_export_has_no_peers_only_thread(db, world):
    _make_everything(world)
    with tenant_context(world.alpha):
        carol = Membership.objects.get(user=world.carol.pk)
        alice = Membership.objects.get(user=world.alice.pk)
        by_facilitator = zipfile.ZipFile(io.BytesIO(group_export_zip(membership=carol)))
        by_point_person = zipfile.ZipFile(io.BytesIO(group_export_zip(membership=alice)))
    threads = json.loads(by_facilitator.read("group.json"))["confidential_threads"]
    assert sorted(t["text"] for t in threads) == [
        "Job offer: thoughts?",
        "Should I take the offer?",
    ]
    assert all(not t["peers_only"] for t in threads)
    raw = b"".join(by_facilitator.read(n) for n in by_facilitator.namelist())
    for text in ("Peers only", "About our facilitator", "Agreed, peers only."):
        assert text.encode() not in raw
    everyone = json.loads(by_point_person.read("group.json"))["confidential_threads"]
    assert len(everyone) == 4
    # the rest of the record is the same for both
    data = json.loads(by_facilitator.read("group.json"))
    meeting = next(m for m in data["meetings"] if m["title"] == "Autumn meeting")
    assert meeting["agenda"][1]["notes"] == SECRET_NOTE


def test_an_export_after_shredding_has_null_confidential_texts(db, world, client_for, settings):
    space = _make_everything(world)
    group = fresh(world.alpha)
    group.lifecycle = PeerGroup.Lifecycle.CONCLUDED
    group.concluded_at = timezone.now() - timedelta(days=settings.HORIZONTAL_EXPORT_WINDOW_DAYS + 1)
    group.save(update_fields=["lifecycle", "concluded_at"])
    assert groups_shred_due().done == ["alpha"]

    data = json.loads(_export(client_for, world).read("group.json"))
    meeting = next(m for m in data["meetings"] if m["id"] == space.meeting.pk)
    assert [(i["confidential"], i["notes"]) for i in meeting["agenda"][:2]] == [
        (False, PUBLIC_NOTE),
        (True, None),
    ]
    assert data["confidential_threads"] == []  # shredding destroyed the entries too
    assert data["meetings"] and data["goals"] and data["achievements"]  # the rest stays


def test_an_export_without_the_data_key_has_null_confidential_texts(db, world, client_for):
    """A destroyed key alone (KeyDestroyed) already reads as null, entries and notes alike."""
    space = _make_everything(world)
    with tenant_context(world.alpha):
        GroupKey.objects.all().delete()
    data = json.loads(_export(client_for, world).read("group.json"))
    meeting = next(m for m in data["meetings"] if m["id"] == space.meeting.pk)
    assert meeting["agenda"][1]["notes"] is None and meeting["agenda"][0]["notes"] == PUBLIC_NOTE
    threads = data["confidential_threads"]
    assert len(threads) == 4
    assert all(t["text"] is None for t in threads)
    assert all(r["text"] is None for t in threads for r in t["replies"])


def _export_queries(world) -> int:
    with tenant_context(world.alpha):
        alice = Membership.objects.select_related("user").get(user=world.alice.pk)
        with CaptureQueriesContext(connection) as queries:
            group_export_zip(membership=alice)
    return len(queries)


def test_the_export_query_count_is_bounded_and_does_not_grow(
    db, world, django_assert_max_num_queries
):
    _make_everything(world)
    before = _export_queries(world)
    alice, bob, carol = fresh(world.alice), fresh(world.bob), fresh(world.carol)
    with tenant_context(world.alpha):
        for n in range(4):
            _meeting_with_everything(
                alice,
                bob,
                carol,
                title=f"Monthly meeting {n}",
                starts=timezone.now() - timedelta(days=60 + 30 * n),
            )
        goal_save(owner=alice, text="Promotion packet")
        thread = confidential_entry_create(author=alice, text="Another thread")
        confidential_reply(thread=thread, author=bob, text="Another reply")
        achievement_celebrate(
            achievement=achievement_add(owner=carol, kind="paper", text="A paper", shareable=False),
            by=bob,
        )
    assert _export_queries(world) == before, before
    with tenant_context(world.alpha):
        alice_membership = Membership.objects.get(user=world.alice.pk)
        with django_assert_max_num_queries(18):
            archive = zipfile.ZipFile(io.BytesIO(group_export_zip(membership=alice_membership)))
    data = json.loads(archive.read("group.json"))
    assert len([m for m in data["meetings"] if m["minutes"]]) == 5
    assert len([n for n in archive.namelist() if n.startswith("minutes/")]) == 6  # and README
    notes = [m["agenda"][1]["notes"] for m in data["meetings"] if m["minutes"]]
    assert notes == [SECRET_NOTE] * 5  # every meeting's sealed notes, one key read


@pytest.mark.parametrize("who", ["bob", "carol", "erin"])
def test_only_point_persons_download_the_export(db, world, client_for, who):
    assert client_for(getattr(world, who), world.alpha).get("/export/").status_code == 403
