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
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from directory.services import join_request_reminders_keep
from groups import reminders as group_reminders
from groups.services.reminders import group_reminders_keep
from society.models import OutboundEmail, PeerGroup, ReminderDue, User
from society.notifications import KIND_CHOICE
from society.outbox import email_enqueue
from society.reminders import reminders_due

from .fanout import FanoutResult, for_each_group, inside, ready_groups

logger = logging.getLogger(__name__)

GROUP_TASK = "crossschema.reminders_group"

# kind -> who is reminded (read inside the group's schema from the object's id)
RECIPIENTS: dict[str, Callable[[int], list[User]]] = {}
# kind -> how its e-mail reads (crossschema.outbox.RENDERERS takes these)
REMINDER_RENDERERS: dict[str, Callable[[OutboundEmail], EmailMessage]] = {}


def register_reminder(
    kind: str,
    recipients: Callable[[int], list[User]],
    renderer: Callable[[OutboundEmail], EmailMessage],
) -> None:
    """The extension point for a new kind of reminder (its name must be a key of
    society.notifications.KIND_CHOICE, so members' delivery choices apply to it).

    The app that owns the thing keeps the index (society.reminders.reminder_set / _clear
    from its services, never a beat task walking every schema) and lists the kind in its
    `REMINDER_KINDS`; this module registers them. When due, `recipients(object_id)` is asked
    inside the group's schema, one e-mail per recipient is recorded in the outbox under
    `reminder:{kind}:{group}:{object}:{user}:{due}` with context {"object", "user", "due"},
    and `renderer(email)` writes it at sending time (raising EmailNoLongerApplies when it no
    longer applies).

    Surveys (evaluation) plug in the same way: evaluation/services would call reminder_set
    for `survey_opened` (due when a run opens) and `survey_closing` (due a few days before it
    closes) with the run's id, and reminder_clear when a run is withdrawn; evaluation/reminders
    would list ReminderKind("survey_opened", not_answered, survey_opened) and the like, where
    `not_answered(run_id)` is the participating members without a ResponseReceipt for the run
    (the receipts say who answered, never what), and each renderer says only that the survey
    is open, until when, and where to answer: never who has answered or how many."""
    if kind in RECIPIENTS:
        raise ValueError(f"Reminder kind {kind!r} is registered already.")
    if kind not in KIND_CHOICE:
        raise ValueError(f"Reminder kind {kind!r} is not in society.notifications.KIND_CHOICE.")
    RECIPIENTS[kind] = recipients
    REMINDER_RENDERERS[kind] = renderer


for _kind in group_reminders.REMINDER_KINDS:
    register_reminder(_kind.kind, _kind.recipients, _kind.renderer)


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
                    pk__in=reminder_ids,
                    group=group,
                    done_at__isnull=True,
                    # still due: one moved later since the scan waits for its new time
                    due_at__lte=timezone.now(),
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


def reminders_backfill() -> tuple[FanoutResult, int]:
    """Index every reminder due in groups that existed before the index did (a one-off, from
    `manage.py reminders_backfill`): each ready group's meetings, open commitments, mission,
    norms and "no meeting" nudge, entering each schema once, and every pending join request
    (public, no schema entered). Idempotent: what is indexed at the same time already is left
    as it is. Returns the fan-out's result and how many join requests it looked at."""
    result = for_each_group(ready_groups(), lambda _group: group_reminders_keep(), what="backfill")
    requests = join_request_reminders_keep()
    return result, requests
