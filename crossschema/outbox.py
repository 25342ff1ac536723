"""Sending what the outbox recorded (society.outbox): render each e-mail from database state,
inside its group's schema when it is about a group, send it, and mark it sent.

A row is locked while it is sent (FOR UPDATE SKIP LOCKED), so two workers or a task and the
sweep never send it at once; it is marked sent in the same transaction, so a sent row is never
sent again. A worker killed between the mail server's acceptance and that commit leaves the
row unsent: the sweep sends it again with the same Message-ID (at least once to the server).
A refusing or unreachable mail server costs an attempt and a growing wait, never the e-mail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from directory import emails as directory_emails
from groups import emails as group_emails
from society import emails as society_emails
from society.models import OutboundEmail
from society.outbox import EmailNoLongerApplies, emails_due, retry_delay

from .fanout import inside
from .reminders import REMINDER_RENDERERS

logger = logging.getLogger(__name__)

# kind -> how it reads. A kind about a group is rendered inside that group's schema.
RENDERERS: dict[str, Callable[[OutboundEmail], EmailMessage]] = {
    **REMINDER_RENDERERS,  # every kind of reminder (crossschema.reminders.register_reminder)
    "admin_applications": society_emails.admin_applications,
    "application_state": society_emails.application_state,
    "institution_identity_changed": society_emails.institution_identity_changed,
    "identity_confirm": society_emails.identity_confirm,
    "join_request": directory_emails.join_request,
    "join_declined": directory_emails.join_declined,
    "minutes": group_emails.minutes,
    "group_invitation": group_emails.group_invitation,
    "meeting_invitation": group_emails.meeting_invitation,
    "confidential_notice": group_emails.confidential_notice,
}


def _render(email: OutboundEmail) -> EmailMessage:
    render = RENDERERS[email.kind]
    if email.group_id is None:
        return render(email)
    with inside(email.group):
        return render(email)


def email_send(email_id: int) -> bool:
    """Send one recorded e-mail if it is still unsent and nobody else is sending it; returns
    whether it went out now."""
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("group")
            .filter(pk=email_id, sent_at__isnull=True, skipped_at__isnull=True)
            .first()
        )
        if email is None:
            return False
        try:
            with transaction.atomic():  # a database error in rendering spoils only this
                message = _render(email)
                message.extra_headers["Message-ID"] = email.message_id
                message.send()
        except SoftTimeLimitExceeded:
            raise
        except EmailNoLongerApplies:
            email.skipped_at = timezone.now()
            email.save(update_fields=["skipped_at"])
            return False
        except Exception as error:
            # A refusing mail server, or what the e-mail was about is gone (a deleted row): an
            # attempt is counted either way, and MAX_ATTEMPTS ends the retries.
            email.attempts += 1
            email.last_error = type(error).__name__[:100]
            email.send_after = timezone.now() + retry_delay(email.attempts)
            email.save(update_fields=["attempts", "last_error", "send_after"])
            logger.warning(
                "E-mail %s (%s) not sent, attempt %s: %s",
                email.pk,
                email.kind,
                email.attempts,
                type(error).__name__,
            )
            return False
        email.sent_at = timezone.now()
        email.attempts += 1
        email.save(update_fields=["sent_at", "attempts"])
        return True


SWEEP_BUDGET_SECONDS = 200  # under the tasks' soft time limit (240 s); the next run goes on


def emails_send_due() -> int:
    """The sweep (beat, every minute): send every due e-mail still unsent, for at most
    SWEEP_BUDGET_SECONDS; returns how many went out."""
    sent = 0
    deadline = time.monotonic() + SWEEP_BUDGET_SECONDS
    for email_id in list(emails_due().values_list("pk", flat=True)):
        if time.monotonic() > deadline:
            break
        sent += email_send(email_id)
    return sent
