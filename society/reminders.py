"""The public index of reminders due in groups (society.ReminderDue): ids and times only.

Group services call `reminder_set` when they schedule or move something a reminder is about
and `reminder_clear` when it is cancelled; `reminders_due` is beat's one indexed query across
all groups. What a reminder says, and to whom, is decided inside the group's schema when it is
sent (crossschema.reminders)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from .models import PeerGroup, ReminderDue


def reminder_set(*, group: PeerGroup, kind: str, object_id: int, due_at: datetime) -> None:
    """Remind of `object_id` at `due_at` (a move replaces the old time and makes it pending
    again; a time already past is recorded as done, so nothing is sent late)."""
    done_at = timezone.now() if due_at <= timezone.now() else None
    ReminderDue.objects.update_or_create(
        group=group,
        kind=kind,
        object_id=object_id,
        defaults={"due_at": due_at, "done_at": done_at},
    )


def reminder_clear(*, group: PeerGroup, kind: str, object_id: int) -> None:
    ReminderDue.objects.filter(group=group, kind=kind, object_id=object_id).delete()


def reminders_due(*, now: datetime | None = None, limit: int = 20000) -> QuerySet[ReminderDue]:
    """Pending reminders whose time has come, across every ready group (one indexed query)."""
    return ReminderDue.objects.filter(
        done_at__isnull=True,
        due_at__lte=now or timezone.now(),
        group__status=PeerGroup.Status.READY,
    ).order_by("due_at", "pk")[:limit]
