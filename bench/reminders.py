"""Finding and enqueuing due reminders: the public index vs entering every group's schema.

Makes --groups groups in a scratch database, each with meetings starting in half an hour
(so both their 24-hour and 1-hour reminders are due), --due reminders in all, and times, in
alternating rounds, the two ways beat could find them and hand them to the workers:

- index: crossschema.reminders.reminders_dispatch, as beat runs it: one indexed query on
  society.ReminderDue, then one task per group that has something due;
- loop: the naive design the index replaces: enter each group's schema, query its meetings
  for reminders due, and enqueue one task per reminder.

Both publish real Celery messages to Redis (a queue of the benchmark's own, emptied after
each run), so the enqueuing is measured as well as the finding. Ends with one line:

    reminders: 10000 due in 200 groups, index 0.21 s, loop 6.80 s, ratio 32.4

Usage: make bench-reminders
   (or: DJANGO_SETTINGS_MODULE=config.settings.test python bench/reminders.py)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.provision import scratch_database  # noqa: E402

QUEUE = "bench-reminders"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--due", type=int, default=10000, help="reminders due, in all")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default="horizontal_bench_reminders")
    args = parser.parse_args()
    per_group = args.due // args.groups
    meetings_per_group = per_group // 2  # a 24-hour and a 1-hour reminder each

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ["CELERY_BROKER_URL"] = redis_url.rsplit("/", 1)[0] + "/12"
    maintenance = scratch_database(args.database)
    import django

    django.setup()
    import redis
    from celery import current_app
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from crossschema.fanout import inside, ready_groups
    from crossschema.provisioning import group_provision
    from crossschema.reminders import reminders_dispatch
    from groups.models import Meeting
    from groups.services.reminders import MEETING_REMINDERS
    from society import services
    from society.models import ReminderDue

    current_app.conf.task_default_queue = QUEUE
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    services.template_schema_migrate()
    now = timezone.now()
    starts = now + timedelta(minutes=30)
    made = time.perf_counter()
    for g in range(args.groups):
        group = group_provision(group=services.group_create(name=f"G{g}", slug=f"bench-g{g}"))
        with inside(group), transaction.atomic():
            meetings = Meeting.objects.bulk_create(
                Meeting(title=f"M{m}", starts_at=starts, duration_minutes=60)
                for m in range(meetings_per_group)
            )
            ReminderDue.objects.bulk_create(
                ReminderDue(group=group, kind=kind, object_id=meeting.pk, due_at=starts - before)
                for meeting in meetings
                for kind, before in MEETING_REMINDERS.items()
            )
    print(f"made {args.groups} groups in {time.perf_counter() - made:.1f} s")

    def index() -> int:
        return reminders_dispatch()

    def loop() -> int:
        """The naive beat task: every group's schema, its due meetings, a task per reminder."""
        count = 0
        moment = timezone.now()
        for group in ready_groups():
            with inside(group):
                due = Meeting.objects.filter(
                    cancelled_at__isnull=True,
                    starts_at__gt=moment,
                    starts_at__lte=moment + max(MEETING_REMINDERS.values()),
                ).values_list("pk", "starts_at")
                for pk, starts_at in due:
                    for kind, before in MEETING_REMINDERS.items():
                        if starts_at - before <= moment:
                            # the one-task-per-reminder this design sends (nobody consumes it)
                            current_app.send_task(
                                "crossschema.reminder_send", args=[group.pk, kind, pk]
                            )
                            count += 1
        return count

    times: dict[str, list[float]] = {"index": [], "loop": []}
    found: dict[str, int] = {}
    for i in range(args.rounds):
        order = [("index", index), ("loop", loop)]
        if i % 2:
            order.reverse()
        for label, way in order:
            connection.close()  # each way starts from a fresh connection
            start = time.perf_counter()
            found[label] = way()
            times[label].append(time.perf_counter() - start)
            broker.delete(QUEUE)  # nobody consumes the benchmark's messages

    connection.close()
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(args.database))
        )
    assert found["index"] == found["loop"] == per_group * args.groups, found
    print(f"rounds: {args.rounds}; index runs {[round(t, 3) for t in times['index']]}")
    print(f"rounds: {args.rounds}; loop runs  {[round(t, 3) for t in times['loop']]}")
    index_s, loop_s = statistics.median(times["index"]), statistics.median(times["loop"])
    print(
        f"reminders: {found['index']} due in {args.groups} groups, index {index_s:.2f} s, "
        f"loop {loop_s:.2f} s, ratio {loop_s / index_s:.1f}"
    )


if __name__ == "__main__":
    main()
