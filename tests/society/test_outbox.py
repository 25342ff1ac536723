"""The outbox: an e-mail is recorded with the change that causes it and sent by the worker,
never by the request; a mail server that is down costs nobody their submit, and the e-mail
arrives once, with one Message-ID, when it is back. (Application e-mails go through it; the
other kinds move onto it next.)"""

from __future__ import annotations

import socket
from datetime import timedelta

from django.core import mail
from django.utils import timezone

from crossschema.outbox import email_send, emails_send_due
from society.models import (
    ApplicationEvent,
    GroupApplication,
    IdentityConfirmation,
    Institution,
    OutboundEmail,
)
from society.outbox import KEEP_SENT, email_enqueue, emails_purge, retry_delay
from society.services import application_submit, identity_confirmation_request
from tests.conftest import smtp_received, text_of, wait_for
from tests.meetings import meeting_held
from tests.society.test_applications import _cleanup, draft


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket closes


def test_a_submit_while_the_mail_server_is_down_succeeds_and_the_email_follows_once(
    db, world, client_for, settings
):
    application = draft(world)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    settings.EMAIL_TIMEOUT = 2

    submitted = client_for(world.olivia).post(f"/applications/{application.pk}/submit/")
    assert submitted.status_code == 302  # the person submitting never waits on SMTP
    assert GroupApplication.objects.get(pk=application.pk).state == "submitted"
    [recorded] = OutboundEmail.objects.filter(to=world.olivia.email, kind="application_state")
    assert recorded.sent_at is None and recorded.context == {
        "event": ApplicationEvent.objects.filter(application=application).latest("pk").pk
    }

    assert emails_send_due() == 0  # the sweep, while the server is down
    recorded.refresh_from_db()
    assert recorded.sent_at is None and recorded.attempts == 1
    assert recorded.last_error == "ConnectionRefusedError"
    assert recorded.send_after > timezone.now()  # it waits before trying again
    assert emails_send_due() == 0  # and is not tried again before then

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the server is back
    OutboundEmail.objects.filter(pk=recorded.pk).update(send_after=timezone.now())
    assert emails_send_due() == 1
    assert emails_send_due() == 0
    [sent] = mail.outbox
    assert sent.to == [world.olivia.email] and sent.subject.endswith(": submitted")
    assert sent.extra_headers["Message-ID"] == recorded.message_id


def test_a_key_is_recorded_once_and_a_sent_email_is_never_sent_again(db, world):
    first = email_enqueue(key="k-1", kind="application_state", to="a@example.edu", context={})
    assert first is not None
    assert email_enqueue(key="k-1", kind="application_state", to="a@example.edu") is None
    assert OutboundEmail.objects.filter(key="k-1").count() == 1
    OutboundEmail.objects.filter(pk=first.pk).update(sent_at=timezone.now())
    assert email_send(first.pk) is False and not mail.outbox


def test_what_cannot_be_rendered_is_counted_and_tried_less_and_less(db, world):
    gone = email_enqueue(
        key="k-gone", kind="application_state", to="a@example.edu", context={"event": 0}
    )
    assert email_send(gone.pk) is False
    gone.refresh_from_db()
    assert (gone.attempts, gone.last_error) == (1, "DoesNotExist")
    assert [retry_delay(n) for n in (1, 2, 3, 10, 20)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(hours=6),
        timedelta(hours=6),
    ]
    OutboundEmail.objects.filter(pk=gone.pk).update(
        attempts=OutboundEmail.MAX_ATTEMPTS, send_after=timezone.now()
    )
    assert emails_send_due() == 0  # given up after MAX_ATTEMPTS


def test_the_worker_sends_a_recorded_email_through_the_smtp_server_once(
    committed, world, celery_worker_process, worker_outbox
):
    application = draft(world)
    try:
        application_submit(application=application, actor=world.olivia)  # commits
        recorded = OutboundEmail.objects.get(
            kind="application_state", context__event=application.events.latest("pk").pk
        )

        def arrived() -> list:
            return [
                m for m in smtp_received(worker_outbox) if m["Message-ID"] == recorded.message_id
            ]

        [message] = wait_for(arrived, 30, "the application e-mail at the SMTP server")
        assert message["To"] == world.olivia.email
        assert "is now: submitted" in text_of(message)
        wait_for(
            lambda: OutboundEmail.objects.get(pk=recorded.pk).sent_at is not None,
            10,
            "the e-mail marked sent",
        )
        assert len(arrived()) == 1
    finally:
        OutboundEmail.objects.filter(to=world.olivia.email).delete()
        _cleanup(application)


def test_an_expired_confirmation_link_is_not_sent_late(db, world):
    institution = Institution.objects.get(name="Northfield University")
    confirmation = identity_confirmation_request(
        user=world.carol, institution=institution, provider="https://idp.example", uid="carol"
    )
    IdentityConfirmation.objects.filter(pk=confirmation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)  # the mail server was down a day
    )
    assert emails_send_due() == 0 and not mail.outbox
    row = OutboundEmail.objects.get(kind="identity_confirm", context__confirmation=confirmation.pk)
    assert row.skipped_at is not None and row.sent_at is None and row.attempts == 0


def test_old_emails_are_forgotten_and_the_rest_kept(db):
    """Sent, skipped and abandoned e-mails go after 90 days (the table holds addresses); what is
    still to be sent, or was sent lately, stays."""
    now = timezone.now()
    old = now - KEEP_SENT - timedelta(days=1)
    rows = {
        name: email_enqueue(
            key=f"purge-{name}", kind="application_state", to=f"{name}@example.edu", context={}
        )
        for name in ("sent_old", "skipped_old", "abandoned_old", "sent_lately", "waiting_old")
    }
    OutboundEmail.objects.filter(pk=rows["sent_old"].pk).update(sent_at=old, created_at=old)
    OutboundEmail.objects.filter(pk=rows["skipped_old"].pk).update(skipped_at=old, created_at=old)
    OutboundEmail.objects.filter(pk=rows["abandoned_old"].pk).update(
        attempts=OutboundEmail.MAX_ATTEMPTS, created_at=old
    )
    OutboundEmail.objects.filter(pk=rows["sent_lately"].pk).update(sent_at=now, created_at=old)
    OutboundEmail.objects.filter(pk=rows["waiting_old"].pk).update(created_at=old, attempts=3)

    assert emails_purge() == 3
    left = set(OutboundEmail.objects.filter(key__startswith="purge-").values_list("key", flat=True))
    assert left == {"purge-sent_lately", "purge-waiting_old"}


def test_with_the_mail_server_down_approvals_and_minutes_succeed_and_mail_follows_once(
    db, world, client_for, settings
):
    application = draft(world)
    application_submit(application=application, actor=world.olivia)
    held = meeting_held(world, "Held on Monday")
    since = timezone.now()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    settings.EMAIL_TIMEOUT = 2

    approved = client_for(world.sam).post(
        f"/manage/applications/{application.pk}/", {"decision": "approve", "comment": ""}
    )
    published = client_for(world.alice, world.alpha).post(f"/meetings/{held.pk}/minutes/")
    assert (approved.status_code, published.status_code) == (302, 302)
    assert GroupApplication.objects.get(pk=application.pk).state == "approved"
    recorded = OutboundEmail.objects.filter(created_at__gte=since)
    assert {"application_state", "minutes"} <= set(recorded.values_list("kind", flat=True))

    assert emails_send_due() == 0  # the server is down: each costs an attempt, none is lost
    assert not recorded.filter(attempts=0).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # it is back
    recorded.update(send_after=timezone.now())
    mail.outbox.clear()
    assert emails_send_due() == recorded.count()
    assert emails_send_due() == 0
    ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    assert sorted(ids) == sorted(recorded.values_list("message_id", flat=True))  # each once
    minutes_to = sorted(m.to[0] for m in mail.outbox if m.subject.startswith("Minutes"))
    assert minutes_to == sorted([world.alice.email, world.bob.email, world.carol.email])
