"""Meeting reminders: the public index follows meetings as they are scheduled, moved and
cancelled (ids and times only); what is due is found with one query, fanned out per group,
recorded in the outbox once per (kind, group, meeting, recipient, due time), and sent in each
recipient's zone with their open commitments and the .ics, never anything confidential."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from celery import current_app
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.outbox import emails_send_due
from crossschema.reminders import reminders_dispatch, reminders_group
from groups.models import Meeting, Membership
from groups.services.meetings import (
    agenda_notes_record,
    commitment_add,
    meeting_cancel,
    meeting_schedule,
    meeting_update,
)
from groups.services.reminders import MEETING_REMINDERS
from society.models import OutboundEmail, PeerGroup, ReminderDue, User
from society.reminders import reminders_due
from tests.conftest import fresh, smtp_received, wait_for

SECRET = "CANARY-salary-offer-3f9c"


def _schedule(world, starts, title="Reminded"):
    with tenant_context(world.alpha):
        return meeting_schedule(
            title=title, starts_at=starts, duration_minutes=60, link="", actor=world.alice
        )


def _index(meeting):
    return dict(
        ReminderDue.objects.filter(object_id=meeting.pk, kind__startswith="meeting_").values_list(
            "kind", "due_at"
        )
    )


def _make_due(meeting) -> list[int]:
    """Time passes: the meeting now starts in half an hour, so both its reminders are due."""
    starts = timezone.now() + timedelta(minutes=30)
    rows = ReminderDue.objects.filter(object_id=meeting.pk, kind__startswith="meeting_")
    with tenant_context(rows.first().group):
        Meeting.objects.filter(pk=meeting.pk).update(starts_at=starts)
    for kind, before in MEETING_REMINDERS.items():
        rows.filter(kind=kind).update(due_at=starts - before)
    return list(rows.values_list("pk", flat=True))


def test_the_index_follows_a_meeting_scheduled_moved_and_cancelled(db, world):
    starts = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    meeting = _schedule(world, starts)
    assert _index(meeting) == {
        "meeting_24h": starts - timedelta(hours=24),
        "meeting_1h": starts - timedelta(hours=1),
    }
    later = starts + timedelta(days=1)
    with tenant_context(world.alpha):
        meeting_update(
            meeting=Meeting.objects.get(pk=meeting.pk),
            actor=world.alice,
            title="Reminded",
            starts_at=later,
            duration_minutes=60,
            link="",
            place="",
        )
    assert _index(meeting)["meeting_1h"] == later - timedelta(hours=1)
    with tenant_context(world.alpha):
        meeting_cancel(meeting=Meeting.objects.get(pk=meeting.pk), actor=world.alice)
    assert _index(meeting) == {}

    soon = _schedule(world, timezone.now() + timedelta(minutes=30), "Soon")
    assert soon.pk not in {r.object_id for r in reminders_due()}  # never sent late


def test_due_reminders_reach_each_participant_once_in_their_zone(db, world):
    starts = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    meeting = _schedule(world, starts)
    with tenant_context(world.alpha):
        item = Meeting.objects.get(pk=meeting.pk).agenda.first()
        agenda_notes_record(item=item, notes=SECRET, confidential=True, actor=world.alice)
        earlier = _schedule(world, timezone.now() + timedelta(minutes=10), "Earlier")
        commitment_add(
            meeting=earlier, owner=world.bob, text="Send the aims page to Carol", actor=world.alice
        )
    User.objects.filter(pk=world.bob.pk).update(time_zone="Asia/Tokyo")
    ids = _make_due(meeting)

    assert reminders_group(world.alpha.pk, ids) == 6  # 2 reminders x alice, bob, carol
    assert reminders_group(world.alpha.pk, ids) == 0  # a redelivered task records nothing
    assert not set(ids) & {r.pk for r in reminders_due()}
    rows = OutboundEmail.objects.filter(kind__startswith="meeting_", context__object=meeting.pk)
    assert sorted(rows.values_list("to", flat=True)) == sorted(
        [world.alice.email, world.bob.email, world.carol.email] * 2
    )  # never the evaluator (Erin)

    mail.outbox.clear()
    assert emails_send_due() >= 6
    to_bob = [
        m for m in mail.outbox if m.to == [world.bob.email] and m.subject.startswith("Reminder:")
    ]
    assert len(to_bob) == 2
    with tenant_context(world.alpha):
        starts = Meeting.objects.get(pk=meeting.pk).starts_at  # as time has passed
    local = starts.astimezone(ZoneInfo(fresh(world.bob).time_zone))
    for message in to_bob:
        assert f"{local:%H:%M} JST (Asia/Tokyo)" in message.body
        assert (
            "You planned to:" in message.body and "- Send the aims page to Carol\n" in message.body
        )
        assert f"/meetings/{meeting.pk}/" in message.body
        (ics,) = message.attachments
        assert ics[0] == "meeting.ics" and b"BEGIN:VEVENT" in ics[1].encode()
    for message in mail.outbox:
        assert SECRET not in message.body and SECRET not in str(message.attachments)
    for row in OutboundEmail.objects.all():
        assert SECRET not in str(row.context)
    User.objects.filter(pk=world.bob.pk).update(time_zone=world.bob.time_zone)


def test_a_moved_meeting_is_reminded_again_at_its_new_time(db, world):
    starts = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    meeting = _schedule(world, starts)
    reminders_group(world.alpha.pk, _make_due(meeting))
    with tenant_context(world.alpha):
        meeting_update(
            meeting=Meeting.objects.get(pk=meeting.pk),
            actor=world.alice,
            title="Reminded",
            starts_at=starts + timedelta(days=7),
            duration_minutes=60,
            link="",
            place="",
        )
    assert reminders_group(world.alpha.pk, _make_due(meeting)) == 6  # new due times, new keys


def test_the_scan_asks_one_task_per_group_with_something_due(db, world, monkeypatch):
    meeting = _schedule(world, timezone.now() + timedelta(days=2))
    ids = _make_due(meeting)
    sent = []
    monkeypatch.setattr(current_app, "send_task", lambda name, args: sent.append((name, args)))
    assert reminders_dispatch() >= 2
    [(name, (_group, due_ids))] = [s for s in sent if s[1][0] == world.alpha.pk]
    assert name == "crossschema.reminders_group" and set(ids) <= set(due_ids)
    assert not [s for s in sent if s[1][0] == world.beta.pk]  # nothing due there


def test_beat_and_the_worker_deliver_each_reminder_once_through_smtp(
    committed, world, celery_worker_process, worker_outbox
):
    meeting = _schedule(world, timezone.now() + timedelta(days=2), "Worker reminder")
    try:
        _make_due(meeting)
        current_app.send_task("crossschema.reminders_dispatch")
        current_app.send_task("crossschema.reminders_dispatch")  # two beats at once

        def arrived() -> list:
            return [
                m
                for m in smtp_received(worker_outbox)
                if (m["Subject"] or "").startswith("Reminder: Alpha Peer Group, Worker")
            ]

        wait_for(lambda: len(arrived()) >= 6, 60, "six reminders at the SMTP server")
        wait_for(
            lambda: (
                not OutboundEmail.objects.filter(
                    context__object=meeting.pk, sent_at__isnull=True
                ).exists()
            ),
            20,
            "every reminder marked sent",
        )
        messages = arrived()
        assert len(messages) == 6 and len({m["Message-ID"] for m in messages}) == 6
        assert sorted(m["To"] for m in messages) == sorted(
            [world.alice.email, world.bob.email, world.carol.email] * 2
        )
    finally:
        OutboundEmail.objects.filter(context__object=meeting.pk).delete()
        ReminderDue.objects.filter(object_id=meeting.pk, group=world.alpha).delete()
        with tenant_context(world.alpha):
            Meeting.objects.filter(pk=meeting.pk).delete()


def test_what_no_longer_applies_when_its_time_comes_is_not_sent(db, world):
    starts = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    meeting = _schedule(world, starts, "Changing")
    emails_send_due()  # the meeting's invitations
    reminders_group(world.alpha.pk, _make_due(meeting))
    pending = OutboundEmail.objects.filter(
        kind__startswith="meeting_",
        context__object=meeting.pk,
        sent_at__isnull=True,
        skipped_at__isnull=True,
    )
    assert pending.count() == 6
    # While the mail server was down: Bob left the group and the meeting moved a week.
    with tenant_context(world.alpha):
        Membership.objects.filter(user=world.bob).update(is_active=False)
        meeting_update(
            meeting=Meeting.objects.get(pk=meeting.pk),
            actor=world.alice,
            title="Changing",
            starts_at=starts + timedelta(days=7),
            duration_minutes=60,
            link="",
            place="",
        )
    mail.outbox.clear()
    emails_send_due()
    assert not [m for m in mail.outbox if m.subject.startswith("Reminder:")]
    assert list(pending.values_list("last_error", "attempts", "skipped_at")) == []
    skipped = OutboundEmail.objects.filter(
        kind__startswith="meeting_", context__object=meeting.pk, skipped_at__isnull=False
    )
    assert skipped.count() == 6  # and never tried again
    with tenant_context(world.alpha):
        Membership.objects.filter(user=world.bob).update(is_active=True)


def test_a_paused_group_gets_no_reminders(db, world):
    meeting = _schedule(world, timezone.now() + timedelta(days=2), "Paused")
    ids = _make_due(meeting)
    PeerGroup.objects.filter(pk=world.alpha.pk).update(lifecycle="paused")
    assert reminders_group(world.alpha.pk, ids) == 0
    assert not set(ids) & {r.pk for r in reminders_due()}  # done, not sent late on resuming
    PeerGroup.objects.filter(pk=world.alpha.pk).update(lifecycle="active")
