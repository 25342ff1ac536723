"""Reminders due across groups: found with one indexed query in the public schema
(society.reminders), then fanned out per group: only the schemas with something due are
entered, each by one task.

Each reminder to each person is recorded in the outbox under the key (kind, group, object,
recipient, due time): that key is the ledger, so a rerun, a redelivered task or two beat
processes at once record nothing twice, and a moved meeting (a new due time) is reminded of
again. A pending index row is locked while its group is worked (SKIP LOCKED), marked done in
the same transaction, and a failing group is logged and found again at the next run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable

from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction
from django.utils import timezone

from groups import reminders as group_reminders
from groups.services.reminders import MEETING_REMINDERS
from society.models import PeerGroup, ReminderDue, User
from society.outbox import email_enqueue
from society.reminders import reminders_due

from .fanout import inside

logger = logging.getLogger(__name__)

GROUP_TASK = "crossschema.reminders_group"

# kind -> who is reminded (read inside the group's schema from the object's id)
RECIPIENTS: dict[str, Callable[[int], list[User]]] = {
    kind: group_reminders.meeting_reminder_recipients for kind in MEETING_REMINDERS
}


def reminders_dispatch() -> int:
    """Beat's scan: one query for what is due everywhere, one task per group that has some;
    returns how many reminders were due."""
    by_group: dict[int, list[int]] = defaultdict(list)
    for pk, group_id in reminders_due().values_list("pk", "group_id"):
        by_group[group_id].append(pk)
    for group_id, ids in by_group.items():
        current_app.send_task(GROUP_TASK, args=[group_id, ids])
    return sum(len(ids) for ids in by_group.values())


def reminders_group(group_id: int, reminder_ids: list[int]) -> int:
    """Record, in the outbox, each due reminder of one group to each of its recipients, and
    mark the reminders done; returns how many e-mails were recorded."""
    group = PeerGroup.objects.filter(pk=group_id, status=PeerGroup.Status.READY).first()
    if group is None:
        return 0
    recorded = 0
    try:
        with transaction.atomic():
            due = list(
                ReminderDue.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                    pk__in=reminder_ids, group=group, done_at__isnull=True
                )
            )
            if group.lifecycle == PeerGroup.Lifecycle.ACTIVE:  # paused, concluded: none
                with inside(group):
                    for reminder in due:
                        recorded += _record(group, reminder)
            ReminderDue.objects.filter(pk__in=[r.pk for r in due]).update(done_at=timezone.now())
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        logger.error("Reminders failed for group %s (%s)", group.pk, type(exc).__name__)
        raise
    return recorded


def _record(group: PeerGroup, reminder: ReminderDue) -> int:
    recorded = 0
    due = reminder.due_at.isoformat()
    for user in RECIPIENTS[reminder.kind](reminder.object_id):
        row = email_enqueue(
            key=f"reminder:{reminder.kind}:{group.pk}:{reminder.object_id}:{user.pk}:{due}",
            kind=reminder.kind,
            to=user.email,
            group=group,
            context={"object": reminder.object_id, "user": user.pk, "due": due},
        )
        recorded += row is not None
    return recorded
