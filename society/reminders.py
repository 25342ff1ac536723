"""The public index of reminders due in groups (society.ReminderDue): ids and times only.

Group services call `reminder_set` when they schedule or move something a reminder is about
and `reminder_clear` when it is cancelled; `reminders_due` is beat's one indexed query across
all groups. What a reminder says, and to whom, is decided inside the group's schema when it is
sent (crossschema.reminders).

Each app says what its reminder kinds are with `ReminderKind` rows (who is reminded, how the
e-mail reads); crossschema.reminders registers them (`register_reminder`), the one place that
joins the index, the recipients and the outbox's renderers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.mail import EmailMessage
from django.db.models import QuerySet
from django.utils import timezone

from .models import GroupApplication, OutboundEmail, PeerGroup, ReminderDue, User
from .outbox import email_enqueue


@dataclass(frozen=True)
class ReminderKind:
    """One kind of reminder (a key of society.notifications.KIND_CHOICE): `recipients(object_id)`
    lists who is reminded, read inside the group's schema when it is due; `renderer(email)`
    writes each e-mail when it is sent (raising EmailNoLongerApplies when it no longer does)."""

    kind: str
    recipients: Callable[[int], list[User]]
    renderer: Callable[[OutboundEmail], EmailMessage]


def reminder_set(
    *, group: PeerGroup, kind: str, object_id: int, due_at: datetime, late_ok: bool = False
) -> None:
    """Remind of `object_id` at `due_at` (a move replaces the old time and makes it pending
    again; a time already past is recorded as done, so nothing is sent late, unless `late_ok`:
    a nudge about what just happened is due now). The same time again changes nothing, so a
    reminder already sent is not sent twice and one pending stays pending."""
    row = ReminderDue.objects.filter(group=group, kind=kind, object_id=object_id).first()
    if row is not None and row.due_at == due_at:
        return
    done_at = timezone.now() if due_at <= timezone.now() and not late_ok else None
    ReminderDue.objects.update_or_create(
        group=group,
        kind=kind,
        object_id=object_id,
        defaults={"due_at": due_at, "done_at": done_at},
    )


def reminders_reopen(*, group: PeerGroup, kinds: list[str], object_id: int) -> int:
    """Make the reminders of `kinds` whose time came while the group was paused pending again
    (a resumed group hears of a review it missed). One sent before the pause is not sent
    again: its outbox key, with the same due time, is already recorded."""
    return ReminderDue.objects.filter(
        group=group,
        kind__in=kinds,
        object_id=object_id,
        due_at__lte=timezone.now(),
        done_at__isnull=False,
    ).update(done_at=None)


def reminder_clear(*, group: PeerGroup, kind: str, object_id: int) -> None:
    ReminderDue.objects.filter(group=group, kind=kind, object_id=object_id).delete()


def reminders_due(*, now: datetime | None = None, limit: int = 20000) -> QuerySet[ReminderDue]:
    """Pending reminders whose time has come, across every ready group (one indexed query)."""
    return ReminderDue.objects.filter(
        done_at__isnull=True,
        due_at__lte=now or timezone.now(),
        group__status=PeerGroup.Status.READY,
    ).order_by("due_at", "pk")[:limit]


# --- Society admins: applications waiting for a decision (public schema only) ---------------

APPLICATION_WAITING = timedelta(days=7)


def admin_applications_remind(*, now: datetime | None = None) -> int:
    """Beat's daily scan (public schema, no group entered): each application submitted more
    than seven days ago and still undecided, to each active society admin, once per
    submission (the outbox key names the submission's time; a resubmission after changes is
    reminded of again). Returns how many e-mails it recorded."""
    now = now or timezone.now()
    waiting = list(
        GroupApplication.objects.filter(
            state=GroupApplication.State.SUBMITTED,
            updated_at__lte=now - APPLICATION_WAITING,  # set by the submission, and kept since
        ).values_list("pk", "updated_at")
    )
    if not waiting:
        return 0
    admins = list(
        User.objects.filter(is_society_admin=True, is_active=True).values_list("pk", "email")
    )
    recorded = 0
    for application_id, submitted_at in waiting:
        due = (submitted_at + APPLICATION_WAITING).isoformat()
        for user_id, address in admins:
            row = email_enqueue(
                key=f"reminder:admin_applications:{application_id}:{user_id}:{due}",
                kind="admin_applications",
                to=address,
                context={"object": application_id, "user": user_id, "due": due},
            )
            recorded += row is not None
    return recorded
