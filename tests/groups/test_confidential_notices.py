"""Confidential-space e-mails: the thread's author hears of a reply, once, and no one reads a word
of what was written; peers-only threads never reach the facilitator."""

from __future__ import annotations

from django.core import mail
from django_tenants.utils import tenant_context

from crossschema.outbox import emails_send_due
from groups.models import ConfidentialEntry, Membership
from groups.services.confidential import confidential_entry_create
from society.urls_helpers import group_url

SECRET = "CANARY-dean-said-no-4e1d"


def _thread(world, *, author, peers_only: bool = False) -> ConfidentialEntry:
    with tenant_context(world.alpha):
        return confidential_entry_create(
            author=author, text=f"Thread: {SECRET}", peers_only=peers_only
        )


def _reply(client_for, world, person, thread, capture) -> None:
    emails_send_due()  # the notices of the thread itself
    mail.outbox.clear()
    with capture(execute=True):
        response = client_for(person, world.alpha).post(
            f"/confidential/{thread.pk}/", {"text": f"Reply: {SECRET}"}
        )
    assert response.status_code == 302
    assert not mail.outbox  # recorded with the reply; the worker sends them
    emails_send_due()


def _received(world) -> dict[str, list[str]]:
    """Each address: the subjects it received (to or bcc), with no secret anywhere."""
    got: dict[str, list[str]] = {}
    for message in mail.outbox:
        assert SECRET not in message.subject and SECRET not in message.body
        assert "Thread:" not in message.body and "Reply:" not in message.body
        for address in [*message.to, *message.bcc]:
            got.setdefault(address, []).append(message.subject)
    return got


def test_the_threads_author_is_told_of_a_reply_once_with_a_link(
    db, world, client_for, django_capture_on_commit_callbacks
):
    thread = _thread(world, author=world.bob)
    _reply(client_for, world, world.alice, thread, django_capture_on_commit_callbacks)
    got = _received(world)
    assert got == {
        world.bob.email: ["Alpha Peer Group: a reply to your thread"],
        world.carol.email: ["Alpha Peer Group: new in the confidential space"],
    }  # Alice wrote it; Erin (evaluator) never hears of the confidential space
    [personal] = [m for m in mail.outbox if m.to == [world.bob.email]]
    assert "Someone replied to your thread in the confidential space of Alpha Peer Group" in (
        personal.body
    )
    assert group_url("alpha", f"/confidential/{thread.pk}/") in personal.body


def test_no_one_is_told_of_their_own_reply(
    db, world, client_for, django_capture_on_commit_callbacks
):
    thread = _thread(world, author=world.bob)
    _reply(client_for, world, world.bob, thread, django_capture_on_commit_callbacks)
    got = _received(world)
    assert world.bob.email not in got
    assert got == {
        world.alice.email: ["Alpha Peer Group: new in the confidential space"],
        world.carol.email: ["Alpha Peer Group: new in the confidential space"],
    }


def test_a_peers_only_thread_never_reaches_the_facilitator(
    db, world, client_for, django_capture_on_commit_callbacks
):
    thread = _thread(world, author=world.bob, peers_only=True)
    _reply(client_for, world, world.alice, thread, django_capture_on_commit_callbacks)
    assert _received(world) == {world.bob.email: ["Alpha Peer Group: a reply to your thread"]}
    # Bob, now the facilitator, is no longer told about his peers-only thread
    with tenant_context(world.alpha):
        Membership.objects.filter(user=world.bob).update(role=Membership.Role.FACILITATOR)
        Membership.objects.filter(user=world.carol).update(role=Membership.Role.MEMBER)
    _reply(client_for, world, world.alice, thread, django_capture_on_commit_callbacks)
    assert _received(world) == {
        world.carol.email: ["Alpha Peer Group: new in the confidential space"]
    }
