"""Browser: a point-person opens a seat on the group's own page, a member finds the group in
the directory and asks to join, the point-person accepts, and the member joins from the
invitation e-mail (recorded in the outbox, sent by the worker through the session's SMTP
server); axe-core checks each page."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import tenant_context
from playwright.sync_api import Browser, Page, expect

from directory.models import JoinRequest
from groups.models import Invitation, Membership
from society.models import MembershipIndex, PeerGroup
from society.urls_helpers import group_url, society_url
from tests.conftest import smtp_received, text_of, wait_for
from tests.e2e.test_browser import password_sign_in, serious_accessibility_violations

pytestmark = pytest.mark.e2e


def _invitation_link(folder, address: str, seen: int) -> str | None:
    """The link in the newest invitation e-mail to `address` among those after the first
    `seen` (another test of the session may have invited the same person before)."""
    for message in reversed(smtp_received(folder)[seen:]):
        if message["To"] == address and "Alpha Peer Group" in message["Subject"]:
            found = re.search(r"https?://\S+/invitations/\S+/", text_of(message))
            if found:
                return found.group(0)
    return None


def test_a_point_person_opens_a_seat_and_a_members_request_goes_through(
    committed, world, web_server, celery_worker_process, worker_outbox, page: Page, browser: Browser
):
    olivia = world.olivia  # signed in, in no group yet
    seen = len(smtp_received(worker_outbox))
    lead_context = browser.new_context(bypass_csp=True)
    lead = lead_context.new_page()
    try:
        lead.goto(society_url("/accounts/login/"))
        password_sign_in(lead, world.alice.email)
        lead.goto(group_url("alpha", "/join-requests/"))
        lead.get_by_label("Open seats (0 to 12; 0 closes the group to requests)").fill("1")
        lead.get_by_role("button", name="Save the open seats").click()
        expect(lead.locator("main")).to_contain_text("The group has 1 open seat")
        assert serious_accessibility_violations(lead) == []

        page.goto(society_url("/accounts/login/"))
        password_sign_in(page, olivia.email)
        page.goto(society_url("/directory/groups/"))
        page.get_by_role("link", name="Ask to join Alpha Peer Group").click()
        page.get_by_label("A few words to the group").fill("Qualitative methods, K award 2027.")
        page.get_by_role("button", name="Send request").click()
        expect(page.get_by_text("Your request is waiting for the group.")).to_be_visible()
        assert serious_accessibility_violations(page) == []

        lead.goto(group_url("alpha", "/join-requests/"))
        expect(lead.get_by_text("Qualitative methods, K award 2027.")).to_be_visible()
        lead.get_by_role("button", name="Accept and invite").click()
        expect(lead.get_by_text("Accepted")).to_be_visible()
        assert serious_accessibility_violations(lead) == []

        link = wait_for(
            lambda: _invitation_link(worker_outbox, olivia.email, seen), 30, "the invitation e-mail"
        )
        page.goto(link)
        page.get_by_role("button", name="Join the group").click()
        expect(page.get_by_test_id("group-marker")).to_contain_text(
            "You are in Alpha Peer Group as a member"
        )
        assert serious_accessibility_violations(page) == []
        assert PeerGroup.objects.get(pk=world.alpha.pk).open_seats == 0  # the seat is taken
    finally:
        lead_context.close()
        PeerGroup.objects.filter(pk=world.alpha.pk).update(open_seats=0)
        JoinRequest.objects.filter(user=olivia).delete()
        MembershipIndex.objects.filter(user=olivia, group=world.alpha).delete()
        with tenant_context(world.alpha):
            Invitation.objects.filter(email=olivia.email).delete()
            Membership.objects.filter(user=olivia).delete()
