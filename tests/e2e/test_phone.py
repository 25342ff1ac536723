"""Every main page at a phone's width (390 px): nothing wider than the screen, "Sign out" on
screen, and no serious accessibility violation. Debian's Chromium via Playwright, as in
test_browser.py."""

import pytest
from playwright.sync_api import Browser, Page, expect

from society.urls_helpers import group_url, society_url
from tests.e2e.test_browser import password_sign_in, serious_accessibility_violations

pytestmark = pytest.mark.e2e

WIDTH = 390
PHONE = {"width": WIDTH, "height": 844}

SOCIETY_PAGES = [
    "/",
    "/account/",
    "/directory/",
    "/directory/suggestions/",
    "/directory/posts/",
    "/directory/groups/",
    "/directory/profile/",
    "/directory/settings/",
    "/apply/",
    "/applications/",
]
ADMIN_PAGES = [
    "/directory/moderation/",
    "/manage/",
    "/manage/applications/",
    "/manage/groups/",
    "/manage/institutions/",
    "/manage/institutions/new/",
    "/manage/audit/",
]


def alpha_pages(samples: dict) -> list[str]:
    return [
        "/",
        "/members/",
        "/mission/",
        "/charter/",
        "/goals/",
        "/polls/",
        f"/polls/{samples['poll']}/",
        "/meetings/",
        f"/meetings/{samples['meeting']}/",
        f"/meetings/{samples['meeting']}/edit/",
        "/attendance/",
        "/confidential/",
        f"/confidential/{samples['thread']}/",
        "/achievements/",
        "/calendar/",
        "/lifecycle/",
        "/join-requests/",
        "/welcome/",
    ]


def phone_page(browser: Browser) -> Page:
    context = browser.new_context(bypass_csp=True, viewport=PHONE, is_mobile=True, has_touch=True)
    return context.new_page()


def fits_the_phone(page: Page, url: str) -> list[str]:
    """What is wrong with the page at `url` on a phone (nothing: an empty list)."""
    response = page.goto(url)
    problems = []
    if response is None or response.status != 200:
        problems.append(f"{url}: status {response and response.status}")
    problems += phone_problems(page, url)
    return problems


def phone_problems(page: Page, url: str) -> list[str]:
    problems = []
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > WIDTH:
        wide = page.evaluate(
            """(w) => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > w && !e.closest('.table-wrap'))
                .slice(0, 3).map(e => e.tagName + '.' + e.className)""",
            WIDTH,
        )
        problems.append(f"{url}: {width} px wide ({', '.join(wide)})")
    sign_out = (
        page.get_by_role("banner")
        .get_by_role("link", name="Sign out")
        .or_(page.get_by_role("banner").get_by_role("button", name="Sign out"))
    )
    if not sign_out.is_visible() or not on_screen(page, sign_out):
        problems.append(f"{url}: Sign out is not on screen")
    problems += [f"{url}: {v}" for v in serious_accessibility_violations(page)]
    return problems


def on_screen(page: Page, locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH


def test_a_point_persons_pages_fit_a_phone(committed, world, web_server, browser: Browser):
    page = phone_page(browser)
    try:
        page.goto(society_url("/accounts/login/"))
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert serious_accessibility_violations(page) == []
        password_sign_in(page, world.alice.email)
        expect(page.get_by_role("heading", name="Your groups")).to_be_visible()
        problems = []
        for path in SOCIETY_PAGES:
            problems += fits_the_phone(page, society_url(path))
        alpha = group_url("alpha").rstrip("/")
        for path in alpha_pages(world.samples):
            problems += fits_the_phone(page, alpha + path)

        # The calendar feed's address is one long word: it wraps.
        page.goto(alpha + "/calendar/")
        page.get_by_role("button", name="Make a new feed address").click()
        expect(page.get_by_test_id("feed-url")).to_be_visible()
        problems += phone_problems(page, "/calendar/ with a feed address")
        page.get_by_role("button", name="Stop my feed").click()
        assert problems == []
    finally:
        page.context.close()


def test_a_society_admins_pages_fit_a_phone(committed, world, web_server, browser: Browser):
    page = phone_page(browser)
    try:
        page.goto(society_url("/accounts/login/"))
        password_sign_in(page, world.sam.email)
        expect(page).not_to_have_url(society_url("/accounts/login/"))
        problems = []
        for path in SOCIETY_PAGES + ADMIN_PAGES:
            problems += fits_the_phone(page, society_url(path))
        assert problems == []
    finally:
        page.context.close()


def test_a_wide_table_scrolls_in_its_own_box_and_the_keyboard_reaches_it(
    committed, world, web_server, browser: Browser
):
    page = phone_page(browser)
    try:
        page.goto(group_url("alpha"))
        password_sign_in(page, world.alice.email)
        page.goto(group_url("alpha") + "members/")
        region = page.get_by_role("region", name="Current members table")
        expect(region).to_be_visible()
        assert region.evaluate("e => getComputedStyle(e).overflowX") == "auto"
        region.focus()
        assert region.evaluate("e => e === document.activeElement")
        outline = region.evaluate("e => getComputedStyle(e).outlineStyle")
        assert outline != "none", "focus is visible"
        # A select in the table is as usable as anywhere else.
        expect(region.get_by_role("combobox").first).to_be_visible()
    finally:
        page.context.close()
