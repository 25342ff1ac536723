"""A real browser (Debian's Chromium via Playwright) against gunicorn serving the test database."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from society.urls_helpers import group_url, society_url
from tests.conftest import PASSWORD, ROOT

pytestmark = pytest.mark.e2e

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def screenshot(page: Page, name: str) -> None:
    """Save to .artifacts/, and to HORIZONTAL_SCREENSHOTS_DIR (the README's) when set."""
    targets = [ROOT / ".artifacts" / "screenshots"]
    if os.environ.get("HORIZONTAL_SCREENSHOTS_DIR"):
        targets.append(Path(os.environ["HORIZONTAL_SCREENSHOTS_DIR"]).resolve())
    for folder in targets:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def password_sign_in(page: Page, email: str) -> None:
    """On the sign-in page: open the password form and sign in."""
    page.get_by_text("Sign in with a password (administrators)").click()
    page.get_by_label("E-mail address", exact=True).fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def serious_accessibility_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_one_sign_in_opens_two_group_hosts_each_showing_only_its_own_group(
    committed, world, web_server, page: Page
):
    alpha, beta = group_url("alpha"), group_url("beta")
    page.goto(alpha)  # signed out: sent to sign in on the base host, with the way back
    expect(page).to_have_url(
        re.compile(r"^http://horizontal\.localhost:8765/accounts/login/\?next=")
    )
    assert serious_accessibility_violations(page) == []
    screenshot(page, "sign-in")
    password_sign_in(page, world.alice.email)

    expect(page).to_have_url(alpha)
    expect(page.get_by_test_id("group-marker")).to_contain_text("You are in Alpha Peer Group")
    expect(page.locator("main")).to_contain_text("Bob Tester")  # alpha-only member
    assert serious_accessibility_violations(page) == []
    screenshot(page, "group-home")

    page.goto(beta)  # no second sign-in
    expect(page).to_have_url(beta)
    expect(page.get_by_test_id("group-marker")).to_contain_text("You are in Beta Circle")
    expect(page.locator("main")).to_contain_text("Mallory Tester")
    expect(page.locator("body")).not_to_contain_text("Bob Tester")
    expect(page.locator("body")).not_to_contain_text("Alpha Peer Group")

    sessions = [c for c in page.context.cookies() if c["name"] == "sessionid"]
    assert len(sessions) == 1, "one session cookie serves every host"
    assert sessions[0]["domain"].lstrip(".") == "horizontal.localhost"
    assert sessions[0]["httpOnly"]

    page.goto(society_url("/"))
    expect(page.get_by_role("link", name="Alpha Peer Group")).to_have_attribute("href", alpha)
    expect(page.get_by_role("link", name="Beta Circle")).to_have_attribute("href", beta)
    assert serious_accessibility_violations(page) == []
    screenshot(page, "society-home")

    page.goto(beta)  # signing out from a group host ends the session on every host
    page.get_by_role("link", name="Sign out").click()
    expect(page).to_have_url(society_url("/accounts/logout/"))
    page.get_by_role("main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(society_url("/"))
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    page.goto(alpha)
    expect(page).to_have_url(re.compile(r"^http://horizontal\.localhost:8765/accounts/login/"))


def test_a_member_of_another_group_sees_a_404_page_in_the_sites_look(
    committed, world, web_server, page: Page
):
    page.goto(society_url("/accounts/login/"))
    password_sign_in(page, world.mallory.email)
    expect(page.get_by_role("heading", name="Your groups")).to_be_visible()

    response = page.goto(group_url("alpha"))
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Alpha Peer Group")
    assert serious_accessibility_violations(page) == []


def test_no_page_breaks_the_content_security_policy(committed, world, web_server, browser):
    """With the CSP enforced (the other tests bypass it to inject axe), nothing is refused:
    htmx's indicator style used to be, on every page."""
    context = browser.new_context()
    page = context.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    try:
        page.goto(society_url("/"))
        page.goto(group_url("alpha"))  # to the sign-in page
        password_sign_in(page, world.alice.email)
        expect(page).to_have_url(group_url("alpha"))
        page.goto(group_url("alpha") + "meetings/")
        assert refused == []
    finally:
        context.close()
