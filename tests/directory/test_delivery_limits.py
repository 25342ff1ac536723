"""Delivery loops carry on past one bad address, but a Celery time limit stops them."""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core import mail

from directory import services
from tests.conftest import fresh


class _Refused(Exception):
    pass


def _failing_for(monkeypatch, address: str, error: type[BaseException]) -> None:
    real = services.post_email

    def post_email(*, post, user):
        message = real(post=post, user=user)
        if user.email == address:

            def send(*args, **kwargs):
                raise error()

            message.send = send
        return message

    monkeypatch.setattr(services, "post_email", post_email)


def test_one_refused_address_does_not_stop_the_others(db, world, monkeypatch):
    for user in (world.carol, world.alice):
        services.subscription_set(user=fresh(user), delivery="each")
    thread = services.post_create(author=fresh(world.bob), kind="question", title="T", body="B")
    _failing_for(monkeypatch, world.alice.email, _Refused)
    assert services.post_deliver(post_id=thread.pk) == 1
    assert [m.to for m in mail.outbox] == [[world.carol.email]]
    monkeypatch.undo()
    assert services.posts_deliver_recent() == 1  # alice's, at the next sweep
    assert services.posts_deliver_recent() == 0


def test_a_soft_time_limit_is_not_swallowed_by_the_delivery_loops(db, world, monkeypatch):
    services.subscription_set(user=fresh(world.carol), delivery="each")
    thread = services.post_create(author=fresh(world.bob), kind="question", title="T", body="B")
    _failing_for(monkeypatch, world.carol.email, SoftTimeLimitExceeded)
    with pytest.raises(SoftTimeLimitExceeded):
        services.post_deliver(post_id=thread.pk)
    with pytest.raises(SoftTimeLimitExceeded):
        services.posts_deliver_recent()
