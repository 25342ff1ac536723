"""The listserv's e-mail goes through the outbox: each post to each member who wants every
post, and each digest, is recorded with the change that causes it and sent by the worker,
which checks again at sending time that it still applies."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail
from django.core.mail import EmailMessage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crossschema.outbox import emails_send, emails_send_due
from directory import services
from directory.models import Post, Subscription
from society import outbox
from society.models import OutboundEmail, User
from tests.conftest import fresh
from tests.society.factories import UserFactory


def _each(*users) -> None:
    for user in users:
        services.subscription_set(user=fresh(user), delivery="each")


def _post(world, title="Stepped-wedge trials?") -> Post:
    return services.post_create(author=fresh(world.bob), kind="question", title=title, body="Who?")


def _to(address: str) -> list[EmailMessage]:
    return [m for m in mail.outbox if m.to == [address]]


# --- each post, as it is posted -----------------------------------------------------------------


def test_a_post_is_recorded_with_it_and_sent_once_with_the_lists_headers(db, world):
    _each(world.carol, world.alice)
    thread = _post(world)
    assert mail.outbox == []  # recorded with the post; the worker sends it
    recorded = OutboundEmail.objects.filter(kind="directory_post").order_by("to")
    assert sorted(r.key for r in recorded) == sorted(
        [f"post:{thread.pk}:{world.carol.pk}", f"post:{thread.pk}:{world.alice.pk}"]
    )
    assert services.post_enqueue(post=thread) == 2  # run again: the same keys, nothing new
    assert OutboundEmail.objects.filter(kind="directory_post").count() == 2

    assert emails_send_due() == 2 and emails_send_due() == 0
    (message,) = _to(world.carol.email)
    assert len(mail.outbox) == 2
    assert message.subject == "[Horizontal Society directory] Stepped-wedge trials?"
    assert "Who?" in message.body and world.bob.display_name in message.body
    headers = message.extra_headers
    assert headers["List-Id"].endswith("<directory.horizontal.localhost>")
    assert headers["List-Unsubscribe"].startswith("<http://horizontal.localhost")
    assert "/directory/unsubscribe/" in headers["List-Unsubscribe"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Precedence"] == "list" and headers["Auto-Submitted"] == "auto-generated"
    assert services.reply_target(headers["Reply-To"]) == (thread.pk, world.carol.pk)
    carols = OutboundEmail.objects.get(key=f"post:{thread.pk}:{world.carol.pk}")
    assert headers["Message-ID"] == carols.message_id and carols.sent_at is not None


def test_a_reply_threads_under_the_threads_email_to_the_same_member(db, world):
    _each(world.carol)
    thread = _post(world)
    emails_send_due()
    (first,) = mail.outbox
    services.reply_create(thread=thread, author=fresh(world.alice), body="Me, please.")
    assert emails_send_due() == 1
    reply = mail.outbox[1]
    assert reply.subject == "Re: [Horizontal Society directory] Stepped-wedge trials?"
    assert reply.extra_headers["In-Reply-To"] == first.extra_headers["Message-ID"]
    assert reply.extra_headers["References"] == first.extra_headers["Message-ID"]
    assert services.reply_target(reply.extra_headers["Reply-To"]) == (thread.pk, world.carol.pk)


def test_a_post_hidden_by_a_moderator_before_it_is_sent_is_not_sent(db, world):
    _each(world.carol, world.alice)
    spam = _post(world, title="Buy now")
    services.post_moderate(post=spam, by=world.sam, action="hide", reason="Spam")

    assert emails_send_due() == 0
    assert mail.outbox == []
    recorded = OutboundEmail.objects.filter(kind="directory_post")
    assert recorded.count() == 2 and not recorded.filter(skipped_at__isnull=True).exists()
    services.post_moderate(post=fresh(spam), by=world.sam, action="unhide", reason="Mistake")
    assert emails_send_due() == 0  # a skipped e-mail is never tried again


def test_a_reply_in_a_thread_hidden_before_it_is_sent_is_not_sent(db, world):
    thread = _post(world)
    _each(world.carol)
    services.reply_create(thread=thread, author=fresh(world.alice), body="Me!")
    services.post_moderate(post=thread, by=world.sam, action="hide", reason="Off topic")
    assert emails_send_due() == 0 and mail.outbox == []


def test_a_member_who_stops_wanting_every_post_before_it_is_sent_is_not_sent_it(db, world):
    _each(world.carol, world.alice)
    _post(world)
    services.subscription_set(user=fresh(world.carol), delivery="none")
    assert emails_send_due() == 1
    assert [m.to for m in mail.outbox] == [[world.alice.email]]


def test_only_members_who_want_every_post_get_it_and_never_its_author(db, world):
    _each(world.bob, world.carol)
    services.subscription_set(user=fresh(world.alice), delivery="daily")
    _post(world)
    assert [r.to for r in OutboundEmail.objects.filter(kind="directory_post")] == [
        world.carol.email
    ]


def test_a_post_to_many_members_takes_the_same_queries_as_to_a_few(db, world):
    def queries_to_post() -> int:
        with CaptureQueriesContext(connection) as context:
            _post(world)
        return len(context.captured_queries)

    _each(world.carol, world.alice)
    few = queries_to_post()
    _each(*UserFactory.create_batch(40))
    assert queries_to_post() == few
    assert OutboundEmail.objects.filter(kind="directory_post").count() == 2 + 42


def test_the_batch_goes_to_the_workers_in_chunks_once_the_post_is_committed(
    db, world, monkeypatch, django_capture_on_commit_callbacks
):
    sent_tasks = []
    broker = SimpleNamespace(send_task=lambda name, args: sent_tasks.append((name, args)))
    monkeypatch.setattr(outbox, "current_app", broker)
    monkeypatch.setattr(outbox, "SEND_MANY_CHUNK", 2)
    _each(world.carol, world.alice, world.erin)
    with django_capture_on_commit_callbacks(execute=True):
        thread = _post(world)
        assert sent_tasks == []  # nothing before the commit
    ids = list(
        OutboundEmail.objects.filter(kind="directory_post")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert sent_tasks == [(outbox.SEND_MANY_TASK, [ids[:2]]), (outbox.SEND_MANY_TASK, [ids[2:]])]
    assert sum(emails_send(chunk) for _name, (chunk,) in sent_tasks) == 3  # as the worker runs it
    assert emails_send(ids) == 0  # a redelivered task sends nothing twice
    assert {m.to[0] for m in mail.outbox} == {
        world.carol.email,
        world.alice.email,
        world.erin.email,
    }
    assert all(
        f"post:{thread.pk}:" in k for k in OutboundEmail.objects.values_list("key", flat=True)
    )


def test_one_refused_address_does_not_stop_the_others_and_is_tried_again(db, world, monkeypatch):
    _each(world.alice, world.carol, world.erin)
    _post(world)
    real_send = EmailMessage.send

    def send(message, *args, **kwargs):
        if message.to == [world.carol.email]:
            raise ConnectionRefusedError("refused")
        return real_send(message, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", send)
    assert emails_send_due() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([world.alice.email, world.erin.email])
    monkeypatch.undo()
    carols = OutboundEmail.objects.get(to=world.carol.email, kind="directory_post")
    assert carols.attempts == 1 and carols.last_error == "ConnectionRefusedError"
    OutboundEmail.objects.filter(pk=carols.pk).update(send_after=timezone.now())
    assert emails_send_due() == 1  # Carol's, on a later sweep
    assert emails_send_due() == 0


# --- digests ------------------------------------------------------------------------------------


def _daily(user, covered_until) -> Subscription:
    services.subscription_set(user=fresh(user), delivery="daily")
    Subscription.objects.filter(user=user).update(digest_covered_until=covered_until)
    return Subscription.objects.get(user=user)


def _made_at(post: Post, when) -> Post:
    Post.objects.filter(pk=post.pk).update(created_at=when)
    return fresh(post)


def test_a_digest_is_recorded_when_due_and_built_from_the_database_when_sent(db, world):
    now = timezone.now()
    subscription = _daily(world.carol, now - timedelta(days=2))
    kept = _made_at(_post(world, title="Kept"), now - timedelta(hours=3))
    spam = _made_at(_post(world, title="Spam"), now - timedelta(hours=2))
    services.post_moderate(post=spam, by=world.sam, action="hide", reason="Spam")
    late = _made_at(_post(world, title="Hidden after recording"), now - timedelta(hours=1))

    assert services.digests_enqueue(now=now) == 1
    assert services.digests_enqueue(now=now) == 0  # a rerun records nothing twice
    (recorded,) = OutboundEmail.objects.filter(kind="directory_digest")
    assert recorded.key == f"directory_digest:{subscription.pk}:{now.isoformat()}"
    assert recorded.context == {
        "subscription": subscription.pk,
        "delivery": "daily",
        "since": (now - timedelta(days=2)).isoformat(),
        "until": now.isoformat(),
    }
    assert fresh(subscription).digest_covered_until == now
    services.post_moderate(post=late, by=world.sam, action="hide", reason="Off topic")

    assert emails_send_due() == 1
    (digest,) = mail.outbox
    assert digest.to == [world.carol.email]
    assert digest.subject == "[Horizontal Society directory] Your daily digest: 1 new post"
    assert kept.title in digest.body and f"/directory/posts/{kept.pk}/" in digest.body
    assert "Spam" not in digest.body and late.title not in digest.body
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert digest.extra_headers["List-Id"].endswith("<directory.horizontal.localhost>")
    assert digest.extra_headers["Message-ID"] == recorded.message_id


def test_no_post_is_in_two_digests_and_none_is_left_out(db, world):
    start = timezone.now() - timedelta(days=3)
    _daily(world.carol, start)
    first = _made_at(_post(world, title="First"), start + timedelta(hours=1))
    services.digests_enqueue(now=start + timedelta(days=1))
    second = _made_at(_post(world, title="Second"), start + timedelta(days=1, hours=1))
    edge = _made_at(_post(world, title="On the edge"), start + timedelta(days=1))
    services.digests_enqueue(now=start + timedelta(days=2))

    assert emails_send_due() == 2
    one, two = sorted(mail.outbox, key=lambda m: "First" not in m.body)
    assert first.title in one.body and edge.title in one.body and second.title not in one.body
    assert second.title in two.body and first.title not in two.body and edge.title not in two.body


def test_nothing_new_records_no_digest_but_moves_the_cover(db, world):
    now = timezone.now()
    subscription = _daily(world.carol, now - timedelta(days=2))
    assert services.digests_enqueue(now=now) == 0
    assert not OutboundEmail.objects.filter(kind="directory_digest").exists()
    assert fresh(subscription).digest_covered_until == now


def test_a_digest_is_not_sent_to_a_member_who_unsubscribed_or_when_all_was_hidden(db, world):
    now = timezone.now()
    _daily(world.carol, now - timedelta(days=2))
    _daily(world.erin, now - timedelta(days=2))
    only = _made_at(_post(world), now - timedelta(hours=1))
    assert services.digests_enqueue(now=now) == 2
    services.subscription_set(user=fresh(world.carol), delivery="none")  # one click, meanwhile
    assert emails_send_due() == 1 and [m.to for m in mail.outbox] == [[world.erin.email]]

    _daily(world.carol, now)
    _made_at(only, now + timedelta(hours=1))
    assert services.digests_enqueue(now=now + timedelta(days=1, hours=2)) == 2
    services.post_moderate(post=fresh(only), by=world.sam, action="hide", reason="Spam")
    assert emails_send_due() == 0
    assert (
        OutboundEmail.objects.filter(kind="directory_digest", skipped_at__isnull=False).count() == 3
    )


def test_a_soft_time_limit_is_not_swallowed_by_the_digest_loop(db, world, monkeypatch):
    _daily(world.carol, timezone.now() - timedelta(days=2))

    def stop(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "_digest_enqueue_one", stop)
    with pytest.raises(SoftTimeLimitExceeded):
        services.digests_enqueue()


def test_an_inactive_member_gets_no_post_and_no_digest(db, world):
    _each(world.carol)
    _post(world)
    User.objects.filter(pk=world.carol.pk).update(is_active=False)
    assert emails_send_due() == 0 and mail.outbox == []


def test_the_address_is_the_members_address_when_it_is_sent(db, world):
    _each(world.carol)
    _post(world)
    User.objects.filter(pk=world.carol.pk).update(email="carol.new@northfield.edu")
    assert emails_send_due() == 1
    assert [m.to for m in mail.outbox] == [["carol.new@northfield.edu"]]


def test_beats_run_leaves_the_last_minutes_to_the_next_digest(db, world):
    """A post is stamped when its transaction begins and may commit after a digest's period
    closed: beat's run closes periods a few minutes back, so such a post is in the next one."""
    now = timezone.now()
    subscription = _daily(world.carol, now - timedelta(days=2))
    _made_at(_post(world, title="Settled"), now - timedelta(hours=1))
    in_flight = _made_at(_post(world, title="Still committing"), now - timedelta(minutes=1))
    assert services.digests_enqueue() == 1
    cover = fresh(subscription).digest_covered_until
    assert now - services.DIGEST_SETTLE - timedelta(seconds=30) < cover < in_flight.created_at
    assert emails_send_due() == 1
    (digest,) = mail.outbox
    assert "Settled" in digest.body and "Still committing" not in digest.body


def test_a_join_request_email_goes_only_to_a_point_person_while_it_is_pending(db, world):
    """The member's message is for the group's point-persons: not sent to one who stopped
    being a point-person before it went, nor once the request was answered."""
    from directory.models import JoinRequest
    from society.models import MembershipIndex, PeerGroup

    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=2)
    request = services.join_request_create(
        user=fresh(world.olivia), group=PeerGroup.objects.get(pk=world.alpha.pk), message="Hi"
    )
    rows = OutboundEmail.objects.filter(kind="join_request", context__request=request.pk)
    assert rows.count() >= 1
    MembershipIndex.objects.filter(group=world.alpha, user=world.alice).update(
        is_point_person=False
    )
    mail.outbox.clear()
    emails_send_due()
    assert [m for m in mail.outbox if world.alice.email in m.to] == []
    assert rows.filter(to=world.alice.email, skipped_at__isnull=False).exists()
    JoinRequest.objects.filter(pk=request.pk).update(status=JoinRequest.Status.DECLINED)
    assert emails_send_due() == 0


def test_a_delivery_task_left_by_the_previous_version_is_honoured_once(db, world):
    """Deployed while the old version's `directory.post_deliver` task for a post was queued:
    the task records that post's e-mails in the outbox, and again records nothing twice."""
    from directory.tasks import post_deliver

    _each(world.carol)
    post = _post(world)
    OutboundEmail.objects.filter(kind="directory_post").delete()  # as the old version left it
    post_deliver(post.pk)
    post_deliver(post.pk)  # a redelivered task
    assert OutboundEmail.objects.filter(kind="directory_post").count() == 1
    assert post_deliver(10**9) == 0  # a post gone meanwhile
    assert emails_send_due() == 1 and [m.to for m in mail.outbox] == [[world.carol.email]]
