"""A concluded group shows its pages without the forms the archive refuses; a paused group shows
them without scheduling a meeting or proposing times, and its services refuse both, saying why."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from groups.models import Meeting, PollSlot, SchedulingPoll
from groups.scheduling import zone_of
from groups.services.invitations import invitation_create
from groups.services.meetings import meeting_schedule
from groups.services.polls import poll_create
from society.models import PeerGroup
from tests.conftest import fresh

CONCLUDED = "This group has concluded: its space is a read-only archive."
PAUSED = "This group is paused: meetings and polls wait until a point-person resumes it."


class _PostForms(HTMLParser):
    """The actions of a page's <form method="post"> to the group's host (an empty action is the
    page itself; signing out posts to the society's host, which a group's lifecycle never
    refuses)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path, self.actions = path, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            action = attributes.get("action") or self.path
            if action.startswith("/"):
                self.actions.append(action)


def post_forms(client, path: str) -> tuple[list[str], str]:
    response = client.get(path)
    assert response.status_code == 200, path
    parser = _PostForms(path)
    parser.feed(response.text)
    return parser.actions, response.text


def _set_lifecycle(world, lifecycle: str) -> None:
    # The public row, rolled back with the test; the session's world.alpha is left as it was.
    PeerGroup.objects.filter(pk=world.alpha.pk).update(
        lifecycle=lifecycle,
        concluded_at=timezone.now() if lifecycle == PeerGroup.Lifecycle.CONCLUDED else None,
    )


def _pages(world) -> list[str]:
    s = world.samples
    return [
        "/",
        "/achievements/",
        "/goals/",
        "/confidential/",
        f"/confidential/{s['thread']}/",
        "/polls/",
        f"/polls/{s['poll']}/",
        "/meetings/",
        f"/meetings/{s['meeting']}/",
        f"/meetings/{s['meeting']}/edit/",
        "/charter/",
        "/mission/",
        "/calendar/",
        "/members/",
        "/join-requests/",
        "/status/workers/",
        "/lifecycle/",
    ]


def test_a_concluded_group_shows_no_form_it_would_refuse(db, world, client_for):
    with tenant_context(world.alpha):
        invitation_create(email="late@lakeside.edu", role="member", actor=world.alice)
    # Forms there are before: a point-person's pages, and a member's own goal.
    alice, bob = client_for(world.alice, world.alpha), client_for(world.bob, world.alpha)
    assert post_forms(alice, "/members/")[0] and post_forms(bob, "/goals/")[0]
    assert post_forms(alice, "/")[1].count("Find a time")
    _set_lifecycle(world, PeerGroup.Lifecycle.CONCLUDED)
    steering = {"/members/", "/join-requests/", "/status/workers/", "/lifecycle/"}
    steering.add(f"/meetings/{world.samples['meeting']}/edit/")
    for client in (alice, bob):
        for path in _pages(world):
            if client is bob and path in steering:
                continue  # a point-person's pages
            actions, text = post_forms(client, path)
            # the one change a concluded group accepts: a point-person reopening it
            reopen = ["/lifecycle/reopen/"] if path == "/lifecycle/" else []
            assert actions == reopen, (path, actions)
            assert CONCLUDED in text, path
    home = alice.get("/").text
    assert "Find a time" not in home and "accept the confidentiality pledge" not in home
    assert "Change, move or cancel" not in alice.get(f"/meetings/{world.samples['meeting']}/").text
    assert "Download the export" in alice.get("/lifecycle/").text


def test_a_concluded_groups_invitation_says_so_instead_of_offering_to_join(db, world, client_for):
    with tenant_context(world.alpha):
        _, token = invitation_create(email=world.olivia.email, role="member", actor=world.alice)
    olivia = client_for(world.olivia, world.alpha)
    assert post_forms(olivia, f"/invitations/{token}/")[0] == [f"/invitations/{token}/"]
    _set_lifecycle(world, PeerGroup.Lifecycle.CONCLUDED)
    actions, text = post_forms(olivia, f"/invitations/{token}/")
    assert actions == [] and CONCLUDED in text


def test_a_paused_group_offers_no_new_meeting_or_poll_and_says_why(db, world, client_for):
    poll = world.samples["poll"]
    alice = client_for(world.alice, world.alpha)
    refused = {"/meetings/", "/polls/", f"/polls/{poll}/choose/"}
    offered = set()
    for path in ("/meetings/", "/polls/", f"/polls/{poll}/"):
        offered |= set(post_forms(alice, path)[0])
    assert refused <= offered
    assert "Find a time" in alice.get("/").text
    _set_lifecycle(world, PeerGroup.Lifecycle.PAUSED)
    for path in ("/meetings/", "/polls/", f"/polls/{poll}/"):
        actions, text = post_forms(alice, path)
        assert not refused & set(actions), (path, actions)
        assert PAUSED in text, path
    # What a pause does not refuse is still offered: voting, the meeting's record, the rest.
    assert f"/polls/{poll}/vote/" in post_forms(alice, f"/polls/{poll}/")[0]
    meeting = world.samples["meeting"]
    assert f"/meetings/{meeting}/attendance/" in post_forms(alice, f"/meetings/{meeting}/")[0]
    assert "/goals/" in post_forms(client_for(world.bob, world.alpha), "/goals/")[0]
    home = alice.get("/").text
    assert "Find a time" not in home and PAUSED in home
    # The lifecycle page still resumes it.
    actions, text = post_forms(alice, "/lifecycle/")
    assert "/lifecycle/pause/" in actions and "Resume the group" in text


def _counts(world) -> tuple[int, int, int]:
    with tenant_context(world.alpha):
        return Meeting.objects.count(), SchedulingPoll.objects.count(), PollSlot.objects.count()


def test_a_paused_group_refuses_a_meeting_or_a_poll_posted_anyway(db, world, client_for):
    alice = client_for(world.alice, world.alpha)
    _set_lifecycle(world, PeerGroup.Lifecycle.PAUSED)
    before = _counts(world)
    soon = (timezone.now() + timedelta(days=7)).astimezone(zone_of(world.alice))
    meeting = alice.post(
        "/meetings/",
        {"title": "Social", "starts": f"{soon:%Y-%m-%dT%H:%M}", "duration_minutes": "60"},
    )
    assert meeting.status_code == 400 and PAUSED in meeting.text
    poll = alice.post(
        "/polls/", {"title": "June", "duration_minutes": 60, "times": f"{soon:%Y-%m-%d %H:%M}"}
    )
    assert poll.status_code == 400 and PAUSED in poll.text
    with tenant_context(world.alpha):
        slot = PollSlot.objects.filter(poll_id=world.samples["poll"]).first()
    chosen = alice.post(
        f"/polls/{world.samples['poll']}/choose/", {"slot": slot.pk, "link": ""}, follow=True
    )
    assert PAUSED in chosen.text
    assert _counts(world) == before
    with tenant_context(world.alpha):
        assert SchedulingPoll.objects.get(pk=world.samples["poll"]).closed_at is None


def test_the_services_refuse_in_a_paused_group(db, world):
    _set_lifecycle(world, PeerGroup.Lifecycle.PAUSED)
    soon = timezone.now() + timedelta(days=7)
    before = _counts(world)
    with tenant_context(fresh(world.alpha)):
        with pytest.raises(ValidationError, match="This group is paused"):
            meeting_schedule(title="Social", starts_at=soon, duration_minutes=60, actor=world.alice)
        with pytest.raises(ValidationError, match="This group is paused"):
            poll_create(title="June", duration_minutes=60, starts=[soon], actor=world.alice)
    assert _counts(world) == before
