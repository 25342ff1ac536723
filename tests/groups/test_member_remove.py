"""Removing a member takes a confirmation that names them; without it nothing changes."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django_tenants.utils import tenant_context

from groups.models import Membership


def _erin(world) -> Membership:
    with tenant_context(world.alpha):
        return Membership.objects.get(user=world.erin)


def _active(world) -> bool:
    with tenant_context(world.alpha):
        return Membership.objects.get(user=world.erin).is_active


def test_the_members_page_leads_to_a_confirmation_that_names_the_person(db, world, client_for):
    lead = client_for(world.alice, world.alpha)
    pk = _erin(world).pk
    members = lead.get("/members/").text
    assert f'href="/members/{pk}/remove/"' in members
    assert f'action="/members/{pk}/remove/"' not in members  # no one-click removal
    page = lead.get(f"/members/{pk}/remove/")
    assert page.status_code == 200
    assert "Remove Erin Tester?" in page.text
    assert "Yes, remove Erin Tester from the group" in page.text
    assert _active(world)  # opening the page removes no one


def test_a_post_without_confirmation_removes_nothing_and_says_so(db, world, client_for):
    lead = client_for(world.alice, world.alpha)
    pk = _erin(world).pk
    refused = lead.post(f"/members/{pk}/remove/", {}, follow=True)
    assert "Erin Tester was not removed: tick the box to confirm, then remove." in refused.text
    assert refused.redirect_chain[-1][0] == f"/members/{pk}/remove/"
    assert _active(world)


def test_a_confirmed_removal_says_the_person_was_removed(db, world, client_for):
    lead = client_for(world.alice, world.alpha)
    response = lead.post(f"/members/{_erin(world).pk}/remove/", {"confirm": "on"})
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Erin Tester was removed from the group. Any invitation still pending for them was "
        "withdrawn."
    ]
    assert not _active(world)
    assert client_for(world.erin, world.alpha).get("/").status_code == 404


def test_only_point_persons_see_the_confirmation(db, world, client_for):
    path = f"/members/{_erin(world).pk}/remove/"
    for person in (world.bob, world.carol, world.erin):
        assert client_for(person, world.alpha).get(path).status_code == 403
        assert client_for(person, world.alpha).post(path, {"confirm": "on"}).status_code == 403
    outsider = client_for(world.mallory, world.alpha).get(path)
    assert outsider.status_code == 404 and "Erin Tester" not in outsider.text
    assert _active(world)
