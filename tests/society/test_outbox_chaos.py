"""The outbox under failure, with real processes: a mail server down for a while, the broker
(Redis) down during a request (a worker killed mid-batch, and Redis down while reminders come
due, are in tests/crossschema/test_chaos.py). What a person would notice is counted at
a real SMTP server (aiosmtpd) by Message-ID: every e-mail arrives, at most the one in flight at a
kill arrives twice (with the same Message-ID), and nothing else does.

Each test runs its own Redis as the broker (for its worker and for this process), its own worker
on a queue of its own and its own SMTP server, and stops them all when it ends.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import shutil
import socket
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import transaction
from django.utils import timezone

from crossschema.outbox import emails_send_due
from society.models import OutboundEmail
from society.outbox import email_enqueue
from tests.conftest import port_open, running, wait_for, worker_argv
from tests.society.test_applications import _cleanup, draft

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket closes


@contextmanager
def _smtp_server(port: int, delay: float = 0.0) -> Iterator[list[str]]:
    """A real SMTP server on `port`; yields the Message-IDs it received, in order. With `delay`
    it is slow: it has the message, then waits before its "250", so a sender killed meanwhile
    never learns the message arrived."""
    received: list[str] = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            raw = envelope.original_content or envelope.content
            message = email.message_from_bytes(raw, policy=email.policy.default)
            received.append(str(message["Message-ID"]))
            await asyncio.sleep(delay)
            return "250 Message accepted for delivery"

    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield received
    finally:
        controller.stop()


class _Redis:
    """A private redis-server (no persistence), stopped and started again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.server = shutil.which("redis-server")
        self.folder = folder
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        argv = [self.server, "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        with open(self.folder / "redis.log", "a") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: port_open(self.port), 10, "the private Redis")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None
        wait_for(lambda: not port_open(self.port), 10, "the private Redis to stop")


def _use_broker(app, url: str | None) -> None:
    """Point this process's Celery app at `url` (None: back to its own broker). Neither the
    CELERY_BROKER_URL setting nor app.conf.broker_url will do once the app is configured: the
    environment's CELERY_BROKER_URL wins over the latter (celery.app.utils.Settings.broker_url);
    broker_write_url is read first when publishing. The pools are made once, so drop them too."""
    app.conf.broker_write_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(tmp_path) -> Iterator[tuple[_Redis, str]]:
    """A private Redis as the broker of this process and of the workers the test starts, and a
    queue of the test's own (this process's default queue while the test runs); yields both."""
    from config.celery import app

    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (bin/bootstrap installs Debian's)")
    redis = _Redis(tmp_path)
    redis.start()
    queue = f"chaos-{uuid.uuid4().hex[:6]}"
    default_queue = app.conf.task_default_queue
    _use_broker(app, redis.url)
    app.conf.task_default_queue = queue
    try:
        yield redis, queue
    finally:
        app.conf.task_default_queue = default_queue
        app.pool.force_close_all()
        _use_broker(app, None)
        redis.stop()


@contextmanager
def _worker(log: Path, queue: str, redis: _Redis, smtp_port: int) -> Iterator[subprocess.Popen]:
    with running(
        worker_argv(queue),
        log,
        lambda: "ready." in log.read_text(),
        "a worker of the test's own",
        CELERY_BROKER_URL=redis.url,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        EMAIL_BACKEND=SMTP_BACKEND,
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_TIMEOUT="5",
    ) as proc:
        yield proc


def _record(event_id: int, prefix: str, count: int) -> list[OutboundEmail]:
    """`count` due e-mails about one application event; each asks the worker to send it."""
    return [
        email_enqueue(
            key=f"{prefix}-{n}",
            kind="application_state",
            to=f"reader{n}@example.edu",
            context={"event": event_id},
        )
        for n in range(count)
    ]


def _unsent_unlocked(ids: list[int]) -> bool:
    """No unsent row is still locked by a sender (a killed worker's transaction has ended)."""
    with transaction.atomic():
        unsent = OutboundEmail.objects.filter(pk__in=ids, sent_at__isnull=True)
        free = unsent.select_for_update(skip_locked=True)
        return len(free) == unsent.count()


def _all_sent(ids: list[int]) -> bool:
    return not OutboundEmail.objects.filter(pk__in=ids, sent_at__isnull=True).exists()


def test_a_mail_server_down_for_a_while_costs_attempts_and_then_each_email_arrives_once(
    committed, world, broker, tmp_path
):
    from config.celery import app

    redis, queue = broker
    application = draft(world)
    prefix = f"chaos-smtp-{uuid.uuid4().hex[:6]}"
    smtp_port = _free_port()  # nothing listens there: the mail server is down
    try:
        with _worker(tmp_path / "worker.log", queue, redis, smtp_port):
            rows = _record(application.events.latest("pk").pk, prefix, 5)
            ids = [row.pk for row in rows]
            tried = OutboundEmail.objects.filter(pk__in=ids, attempts__gte=1)
            wait_for(lambda: tried.count() == 5, 30, "the worker to try every e-mail")
            assert set(
                OutboundEmail.objects.filter(pk__in=ids).values_list(
                    "sent_at", "attempts", "last_error"
                )
            ) == {(None, 1, "ConnectionRefusedError")}
            assert OutboundEmail.objects.filter(pk__in=ids, send_after__gt=timezone.now()).count()

            with _smtp_server(smtp_port) as received:  # the mail server is back
                # Standing in for waiting out the backoff (a minute after the first attempt).
                OutboundEmail.objects.filter(pk__in=ids).update(send_after=timezone.now())
                app.send_task("crossschema.emails_send_due", queue=queue)
                wait_for(lambda: _all_sent(ids), 30, "every e-mail marked sent")
                assert emails_send_due() == 0

        assert Counter(received) == {row.message_id: 1 for row in rows}
        assert set(OutboundEmail.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {
            2
        }
    finally:
        OutboundEmail.objects.filter(key__startswith=prefix).delete()
        _cleanup(application)


def test_a_submit_while_the_broker_is_down_succeeds_and_the_sweep_sends_its_email_once(
    committed, world, broker, tmp_path, client_for, caplog
):
    from config.celery import app

    redis, queue = broker
    application = draft(world)
    smtp_port = _free_port()
    log = tmp_path / "worker.log"
    try:
        with _smtp_server(smtp_port) as received, _worker(log, queue, redis, smtp_port):
            redis.stop()
            with caplog.at_level(logging.ERROR, logger="django.db.backends.base"):
                started = time.monotonic()
                submitted = client_for(world.olivia).post(f"/applications/{application.pk}/submit/")
                took = time.monotonic() - started
            print(f"\nthe submit took {took:.2f} s with the broker down")
            assert submitted.status_code == 302  # not a 500: the change is committed
            assert took < 10
            # The send after commit failed, and said so.
            assert any("on_commit" in r.getMessage() for r in caplog.records), caplog.text
            [recorded] = OutboundEmail.objects.filter(
                kind="application_state", context__event=application.events.latest("pk").pk
            )
            assert (recorded.sent_at, recorded.attempts) == (None, 0)

            redis.start()  # empty: the send that failed was never queued anywhere
            # The worker reconnects by itself (it retries every few seconds).
            wait_for(
                lambda: log.read_text().count("Connected to redis://") >= 2,
                60,
                "the worker to reconnect to the broker",
            )
            app.send_task("crossschema.emails_send_due", queue=queue)
            wait_for(lambda: _all_sent([recorded.pk]), 30, "the e-mail marked sent")
        assert received == [recorded.message_id]
    finally:
        OutboundEmail.objects.filter(
            context__event__in=list(application.events.values_list("pk", flat=True))
        ).delete()
        _cleanup(application)
