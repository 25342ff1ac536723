"""The outbox: every e-mail the platform sends is recorded here first (society.OutboundEmail).

`email_enqueue` writes the intent in the caller's transaction, under a unique key, and asks
the worker to send it once that transaction commits. Nothing here talks to the mail server:
`crossschema.outbox` renders and sends, and beat's every-minute sweep
(`crossschema.emails_send_due`) sends whatever a lost message, a stopped broker or a refusing
mail server left unsent. So a request never waits on SMTP, a change is never committed
without its e-mail, and a key is sent once (at least once to the SMTP server, with one stable
Message-ID).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import make_msgid

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from . import notifications
from .models import OutboundEmail, PeerGroup, User
from .timezones import zone_get

logger = logging.getLogger(__name__)

SEND_TASK = "crossschema.email_send"
SEND_MANY_TASK = "crossschema.emails_send"
SEND_MANY_CHUNK = 100  # e-mails per task: short tasks, shared out among the workers


class EmailNoLongerApplies(Exception):
    """Raised by a renderer when, at sending time, the e-mail should not go out any more
    (its reader left the group, the meeting moved or was cancelled, the link expired)."""


def email_enqueue(
    *,
    key: str,
    kind: str,
    to: str,
    context: dict | None = None,
    group: PeerGroup | None = None,
    send_after: datetime | None = None,
) -> OutboundEmail | None:
    """Record an e-mail to `to` (rendered later from `kind` and `context`: ids and plain values,
    never content or secrets) and have it sent after the current transaction commits.

    Returns the new row, or None when `key` was recorded already (nothing is sent twice).
    """
    with transaction.atomic():
        row, created = OutboundEmail.objects.get_or_create(
            key=key[:200],
            defaults={
                "kind": kind,
                "to": to,
                "group": group,
                "context": context or {},
                "send_after": send_after or timezone.now(),
                "message_id": make_msgid(domain=settings.HORIZONTAL_BASE_HOST),
            },
        )
    if not created:
        return None
    if row.send_after <= timezone.now():
        email_id = row.pk
        transaction.on_commit(lambda: _send_soon(email_id), robust=True)
    return row


def _send_soon(email_id: int) -> None:
    """Ask the worker to send now. If the broker is down this fails (logged, never a 500):
    the row waits, and the sweep sends it once the broker is back."""
    current_app.send_task(SEND_TASK, args=[email_id])


def emails_enqueue_many(
    *,
    kind: str,
    emails: Iterable[tuple[str, str, dict]],
    group: PeerGroup | None = None,
    send_after: datetime | None = None,
) -> int:
    """Record many e-mails of one kind, each a (key, to, context) as for `email_enqueue`, in
    one bulk insert, and have them sent after the current transaction commits, by tasks of
    SEND_MANY_CHUNK e-mails each (the sweep sends whatever a lost task leaves).

    A key recorded already is left as it is (nothing is sent twice). Returns how many keys
    were offered. Queries: a bulk insert per thousand rows and one to find their ids.
    """
    now = timezone.now()
    send_after = send_after or now
    rows = [
        OutboundEmail(
            key=key[:200],
            kind=kind,
            to=to,
            group=group,
            context=context or {},
            created_at=now,
            send_after=send_after,
            message_id=make_msgid(domain=settings.HORIZONTAL_BASE_HOST),
        )
        for key, to, context in emails
    ]
    if not rows:
        return 0
    with transaction.atomic():
        OutboundEmail.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        if send_after > now:
            return len(rows)
        # (ignore_conflicts leaves the new rows without their ids: read them back by key)
        email_ids = list(
            OutboundEmail.objects.filter(
                key__in=[row.key for row in rows], sent_at__isnull=True, skipped_at__isnull=True
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    transaction.on_commit(lambda: _send_many_soon(email_ids), robust=True)
    return len(rows)


def _send_many_soon(email_ids: list[int]) -> None:
    """Ask the workers to send these now, in chunks. A broker outage stops this (logged, never
    a 500): the rows wait for the sweep. (A row sent twice over is sent once: see email_send.)"""
    for start in range(0, len(email_ids), SEND_MANY_CHUNK):
        current_app.send_task(SEND_MANY_TASK, args=[email_ids[start : start + SEND_MANY_CHUNK]])


def emails_due(*, limit: int = 500) -> QuerySet[OutboundEmail]:
    """Unsent e-mails whose time has come, oldest first (the sweep's work)."""
    return OutboundEmail.objects.filter(
        sent_at__isnull=True,
        skipped_at__isnull=True,
        send_after__lte=timezone.now(),
        attempts__lt=OutboundEmail.MAX_ATTEMPTS,
        digest__isnull=True,  # a digest's parts go with it
    ).order_by("send_after", "pk")[:limit]


def retry_delay(attempts: int) -> timedelta:
    """Back off after a failed attempt: 1, 2, 4 ... minutes, at most six hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def email_into_digest(email: OutboundEmail, user: User) -> OutboundEmail:
    """Hold `email` (a reminder its reader takes as a daily digest) for the reader's next
    digest, which is recorded here if it is not yet: one per reader and day, at 7:00 in the
    reader's zone. The caller holds `email`'s row lock."""
    at = notifications.digest_time(user, timezone.now())
    local_day = at.astimezone(zone_get(user.time_zone)).date()
    while True:
        OutboundEmail.objects.get_or_create(
            key=f"digest:{user.pk}:{local_day.isoformat()}",
            defaults={
                "kind": notifications.DIGEST_KIND,
                "to": user.email,
                "context": {"user": user.pk},
                "send_after": at,
                "message_id": make_msgid(domain=settings.HORIZONTAL_BASE_HOST),
            },
        )
        # Waits while that digest is being sent, so a part never joins one already gone.
        digest = OutboundEmail.objects.select_for_update().get(
            key=f"digest:{user.pk}:{local_day.isoformat()}"
        )
        if digest.sent_at is None and digest.skipped_at is None:
            break
        local_day += timedelta(days=1)  # that day's went: the next day's
        at = notifications.digest_time_on(user, local_day)
    email.digest = digest
    email.save(update_fields=["digest"])
    return digest


KEEP_SENT = timedelta(days=90)


def emails_purge(*, kept: timedelta = KEEP_SENT) -> int:
    """Forget e-mails sent, skipped or given up on more than `kept` ago (beat, daily): the
    table holds addresses, so it keeps only what the retries and the unique keys still need.
    A key forgotten is never needed again: each names a moment (a reminder's due time, a
    digest's day, a post) that does not come back. Returns how many rows went."""
    cutoff = timezone.now() - kept
    done = (
        Q(sent_at__lt=cutoff)
        | Q(skipped_at__lt=cutoff)
        | Q(attempts__gte=OutboundEmail.MAX_ATTEMPTS, created_at__lt=cutoff)
    )
    gone = OutboundEmail.objects.filter(done)
    # a digest's parts go with it (given up on, its parts were never sent on their own)
    parts, _by_model = OutboundEmail.objects.filter(digest__in=gone.values("pk")).delete()
    deleted, _by_model = gone.delete()
    return parts + deleted
