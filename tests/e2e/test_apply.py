"""Browser: a member proposes a group, a society admin approves it, the member watches the
space being made and enters it (gunicorn, a real Celery worker, Chromium)."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from society.models import GroupApplication
from society.urls_helpers import society_url
from tests.e2e.test_browser import password_sign_in, screenshot, serious_accessibility_violations
from tests.society.test_applications import _cleanup

pytestmark = pytest.mark.e2e


def test_apply_approve_watch_progress_and_enter(
    committed, world, web_server, celery_worker_process, page: Page, browser: Browser
):
    try:
        page.goto(society_url("/accounts/login/"))
        password_sign_in(page, world.olivia.email)
        page.get_by_role("link", name="Propose a new group").click()
        page.get_by_label("Group name").fill("Rural Educators Circle")
        page.get_by_label("Address").fill("rural-educators")
        page.get_by_label("Focus").select_option(label="Medical education")
        page.get_by_label("Mission (draft)").fill("Publish one education paper each this year.")
        page.get_by_label("Meeting rhythm").select_option(label="Monthly")
        page.get_by_label("Why these peers").fill("Rural campuses, similar teaching loads.")
        page.get_by_label("Founding members").fill("pat@lakeside.edu\nquinn@southport.edu")
        page.get_by_label("Point-persons").fill(world.olivia.email)
        assert serious_accessibility_violations(page) == []
        page.get_by_role("button", name="Save draft").click()
        page.get_by_role("button", name="Submit for review").click()
        expect(page.get_by_test_id("application-state")).to_have_text("Submitted")
        application_url = page.url

        admin = browser.new_context(bypass_csp=True).new_page()
        admin.goto(society_url("/accounts/login/"))
        password_sign_in(admin, world.sam.email)
        admin.goto(society_url("/manage/applications/"))
        admin.get_by_role("link", name="Rural Educators Circle").click()
        assert serious_accessibility_violations(admin) == []
        admin.get_by_label("Approve").check()
        admin.get_by_role("button", name="Record decision").click()
        expect(admin.get_by_test_id("application-state")).to_have_text("Approved")
        admin.context.close()

        page.goto(application_url)  # the page now follows the provisioning by itself
        expect(page.get_by_test_id("provision-state")).to_contain_text("Ready.", timeout=60_000)
        screenshot(page, "application-ready")
        page.get_by_role("link", name="Enter Rural Educators Circle").click()
        expect(page).to_have_url(
            re.compile(r"^http://rural-educators\.horizontal\.localhost:8765/")
        )
        expect(page.get_by_test_id("group-marker")).to_contain_text(
            "You are in Rural Educators Circle as a point-person"
        )
        expect(page.locator("main")).to_contain_text("Publish one education paper each this year.")
    finally:
        application = GroupApplication.objects.filter(slug="rural-educators").first()
        if application is not None:
            _cleanup(application)
