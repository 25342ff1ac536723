"""The listserv by e-mail, end to end: a real Celery worker sends through a real SMTP server on
loopback; the one-click unsubscribe is POSTed to gunicorn without a session (RFC 8058)."""

from __future__ import annotations

import email
import email.policy
import http.client
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.db import connection, transaction
from django.utils import timezone

from directory import services
from directory.models import JoinRequest, ModerationEvent, Post, Profile, Subscription
from directory.tasks import digests_send
from society.models import OutboundEmail
from tests.conftest import wait_for
from tests.society.factories import UserFactory

HIDDEN = "CANARY-identity-5e1f"


def forget_users(*users) -> None:
    """Remove committed test users and their directory rows (a User's ORM delete would look
    for group tables that only group schemas have)."""
    ids = [u.pk for u in users]
    ModerationEvent.objects.filter(member_id__in=ids).delete()
    JoinRequest.objects.filter(user_id__in=ids).delete()
    Profile.objects.filter(user_id__in=ids).delete()
    Subscription.objects.filter(user_id__in=ids).delete()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM society_user WHERE id = ANY(%s)", [ids])


def _mail(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted(folder.iterdir())
    ]


def one_click(url: str) -> int:
    """POST as a mail program does for RFC 8058: no cookies, no CSRF token. `*.localhost` is
    not in this machine's resolver, so connect to loopback and send the Host header."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    conn.request(
        "POST",
        parts.path,
        body="List-Unsubscribe=One-Click",
        headers={"Host": parts.netloc, "Content-Type": "application/x-www-form-urlencoded"},
    )
    status = conn.getresponse().status
    conn.close()
    return status


def _text(message: email.message.EmailMessage) -> str:
    """The text part (the message itself when it has no HTML alternative)."""
    return message.get_body(preferencelist=("plain",)).get_content()


def _to(folder: Path, address: str, subject_part: str) -> list[email.message.EmailMessage]:
    return [m for m in _mail(folder) if m["To"] == address and subject_part in m["Subject"]]


def test_posts_and_digests_go_out_with_list_headers_and_unsubscribe_in_one_click(
    committed, world, celery_worker_process, smtp_server, worker_outbox, web_server, web_server_log
):
    author = UserFactory(email="poster@lakeside.edu", full_name="Pat Poster")
    daily = UserFactory(email="daily@northfield.edu", full_name="Dana Daily")
    each = UserFactory(email="each@southport.edu", full_name="Eve Each")
    posts = []
    try:
        services.profile_save(
            user=author, name="Pat Poster", gender=HIDDEN, gender_visibility="suggestions"
        )
        for user, mode in ((daily, "daily"), (each, "each")):
            services.profile_save(user=user, name=user.full_name)
            services.subscription_set(user=user, delivery=mode)
        # Dana's last digest covered everything up to two days ago.
        Subscription.objects.filter(user=daily).update(
            digest_covered_until=timezone.now() - timedelta(days=2)
        )
        posts.append(
            services.post_create(
                author=author,
                kind="seeking",
                title="Seeking peers in health services research",
                body="Two more assistant professors for a K-award group?",
            )
        )
        with transaction.atomic():  # hidden before its delivery task is sent
            hidden = services.post_create(
                author=author, kind="question", title="Spam", body="Buy now"
            )
            posts.append(hidden)
            services.post_moderate(post=hidden, by=world.sam, action="hide", reason="Spam")

        # Every post, as it is posted: recorded with it in the outbox, sent by the worker,
        # with a reply address; the hidden one is not sent (the worker checks when sending).
        (post_mail,) = wait_for(
            lambda: _to(worker_outbox, each.email, "Seeking peers in health"), 60, "post e-mail"
        )
        assert post_mail["List-Id"].endswith("<directory.horizontal.localhost>")
        assert post_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert services.reply_target(post_mail["Reply-To"]) == (posts[0].pk, each.pk)
        assert "Two more assistant professors" in _text(post_mail)
        hidden_skipped = OutboundEmail.objects.filter(
            key=f"post:{hidden.pk}:{each.pk}", skipped_at__isnull=False
        )
        wait_for(hidden_skipped.exists, 60, "the hidden post's e-mail skipped")

        # The daily digest: beat's task records it (its period closes a few minutes back, so
        # the posts are from before that), the worker sends it.
        Post.objects.filter(pk__in=[p.pk for p in posts]).update(
            created_at=timezone.now() - timedelta(minutes=10)
        )
        digests_send.delay()
        (digest,) = wait_for(
            lambda: _to(worker_outbox, daily.email, "daily digest"), 60, "the digest"
        )
        text = _text(digest)
        assert "Seeking peers in health services research" in text and "Pat Poster" in text
        assert "Buy now" not in text  # hidden by a moderator
        assert digest["List-Id"] == post_mail["List-Id"]
        cover = Subscription.objects.get(user=daily).digest_covered_until
        assert cover > timezone.now() - services.DIGEST_SETTLE - timedelta(minutes=1)
        # A second run records nothing twice (the cover moved in the same transaction).
        assert services.digests_enqueue() == 0
        assert len(_to(worker_outbox, daily.email, "daily digest")) == 1
        assert not _to(worker_outbox, each.email, "Spam")
        for message in _mail(worker_outbox):
            assert HIDDEN not in message.as_string()

        # One click in the mail program: a POST without cookies or CSRF token.
        url = digest["List-Unsubscribe"].strip().strip("<>")
        assert url.startswith(web_server + "/directory/unsubscribe/")
        assert one_click(url) == 200
        assert Subscription.objects.get(user=daily).delivery == "none"
        forged = url[:-2] + ("0" if url[-2] != "0" else "1") + "/"
        assert one_click(forged) == 404  # a forged token unsubscribes nobody
        token = url.rstrip("/").rsplit("/", 1)[1]
        wait_for(
            lambda: "/directory/unsubscribe/…/" in web_server_log.read_text(), 10, "access log"
        )
        assert token not in web_server_log.read_text()  # gunicorn's access log redacts it
    finally:
        Post.objects.filter(pk__in=[p.pk for p in posts]).delete()
        OutboundEmail.objects.filter(to__in=[daily.email, each.email]).delete()
        forget_users(author, daily, each)
