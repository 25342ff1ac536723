"""Browser: a member makes a directory profile, searches with filters, posts "seeking peers",
gets the daily digest by e-mail (worker + SMTP server), asks to join a group with an open seat
and is accepted by its point-person; axe-core checks every page on the way."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Browser, Page, expect

from directory import services
from directory.models import JoinRequest, Post, Profile, Subscription
from directory.tasks import digests_send
from groups.models import Invitation
from society.models import PeerGroup
from society.urls_helpers import group_url, society_url
from tests.conftest import fresh, host_of, text_of, wait_for
from tests.e2e.test_browser import password_sign_in, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.e2e

PRIVATE = "CANARY-first-gen-7d2a"


def _digests_to(folder, address):
    found = []
    for path in folder.iterdir():
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address and "daily digest" in message["Subject"]:
            found.append(message)
    return found


def _check(page: Page) -> None:
    assert serious_accessibility_violations(page) == []


def test_profile_search_post_digest_and_join_a_group(
    committed,
    world,
    web_server,
    celery_worker_process,
    worker_outbox,
    page: Page,
    browser: Browser,
):
    olivia = world.olivia
    PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=1)
    services.profile_save(
        user=world.bob,
        name="Bob Tester",
        career_stage="assistant",
        specialty="health services research",
        methods=["qualitative"],
        goals_sought=["k_award"],
        looking_for_group=True,
    )
    try:
        page.goto(society_url("/accounts/login/"))
        password_sign_in(page, olivia.email)

        # A profile, with one answer kept for suggestions only.
        page.get_by_role("link", name="Directory").click()
        page.get_by_role("link", name="Create your profile").click()
        page.get_by_label("Pronouns").fill("she/her")
        page.get_by_label("Department").fill("Internal Medicine")
        page.get_by_label("Career stage").select_option("assistant")
        page.get_by_label("Specialty").fill("hospital medicine")
        page.get_by_label("Quantitative").check()
        page.get_by_label("Career development (K) award").check()
        page.get_by_label("Looking for a group").check()
        page.get_by_label("First-generation academic", exact=True).fill(PRIVATE)
        page.get_by_label("First-generation academic: who sees it").select_option("suggestions")
        page.get_by_role("button", name="Save profile").click()
        expect(page.get_by_text("Your profile is saved.")).to_be_visible()
        mine = Profile.objects.get(user=olivia).pk
        _check(page)

        # Search with filters.
        page.get_by_role("link", name="Find peers").click()
        page.get_by_role("textbox", name="Search").fill("health services")
        page.get_by_label("Career stage").select_option("assistant")
        page.get_by_label("Qualitative").check()
        page.get_by_role("button", name="Search").click()
        results = page.get_by_role("region", name="People")
        expect(results.get_by_role("link", name="Bob Tester")).to_be_visible()
        expect(results).not_to_contain_text("Olivia")  # she does not use qualitative methods
        _check(page)
        screenshot(page, "directory-search")
        page.get_by_role("link", name="Suggestions").click()
        expect(page.locator("[data-suggestion]").first).to_contain_text("Bob Tester")
        expect(page.get_by_text("also seeks career development (k) award")).to_be_visible()
        _check(page)

        # Post "seeking peers", and ask for a daily digest.
        page.get_by_role("link", name="Posts").click()
        page.get_by_label("Kind of post").select_option("seeking")
        page.get_by_label("Title").fill("Seeking peers: hospital medicine K awardees")
        page.get_by_label("Text").fill("Looking for two or three peers at other institutions.")
        page.get_by_role("button", name="Post", exact=True).click()
        expect(page.get_by_role("heading", name="Seeking peers: hospital medicine")).to_be_visible()
        _check(page)
        page.get_by_role("link", name="E-mail settings").click()
        page.get_by_label("A daily digest").check()
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
        # A day passes: her subscription's cover and her post are older than beat's settle.
        Subscription.objects.filter(user=olivia).update(
            digest_covered_until=timezone.now() - timedelta(days=1, minutes=15)
        )
        Post.objects.filter(author=olivia).update(created_at=timezone.now() - timedelta(minutes=10))
        digests_send.delay()
        (digest,) = wait_for(
            lambda: _digests_to(worker_outbox, olivia.email), 60, "the daily digest"
        )
        assert "Seeking peers: hospital medicine K awardees" in text_of(digest)
        assert PRIVATE not in digest.as_string()

        # Ask to join a group with an open seat.
        page.get_by_role("link", name="Groups with open seats").click()
        page.get_by_role("link", name="Ask to join Alpha Peer Group").click()
        page.get_by_label("A few words to the group").fill("Hospital medicine, K award in 2027.")
        page.get_by_role("button", name="Send request").click()
        expect(page.get_by_text("Your request is waiting for the group.")).to_be_visible()
        _check(page)

        # The point-person accepts, in her own browser.
        context = browser.new_context(bypass_csp=True)
        alice = context.new_page()
        alice.goto(society_url("/accounts/login/"))
        password_sign_in(alice, world.alice.email)
        alice.goto(group_url("alpha", "/join-requests/"))
        expect(alice.get_by_text("Hospital medicine, K award in 2027.")).to_be_visible()
        _check(alice)
        alice.get_by_role("button", name="Accept and invite").click()
        expect(alice.get_by_text("Accepted")).to_be_visible()
        context.close()

        page.reload()
        expect(page.get_by_text("Alpha Peer Group")).to_have_count(0)  # its seat is taken
        with tenant_context(world.alpha):
            assert Invitation.objects.filter(email=olivia.email, accepted_at=None).exists()
        assert JoinRequest.objects.get(user=olivia).status == "accepted"
        bob = Client(HTTP_HOST=host_of())  # another member, looking for what she kept
        bob.force_login(fresh(world.bob))  # a sign-in writes on the object it is given
        for url in ("/directory/", "/directory/suggestions/", f"/directory/people/{mine}/"):
            assert PRIVATE not in bob.get(url, {"q": "Olivia"}).text.split("results-heading")[-1]
    finally:
        PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=0)
        JoinRequest.objects.filter(user=olivia).delete()
        with tenant_context(world.alpha):
            Invitation.objects.filter(email=olivia.email).delete()
        Post.objects.filter(author__in=[olivia, world.bob]).delete()
        Profile.objects.filter(user__in=[olivia, world.bob]).delete()
        Subscription.objects.filter(user__in=[olivia, world.bob]).delete()
