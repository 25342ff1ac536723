"""A group's e-mails go through the outbox: the change records one row per recipient (ids and
plain values only, never what was written), the worker's sweep renders each inside the group's
schema in its reader's zone, and a second sweep sends nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import vobject
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.outbox import emails_send_due
from groups.services.confidential import (
    confidential_destroy,
    confidential_entry_create,
    confidential_reply,
)
from groups.services.meetings import (
    agenda_notes_record,
    meeting_cancel,
    meeting_schedule,
    meeting_update,
)
from groups.services.minutes import minutes_publish
from society.models import OutboundEmail, User
from society.templatetags.horizontal import when
from society.urls_helpers import group_url

SECRET = "CANARY-outbox-sabbatical-5d7e"
TOKYO = "Asia/Tokyo"


def _recorded(world, kind: str) -> dict[str, OutboundEmail]:
    rows = OutboundEmail.objects.filter(group=world.alpha, kind=kind, sent_at__isnull=True)
    return {row.to: row for row in rows}


def _in_tokyo(moment) -> str:
    with timezone.override(ZoneInfo(TOKYO)):
        return when(moment, "long")


def _nothing_confidential_anywhere() -> None:
    for row in OutboundEmail.objects.all():
        assert SECRET not in json.dumps(row.context) and SECRET not in row.key
    for message in mail.outbox:
        text = message.subject + message.body + repr(message.extra_headers)
        text += "".join(str(content) for _name, content, _type in message.attachments)
        assert SECRET not in text


def _carol_in_tokyo(world) -> None:
    User.objects.filter(pk=world.carol.pk).update(time_zone=TOKYO)


def _carol_back(world) -> None:
    User.objects.filter(pk=world.carol.pk).update(time_zone=world.carol.time_zone)


def test_minutes_are_recorded_per_member_and_rendered_in_each_readers_zone(
    db, world, django_capture_on_commit_callbacks
):
    _carol_in_tokyo(world)
    starts = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    with tenant_context(world.alpha):
        meeting = meeting_schedule(
            title="Held", starts_at=starts, duration_minutes=60, actor=world.alice, allow_past=True
        )
        item = meeting.agenda.order_by("position")[1]
        agenda_notes_record(
            item=item, notes=f"Bob's offer: {SECRET}", confidential=True, actor=world.alice
        )
    emails_send_due()  # the invitations
    mail.outbox.clear()
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True):
        minutes_publish(meeting=meeting, actor=world.alice)
    assert not mail.outbox  # recorded with the minutes; the worker sends them
    rows = _recorded(world, "minutes")
    assert set(rows) == {world.alice.email, world.bob.email, world.carol.email}  # never Erin
    assert rows[world.carol.email].context == {"meeting": meeting.pk, "user": world.carol.pk}

    assert emails_send_due() == 3
    assert emails_send_due() == 0  # a second sweep sends nothing
    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == set(rows)
    to_carol = sent[world.carol.email]
    assert to_carol.subject == "Minutes: Alpha Peer Group, Held"
    assert to_carol.body.startswith(f"Meeting held {_in_tokyo(starts)} ({TOKYO})\n\n")
    assert "A confidential topic was discussed." in to_carol.body
    assert to_carol.extra_headers["Message-ID"] == rows[world.carol.email].message_id
    _nothing_confidential_anywhere()
    _carol_back(world)


def test_a_meeting_scheduled_moved_and_cancelled_is_told_to_each_participant_in_their_zone(
    db, world, django_capture_on_commit_callbacks
):
    _carol_in_tokyo(world)
    participants = {world.alice.email, world.bob.email, world.carol.email}  # never Erin
    starts = (timezone.now() + timedelta(days=9)).replace(second=0, microsecond=0)
    later = starts + timedelta(days=1, hours=2)

    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True):
        meeting = meeting_schedule(
            title="Planning", starts_at=starts, duration_minutes=60, actor=world.alice
        )
        agenda_notes_record(
            item=meeting.agenda.first(), notes=SECRET, confidential=True, actor=world.alice
        )
    new = _recorded(world, "meeting_invitation")
    assert set(new) == participants
    assert new[world.carol.email].context == {
        "meeting": meeting.pk,
        "change": "new",
        "sequence": 0,
        "user": world.carol.pk,
    }
    assert emails_send_due() == 3 and emails_send_due() == 0
    to_carol = next(m for m in mail.outbox if m.to == [world.carol.email])
    assert to_carol.subject == "Alpha Peer Group: Planning"
    assert f"When: {_in_tokyo(starts)} ({TOKYO}), 60 minutes" in to_carol.body
    assert to_carol.attachments[0][2] == "text/calendar; method=PUBLISH"
    _nothing_confidential_anywhere()

    mail.outbox.clear()
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True):
        meeting_update(
            meeting=meeting,
            actor=world.alice,
            title="Planning",
            starts_at=later,
            duration_minutes=60,
        )
    moved = _recorded(world, "meeting_invitation")
    assert set(moved) == participants
    assert moved[world.carol.email].context == {
        "meeting": meeting.pk,
        "change": "moved",
        "sequence": 1,
        "previous": starts.isoformat(),
        "user": world.carol.pk,
    }
    assert f":{meeting.pk}:1:moved:{world.carol.pk}" in moved[world.carol.email].key
    assert emails_send_due() == 3 and emails_send_due() == 0
    to_carol = next(m for m in mail.outbox if m.to == [world.carol.email])
    assert to_carol.subject == "Moved: Alpha Peer Group, Planning"
    assert f"When: {_in_tokyo(later)} ({TOKYO})" in to_carol.body
    assert f"(It was: {_in_tokyo(starts)}.)" in to_carol.body
    name, content, mimetype = to_carol.attachments[0]
    assert name == "meeting.ics" and mimetype == "text/calendar; method=REQUEST"
    event = vobject.readOne(content if isinstance(content, str) else content.decode()).vevent
    assert event.dtstart.value == later and event.sequence.value == "1"
    _nothing_confidential_anywhere()

    mail.outbox.clear()
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True):
        meeting_cancel(meeting=meeting, actor=world.alice)
    cancelled = _recorded(world, "meeting_invitation")
    assert set(cancelled) == participants
    assert {row.context["change"] for row in cancelled.values()} == {"cancelled"}
    assert emails_send_due() == 3 and emails_send_due() == 0
    assert {m.to[0] for m in mail.outbox} == participants
    to_carol = next(m for m in mail.outbox if m.to == [world.carol.email])
    assert to_carol.subject == "Cancelled: Alpha Peer Group, Planning"
    assert "This meeting is cancelled." in to_carol.body
    assert to_carol.attachments[0][2] == "text/calendar; method=CANCEL"
    _nothing_confidential_anywhere()
    _carol_back(world)


def test_confidential_notices_are_recorded_per_reader_with_ids_only_and_say_nothing(
    db, world, django_capture_on_commit_callbacks
):
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True):
        thread = confidential_entry_create(author=world.bob, text=f"Thread: {SECRET}")
    posted = _recorded(world, "confidential_notice")
    assert set(posted) == {world.alice.email, world.carol.email}  # not Bob, never Erin
    assert posted[world.alice.email].context == {
        "thread": thread.pk,
        "user": world.alice.pk,
        "notice": "new",
    }
    assert emails_send_due() == 2 and emails_send_due() == 0

    mail.outbox.clear()
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True):
        confidential_reply(thread=thread, author=world.alice, text=f"Reply: {SECRET}")
    replied = _recorded(world, "confidential_notice")
    assert set(replied) == {world.bob.email, world.carol.email}  # not Alice, never Erin
    assert replied[world.bob.email].context == {
        "thread": thread.pk,
        "user": world.bob.pk,
        "notice": "reply",
    }
    assert replied[world.carol.email].context["notice"] == "new"
    assert emails_send_due() == 2 and emails_send_due() == 0
    to_bob = next(m for m in mail.outbox if m.to == [world.bob.email])
    assert to_bob.subject == "Alpha Peer Group: a reply to your thread"
    assert group_url("alpha", f"/confidential/{thread.pk}/") in to_bob.body
    to_carol = next(m for m in mail.outbox if m.to == [world.carol.email])
    assert to_carol.subject == "Alpha Peer Group: new in the confidential space"
    assert not any(m.cc or m.bcc for m in mail.outbox)
    _nothing_confidential_anywhere()


def test_a_notice_left_unsent_when_the_space_is_shredded_is_never_sent(
    db, world, django_capture_on_commit_callbacks
):
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True):
        confidential_entry_create(author=world.bob, text=f"Thread: {SECRET}")
        confidential_destroy()
    assert emails_send_due() == 0 and not mail.outbox
    rows = _recorded(world, "confidential_notice").values()
    assert {(row.attempts, row.last_error) for row in rows} == {(1, "DoesNotExist")}
