"""Two beat processes at once (issue #14, acceptance 4): each runs the reminders' scan and the
outbox's sweep at the same moment, on its own database connection; every reminder is recorded
once and every e-mail sent once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.outbox import emails_send_due
from crossschema.reminders import reminders_group
from groups.models import Meeting
from groups.services.reminders import MEETING_REMINDERS
from society.models import OutboundEmail, ReminderDue
from society.reminders import reminders_due
from tests.crossschema.test_chaos import _forget
from tests.meetings import meetings_due
from tests.society.test_outbox_chaos import broker  # noqa: F401 (a fixture)


def _at_once(work, count: int = 2) -> list:
    """Run `work` in `count` threads released together; returns their results."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        try:
            barrier.wait(10)
            results.append(work())
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_two_beats_at_once_record_and_send_each_reminder_once(
    committed,
    world,
    broker,  # noqa: F811 (a Redis of its own: the session's worker takes no send task here)
):
    meetings = meetings_due(world, 3, "Two beats")
    try:
        due = [r for r in reminders_due() if r.object_id in {m.pk for m in meetings}]
        ids = [r.pk for r in due]
        assert len(ids) == 6

        # both beats found the same reminders and each fanned out the same group task
        recorded = _at_once(lambda: reminders_group(world.alpha.pk, ids))
        assert sum(recorded) == 18  # 6 reminders x 3 people, whichever beat recorded them
        rows = OutboundEmail.objects.filter(
            kind__in=MEETING_REMINDERS, context__object__in=[m.pk for m in meetings]
        )
        assert rows.count() == 18
        assert not ReminderDue.objects.filter(pk__in=ids, done_at__isnull=True).exists()

        mail.outbox.clear()
        sent = _at_once(emails_send_due)  # and both sweeps run at once
        assert sum(sent) == 18
        counts = Counter(m.extra_headers["Message-ID"] for m in mail.outbox)
        assert set(counts) == set(rows.values_list("message_id", flat=True))
        assert max(counts.values()) == 1
    finally:
        _forget(world, meetings)
        with tenant_context(world.alpha):
            assert not Meeting.objects.filter(pk__in=[m.pk for m in meetings]).exists()


def test_the_due_time_in_the_key_lets_a_moved_meeting_be_reminded_again(committed, world):
    """The ledger's key holds the due time: the same reminder recorded again (a rerun) is one
    row; the meeting moved (a new due time) is a new reminder."""
    [meeting] = meetings_due(world, 1, "Moved")
    try:
        ids = list(
            ReminderDue.objects.filter(group=world.alpha, object_id=meeting.pk).values_list(
                "pk", flat=True
            )
        )
        assert reminders_group(world.alpha.pk, ids) == 6
        assert reminders_group(world.alpha.pk, ids) == 0
        later = timezone.now() + timedelta(minutes=50)
        with tenant_context(world.alpha):
            Meeting.objects.filter(pk=meeting.pk).update(starts_at=later)
        ReminderDue.objects.filter(pk__in=ids, kind="meeting_1h").update(
            due_at=later - MEETING_REMINDERS["meeting_1h"], done_at=None
        )
        assert reminders_group(world.alpha.pk, ids) == 3
    finally:
        _forget(world, [meeting])
