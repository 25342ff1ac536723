"""Reminders and the outbox when things break, with real processes (issue #14, acceptance 1 and
2): a worker SIGKILLed in the middle of a batch of reminders, and Redis stopped while reminders
come due and people use the site, approve a group and publish minutes.

Each test runs its own Redis as the broker, its own worker on a queue of its own and its own
SMTP server, which counts what arrives by Message-ID."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.provisioning import PROVISION_SWEEP_AFTER
from groups.models import Meeting
from groups.services.reminders import MEETING_REMINDERS
from society.models import GroupApplication, OutboundEmail, PeerGroup, ReminderDue
from society.services import application_submit
from tests.conftest import wait_for
from tests.meetings import meeting_held, meetings_due
from tests.society.test_applications import _cleanup, draft
from tests.society.test_outbox_chaos import (  # noqa: F401 (broker is a fixture)
    _all_sent,
    _free_port,
    _smtp_server,
    _unsent_unlocked,
    _worker,
    broker,
)


def _reminders(meetings) -> list[OutboundEmail]:
    return list(
        OutboundEmail.objects.filter(
            kind__in=MEETING_REMINDERS, context__object__in=[m.pk for m in meetings]
        )
    )


def _forget(world, meetings) -> None:
    ids = [m.pk for m in meetings]
    OutboundEmail.objects.filter(kind__in=MEETING_REMINDERS, context__object__in=ids).delete()
    ReminderDue.objects.filter(group=world.alpha, object_id__in=ids).delete()
    with tenant_context(world.alpha):
        Meeting.objects.filter(pk__in=ids).delete()


def test_a_worker_killed_mid_batch_of_reminders_loses_none(committed, world, broker, tmp_path):  # noqa: F811
    from config.celery import app

    redis, queue = broker
    meetings = meetings_due(world, 7, f"Killed {uuid.uuid4().hex[:4]}")  # 42 reminders
    smtp_port = _free_port()
    try:
        # Slow (0.3 s a message), so the kill lands while a reminder is being sent.
        with _smtp_server(smtp_port, delay=0.3) as received:
            with _worker(tmp_path / "doomed.log", queue, redis, smtp_port) as doomed:
                app.send_task("crossschema.reminders_dispatch", queue=queue)  # beat's scan
                wait_for(lambda: len(received) >= 10, 90, "the first ten reminders")
                os.kill(doomed.pid, signal.SIGKILL)
                doomed.wait(10)
            at_kill = len(received)
            rows = _reminders(meetings)
            ids = [row.pk for row in rows]
            assert len(rows) == 42 and 0 < at_kill < 42, (len(rows), at_kill)
            wait_for(lambda: _unsent_unlocked(ids), 30, "the killed worker's lock to go")
            print(f"\nkilled after {at_kill} of 42 reminders had arrived")

            with _worker(tmp_path / "second.log", queue, redis, smtp_port):
                # beat's next minute: the scan (finds nothing pending: recorded before the kill)
                # and the outbox's sweep (sends what the killed worker left)
                app.send_task("crossschema.reminders_dispatch", queue=queue)
                app.send_task("crossschema.emails_send_due", queue=queue)
                wait_for(lambda: _all_sent(ids), 90, "every reminder marked sent")
                time.sleep(1)  # anything else still queued would arrive now

        expected = {row.message_id for row in rows}
        counts = Counter(received)
        duplicated = {mid: n for mid, n in counts.items() if n > 1}
        print(f"received {len(received)} messages, duplicated: {duplicated}")
        assert set(counts) == expected  # every due reminder arrived, nothing else did
        # At most the one in flight at the kill twice (the server had it, the database had
        # not recorded it as sent), with the same Message-ID.
        assert len(received) - len(expected) <= 1
        assert set(duplicated) <= {received[at_kill - 1]}
    finally:
        _forget(world, meetings)


def test_redis_down_no_page_fails_and_afterwards_everything_arrives_once(
    committed,
    world,
    broker,  # noqa: F811
    tmp_path,
    client_for,
):
    from config.celery import app

    redis, queue = broker
    started_at = timezone.now()
    application = draft(world)
    application_submit(application=application, actor=world.olivia)
    meetings = meetings_due(world, 1, f"Outage {uuid.uuid4().hex[:4]}")
    past = meeting_held(world, "Held yesterday")
    meetings.append(past)
    smtp_port = _free_port()
    try:
        with (
            _smtp_server(smtp_port) as received,
            _worker(tmp_path / "worker.log", queue, redis, smtp_port),
        ):
            redis.stop()
            statuses = {}
            member, point_person = (
                client_for(world.bob, world.alpha),
                client_for(world.alice, world.alpha),
            )
            admin = client_for(world.sam)
            for name, response in [
                ("dashboard", member.get("/")),
                ("meeting", member.get(f"/meetings/{meetings[0].pk}/")),
                ("society home", client_for(world.bob).get("/")),
                ("account", client_for(world.bob).get("/account/")),
                (
                    "approve",
                    admin.post(
                        f"/manage/applications/{application.pk}/",
                        {"decision": "approve", "comment": ""},
                    ),
                ),
                ("minutes", point_person.post(f"/meetings/{past.pk}/minutes/")),
                ("queue", admin.get("/manage/applications/")),
            ]:
                statuses[name] = response.status_code
            assert all(code in (200, 302) for code in statuses.values()), statuses
            application.refresh_from_db()
            assert application.state == GroupApplication.State.APPROVED
            group = application.group
            assert PeerGroup.objects.get(pk=group.pk).status == PeerGroup.Status.QUEUED
            time.sleep(2)  # the outage goes on; nothing is lost meanwhile
            # ... for a minute, as far as the provisioning sweep can tell (it leaves a group
            # alone for PROVISION_SWEEP_AFTER, so as not to race the task the approval asked for)
            PeerGroup.objects.filter(pk=group.pk).update(
                created_at=F("created_at") - PROVISION_SWEEP_AFTER
            )

            redis.start()  # empty: every publish made during the outage failed
            wait_for(
                lambda: (tmp_path / "worker.log").read_text().count("Connected to redis://") >= 2,
                60,
                "the worker to reconnect",
            )
            # Beat's next minute, as it runs it: every task scheduled every minute. Nobody
            # presses retry.
            for entry in settings.CELERY_BEAT_SCHEDULE.values():
                if entry["schedule"] == 60.0:
                    app.send_task(entry["task"], queue=queue)
            wait_for(
                lambda: PeerGroup.objects.get(pk=group.pk).status == PeerGroup.Status.READY,
                90,
                "the approved group provisioned by the sweep",
            )

            def ours():
                return OutboundEmail.objects.filter(created_at__gte=started_at)

            def settled() -> bool:
                app.send_task("crossschema.emails_send_due", queue=queue)
                time.sleep(1)
                return not ours().filter(sent_at__isnull=True, skipped_at__isnull=True).exists()

            wait_for(settled, 90, "every e-mail recorded since the outage sent")
            time.sleep(1)

        rows = list(ours().filter(sent_at__isnull=False))
        kinds = Counter(row.kind for row in rows)
        # 2 reminders x 3 participants, minutes to the 3 participants (not the evaluator), the
        # approval to the applicant, the founders' invitations of the new group
        assert kinds["meeting_24h"] == kinds["meeting_1h"] == 3, kinds
        assert kinds["minutes"] == 3 and kinds["application_state"] >= 1, kinds
        assert kinds["group_invitation"] >= 3, kinds
        counts = Counter(received)
        assert set(counts) == {row.message_id for row in rows}  # all arrived, nothing else
        assert max(counts.values()) == 1  # each once
    finally:
        OutboundEmail.objects.filter(created_at__gte=started_at).delete()
        _forget(world, meetings)
        _cleanup(application)
