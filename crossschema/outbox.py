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
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import ngettext

from directory import emails as directory_emails
from groups import emails as group_emails
from society import emails as society_emails
from society import notifications
from society.models import OutboundEmail, User
from society.outbox import EmailNoLongerApplies, email_into_digest, emails_due, retry_delay
from society.timezones import zone_get
from society.urls_helpers import society_url

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
    "directory_post": directory_emails.directory_post,
    "directory_digest": directory_emails.directory_digest,
    "directory_refusal": directory_emails.directory_refusal,
    "minutes": group_emails.minutes,
    "group_invitation": group_emails.group_invitation,
    "meeting_invitation": group_emails.meeting_invitation,
    "confidential_notice": group_emails.confidential_notice,
}


def _recipient(email: OutboundEmail) -> User | None:
    user_id = (email.context or {}).get("user")
    return User.objects.filter(pk=user_id, is_active=True).first() if user_id else None


def _skip(email: OutboundEmail, *fields: str) -> None:
    """Not to be sent: it no longer applies, or its reader does not want it."""
    email.skipped_at = timezone.now()
    email.save(update_fields=["skipped_at", *fields])


def _attempt_failed(email: OutboundEmail, error: Exception, *fields: str) -> None:
    """Count a failed attempt and wait longer before the next (MAX_ATTEMPTS ends them)."""
    email.attempts += 1
    email.last_error = type(error).__name__[:100]
    email.send_after = timezone.now() + retry_delay(email.attempts)
    email.save(update_fields=["attempts", "last_error", "send_after", *fields])
    logger.warning(
        "E-mail %s (%s) not sent, attempt %s: %s",
        email.pk,
        email.kind,
        email.attempts,
        type(error).__name__,
    )


def _held(email: OutboundEmail, user: User | None) -> bool:
    """Apply the reader's choices to a reminder about to go (society.notifications): off, it
    is dropped; taken as a digest, it joins the next one; inside quiet hours (the 1-hour
    meeting reminder excepted), it waits until they end. Returns whether it was held back."""
    if user is None or email.kind not in notifications.KIND_CHOICE:
        return False
    delivery = notifications.delivery_of(user, email.kind)
    # Off; or the 1-hour meeting reminder, which in a digest would come after the meeting.
    if delivery == notifications.OFF or (
        delivery == notifications.DIGEST and email.kind in notifications.QUIET_HOURS_EXEMPT
    ):
        _skip(email)
        return True
    if delivery == notifications.DIGEST:
        email_into_digest(email, user)
        return True
    if email.kind not in notifications.QUIET_HOURS_EXEMPT:
        end = notifications.quiet_end(user, timezone.now())
        if end is not None:
            email.send_after = end
            email.save(update_fields=["send_after"])
            return True
    return False


def _digest_follow_choices(digest: OutboundEmail, user: User | None) -> None:
    """Before a digest goes: a part whose kind the member no longer takes as a digest leaves
    it (turned off, it is dropped; back to "now", it goes on its own)."""
    for part in digest.parts.filter(sent_at__isnull=True, skipped_at__isnull=True):
        delivery = notifications.delivery_of(user, part.kind) if user else notifications.OFF
        if delivery == notifications.DIGEST:
            continue
        part.digest = None
        if delivery == notifications.OFF:
            _skip(part, "digest")
        else:
            part.save(update_fields=["digest"])


def reminder_digest(email: OutboundEmail) -> EmailMessage:
    """A reader's daily digest: each reminder held for it, rendered now as it would have been
    sent on its own, with its attachments (one that no longer applies is left out and marked
    skipped)."""
    user = _recipient(email)
    if user is None:
        raise EmailNoLongerApplies
    sections, attachments = [], []
    parts = email.parts.filter(sent_at__isnull=True, skipped_at__isnull=True)
    for part in parts.select_related("group").order_by("send_after", "pk"):
        try:
            with transaction.atomic():  # one part's failure spoils neither the others nor this
                message = _render(part)
        except SoftTimeLimitExceeded:
            raise
        except EmailNoLongerApplies:
            _skip(part)
            continue
        except Exception as error:  # it leaves the digest and is retried on its own
            part.digest = None
            _attempt_failed(part, error, "digest")
            continue
        sections.append(
            {"subject": str.__str__(message.subject), "body": str.__str__(message.body).strip()}
        )
        for name, content, mimetype in message.attachments:
            stem, dot, extension = name.rpartition(".")
            attachments.append((f"{stem}-{len(sections)}{dot}{extension}", content, mimetype))
    if not sections:
        raise EmailNoLongerApplies
    body = render_to_string("emails/society/reminder_digest.txt", {"sections": sections})
    day = timezone.now().astimezone(zone_get(user.time_zone))
    subject = ngettext(
        "%(count)s reminder for %(day)s", "%(count)s reminders for %(day)s", len(sections)
    ) % {"day": f"{day:%a} {day.day} {day:%b}", "count": len(sections)}
    digest = EmailMessage(subject=subject, body=body, to=[user.email], attachments=attachments)
    digest.sections = sections  # the HTML shows each under its own heading
    return digest


RENDERERS[notifications.DIGEST_KIND] = reminder_digest


def _dress(message: EmailMessage, email: OutboundEmail, user: User | None) -> EmailMessage:
    """Every e-mail goes as text and as HTML in the site's look; a reminder or digest also
    says why its reader gets it and carries one-click unsubscribe from its kind (RFC 8058)."""
    footer = None
    # The text as a plain str: render_to_string marks it safe (its templates do not escape,
    # being text), and the HTML must escape whatever members typed into it.
    text = str.__str__(message.body)
    choice = notifications.KIND_CHOICE.get(email.kind)
    if email.kind == notifications.DIGEST_KIND:
        choice = notifications.UNSUBSCRIBE_ALL_DIGESTS
    if choice is not None and user is not None:
        footer = {
            "settings": society_url("/account/#your-email"),
            "unsubscribe": notifications.unsubscribe_url(user, choice),
        }
        message.extra_headers.update(notifications.unsubscribe_headers(user, choice))
        message.body = (
            message.body.rstrip() + "\n\n" + render_to_string("emails/footer.txt", footer)
        )
    dressed = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body,
        from_email=message.from_email,
        to=message.to,
        cc=message.cc,
        bcc=message.bcc,
        reply_to=message.reply_to,
        headers=message.extra_headers,
        attachments=message.attachments,
    )
    html = render_to_string(
        "emails/base.html",
        {
            "subject": message.subject,
            "body": text,
            "sections": getattr(message, "sections", None),
            "footer": footer,
            "society": settings.SOCIETY_NAME,
        },
    )
    dressed.attach_alternative(html, "text/html")
    return dressed


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
            .filter(
                pk=email_id,
                sent_at__isnull=True,
                skipped_at__isnull=True,
                digest__isnull=True,  # a digest's part goes with its digest
            )
            .first()
        )
        if email is None:
            return False
        user = _recipient(email)
        if _held(email, user):
            return False
        if email.kind == notifications.DIGEST_KIND:
            _digest_follow_choices(email, user)
        try:
            with transaction.atomic():  # a database error in rendering spoils only this
                message = _dress(_render(email), email, user)
                message.extra_headers["Message-ID"] = email.message_id
                message.send()
        except SoftTimeLimitExceeded:
            raise
        except EmailNoLongerApplies:
            _skip(email)
            # a digest of nothing: none of its parts applies any more either
            email.parts.filter(sent_at__isnull=True, skipped_at__isnull=True).update(
                skipped_at=email.skipped_at
            )
            return False
        except Exception as error:
            # A refusing mail server, or what the e-mail was about is gone (a deleted row): an
            # attempt is counted either way.
            _attempt_failed(email, error)
            return False
        email.sent_at = timezone.now()
        email.attempts += 1
        email.save(update_fields=["sent_at", "attempts"])
        email.parts.filter(sent_at__isnull=True, skipped_at__isnull=True).update(
            sent_at=email.sent_at
        )
        return True


def emails_send(email_ids: list[int]) -> int:
    """Send each of these recorded e-mails still unsent (a batch from emails_enqueue_many);
    returns how many went out now. One that fails waits for the sweep; the others still go."""
    return sum(email_send(email_id) for email_id in email_ids)


SWEEP_BUDGET_SECONDS = 200  # under the tasks' soft time limit (240 s); the next run goes on


def emails_send_due() -> int:
    """The sweep (beat, every minute): send every due e-mail still unsent, for at most
    SWEEP_BUDGET_SECONDS; returns how many went out."""
    sent = 0
    deadline = time.monotonic() + SWEEP_BUDGET_SECONDS
    for email_id in list(emails_due().values_list("pk", flat=True)):
        if time.monotonic() > deadline:
            break
        try:
            sent += email_send(email_id)
        except SoftTimeLimitExceeded:
            raise
        except Exception as error:  # one row's trouble (a deadlock) must not stop the rest
            logger.error("E-mail %s: sweep failed (%s)", email_id, type(error).__name__)
    return sent
