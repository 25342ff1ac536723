"""Browser: find a time with a poll, hold the meeting, read the minutes, see the commitments
on the next agenda; axe-core checks every page on the way."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Page, expect

from groups.models import Meeting, SchedulingPoll
from society.models import PeerGroup
from society.urls_helpers import group_url, society_url
from tests.e2e.test_browser import password_sign_in, screenshot, serious_accessibility_violations

pytestmark = pytest.mark.e2e

SECRET = "CANARY-retention-offer-55e1"


def test_poll_meeting_minutes_and_the_next_agenda(committed, world, web_server, page: Page):
    alpha = world.alpha
    last_met = PeerGroup.objects.get(pk=alpha.pk).last_meeting_at
    with tenant_context(alpha):
        before = set(Meeting.objects.values_list("pk", flat=True))
    day = timezone.now() + timedelta(days=2)
    try:
        page.goto(society_url("/accounts/login/"))
        password_sign_in(page, world.alice.email)

        page.goto(group_url("alpha", "/polls/"))
        page.get_by_label("Title").fill("Journey meeting")
        page.get_by_label("Proposed times, one per line, in your time zone").fill(
            f"{day:%Y-%m-%d} 15:00\n{day + timedelta(days=1):%Y-%m-%d} 15:00"
        )
        page.get_by_role("button", name="Create poll").click()
        assert serious_accessibility_violations(page) == []
        page.get_by_label(f"{day:%a} {day.day} {day:%b %Y}, 15:00").check()
        page.get_by_role("button", name="Save my availability").click()
        page.get_by_role("button", name="Schedule this time").click()
        expect(page.get_by_role("heading", name="Journey meeting")).to_be_visible()
        assert serious_accessibility_violations(page) == []
        # Two days pass: attendance and minutes are recorded once the meeting has started.
        with tenant_context(alpha):
            Meeting.objects.exclude(pk__in=before).update(
                starts_at=timezone.now() - timedelta(hours=1)
            )
        page.reload()

        page.get_by_role("checkbox", name="Alice Tester").check()
        page.get_by_role("checkbox", name="Bob Tester").check()
        page.get_by_role("button", name="Save attendance").click()
        # one form: both boxes typed, then saved together
        page.get_by_label("Notes on “Personal check-in”").fill("Everyone is well rested.")
        page.get_by_label("Notes on “Career check-in: Bob Tester”").fill(f"Bob: {SECRET}")
        page.locator("li", has_text="Career check-in: Bob Tester").get_by_label(
            "Confidential: leave it out of the minutes"
        ).check()
        page.get_by_role("button", name="Save notes", exact=True).click()
        page.get_by_role("textbox", name="Bob Tester", exact=True).fill(
            "Send the aims page by Friday"
        )
        page.get_by_role("button", name="Add plan for Bob Tester").click()
        screenshot(page, "meeting")
        page.get_by_role("button", name="Publish the minutes").click()

        minutes = page.get_by_test_id("minutes")
        expect(minutes).to_contain_text("A confidential topic was discussed.")
        expect(minutes).to_contain_text("Everyone is well rested.")
        expect(minutes).to_contain_text("Bob Tester: Send the aims page by Friday")
        expect(minutes).not_to_contain_text(SECRET)
        assert serious_accessibility_violations(page) == []

        page.goto(group_url("alpha", "/meetings/"))
        page.get_by_label("Title").fill("Follow-up")
        page.get_by_label("Starts (your time zone)").fill(
            f"{day + timedelta(days=14):%Y-%m-%d}T15:00"
        )
        page.get_by_role("button", name="Schedule", exact=True).click()
        carried = page.get_by_role("region", name="Commitments from last time")
        expect(carried).to_contain_text("Bob Tester: Send the aims page by Friday")
        assert serious_accessibility_violations(page) == []
        page.goto(group_url("alpha", "/attendance/"))
        assert serious_accessibility_violations(page) == []
    finally:
        with tenant_context(alpha):
            Meeting.objects.exclude(pk__in=before).delete()
            SchedulingPoll.objects.filter(title="Journey meeting").delete()
        # recording the attendance dated the group's last meeting on its public row
        PeerGroup.objects.filter(pk=alpha.pk).update(last_meeting_at=last_met)
