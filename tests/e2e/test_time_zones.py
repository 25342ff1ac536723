"""Browser, at a desktop's and a phone's width: a new member invited by e-mail signs in with
an e-mail code, is asked for name and zone (the browser's zone offered), and from then on
sees poll times, the "outside 8:00-20:00" column, meeting times and e-mails in that zone,
with members in New York, London and Tokyo, across the US change to daylight time.

The newcomer's account is made as a real one is (an invitation: no name, UTC, no
institution), the code arrives through the session's SMTP server, and axe-core checks every
page on the way."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context
from playwright.sync_api import Browser, Page, expect

from crossschema.outbox import emails_send_due
from crossschema.provisioning import group_provision
from groups.models import Meeting
from groups.services.invitations import invitation_create
from groups.services.meetings import meeting_schedule
from groups.services.membership import membership_add
from groups.services.polls import poll_create
from society.models import User
from society.services import group_create
from society.urls_helpers import group_url
from tests.conftest import smtp_received, text_of, wait_for
from tests.e2e.test_browser import screenshot, serious_accessibility_violations
from tests.society.factories import UserFactory

pytestmark = pytest.mark.e2e


def us_daylight_time_starts() -> datetime:
    """The next second Sunday of March at least ten days away (the US's change to daylight
    time; Europe changes on the last Sunday, so the week after it London is still on GMT)."""
    today = timezone.now().date()
    for year in (today.year, today.year + 1):
        first = datetime(year, 3, 1, tzinfo=UTC)
        sunday = first + timedelta(days=(6 - first.weekday()) % 7 + 7)
        if sunday.date() - today >= timedelta(days=10):
            return sunday
    raise AssertionError("unreachable")


def _sign_in_code(folder: Path, address: str) -> str:
    def code() -> str | None:
        for message in reversed(smtp_received(folder)):
            if message["To"] == address and "Your sign-in code" in message["Subject"]:
                found = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", text_of(message), re.M)
                return found.group(1) if found else None
        return None

    return wait_for(code, 30, f"the sign-in code for {address}")


def _fits(page: Page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    assert serious_accessibility_violations(page) == [], page.url


@pytest.mark.parametrize("width", [1280, 390])
def test_a_new_member_sees_every_time_in_their_own_zone(
    committed, world, web_server, worker_outbox, browser: Browser, width
):
    change = us_daylight_time_starts()
    before, after = change - timedelta(days=5), change + timedelta(days=2)  # Tuesdays
    before, after = before.replace(hour=14), after.replace(hour=14)  # 14:00 UTC
    slug = f"zones-{width}"
    newcomer = f"nadia.{width}@lakeside.edu"
    group = group_provision(group=group_create(name=f"Zones {width}", slug=slug))
    lead = UserFactory(
        email=f"pia.{width}@northfield.edu", full_name="Pia New-York", time_zone="America/New_York"
    )
    london = UserFactory(
        email=f"liam.{width}@southport.edu", full_name="Liam London", time_zone="Europe/London"
    )
    tokyo = UserFactory(
        email=f"taro.{width}@harbor.edu", full_name="Taro Tokyo", time_zone="Asia/Tokyo"
    )
    with tenant_context(group):
        membership_add(user=lead, role="point_person")
        membership_add(user=london, role="member")
        membership_add(user=tokyo, role="member")
        _invitation, token = invitation_create(email=newcomer, role="member", actor=lead)
        poll = poll_create(
            title="March meeting", duration_minutes=60, starts=[before, after], actor=lead
        )

    context = browser.new_context(
        bypass_csp=True,  # axe-core is injected as an inline script
        viewport={"width": width, "height": 900},
        timezone_id="America/Los_Angeles",  # where the newcomer's browser is
        is_mobile=width < 600,
        has_touch=width < 600,
    )
    page = context.new_page()
    try:
        # The invitation link, signed out: sign in on the base host by e-mail code.
        page.goto(group_url(slug, f"/invitations/{token}/"))
        expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
        _fits(page, width)
        page.get_by_label("Your institutional e-mail address").fill(newcomer)
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("heading", name="E-mail me a sign-in code")).to_be_visible()
        _fits(page, width)
        page.get_by_role("button", name="Send me a code").click()
        page.get_by_label("Code").fill(_sign_in_code(worker_outbox, newcomer))
        _fits(page, width)
        page.get_by_role("button", name=re.compile("sign in|confirm", re.I)).click()

        # First visit: asked for name and zone, the browser's zone offered.
        expect(page.get_by_test_id("first-visit")).to_be_visible()
        expect(page.get_by_label("Your time zone")).to_have_value("America/Los_Angeles")
        expect(page.get_by_test_id("browser-zone-note")).to_contain_text("America/Los Angeles")
        expect(page.get_by_test_id("account-institution")).to_have_text("Lakeside College")
        _fits(page, width)
        screenshot(page, f"account-first-visit-{width}")
        page.get_by_label("Your name").fill("Nadia New")
        page.get_by_role("button", name="Save and continue").click()

        # Back to the invitation she was opening; she joins.
        expect(page).to_have_url(re.compile(rf"^http://{slug}\.horizontal\.localhost:8765/"))
        _fits(page, width)
        page.get_by_role("button", name=re.compile("Accept|Join", re.I)).click()
        expect(page.get_by_test_id("group-marker")).to_contain_text(f"You are in Zones {width}")
        account = User.objects.get(email=newcomer)
        assert (account.full_name, account.time_zone) == ("Nadia New", "America/Los_Angeles")

        # The poll in her zone: 14:00 UTC is 06:00 PST before the change, 07:00 PDT after.
        page.goto(group_url(slug, f"/polls/{poll.pk}/"))
        first = f"{before:%a} {before.day} {before:%b %Y}, 06:00 PST"
        second = f"{after:%a} {after.day} {after:%b %Y}, 07:00 PDT"
        rows = page.locator("tbody tr")
        expect(rows.filter(has_text=first)).to_have_count(1)
        expect(rows.filter(has_text=second)).to_have_count(1)
        # Outside 8:00-20:00, each named with their own local hour: Nadia and Taro only.
        flagged = rows.filter(has_text=first)
        expect(flagged).to_contain_text("Nadia New (06:00 PST)")
        expect(flagged).to_contain_text("Taro Tokyo (23:00 JST)")
        expect(flagged).not_to_contain_text("Pia New-York (")  # 09:00 EST
        expect(flagged).not_to_contain_text("Liam London (")  # 14:00 GMT
        expect(rows.filter(has_text=second)).to_contain_text("Nadia New (07:00 PDT)")
        _fits(page, width)
        screenshot(page, f"poll-in-los-angeles-{width}")

        # The point-person schedules the later time: her e-mail and the page say 07:00 PDT.
        mail.outbox.clear()
        with tenant_context(group):
            meeting = meeting_schedule(
                title="March meeting",
                starts_at=after,
                duration_minutes=60,
                link="https://meet.example.org/zones",
                actor=lead,
            )
        emails_send_due()  # the outbox's send (the worker's task, or beat's sweep)
        to_nadia = [m for m in mail.outbox if m.to == [newcomer]]
        assert len(to_nadia) == 1
        when_line = f"{after:%A} {after.day} {after:%B %Y}, 07:00 PDT (America/Los Angeles)"
        assert when_line in to_nadia[0].body
        to_taro = next(m for m in mail.outbox if m.to == [tokyo.email])
        assert f"{after.day} {after:%B %Y}, 23:00 JST (Asia/Tokyo)" in to_taro.body
        page.goto(group_url(slug, f"/meetings/{meeting.pk}/"))
        expect(page.locator("main")).to_contain_text("07:00 PDT (America/Los Angeles)")
        _fits(page, width)
        page.goto(group_url(slug, "/"))
        expect(page.locator("main")).to_contain_text(
            f"{after:%a} {after.day} {after:%b %Y}, 07:00 PDT"
        )
        _fits(page, width)
        page.goto(group_url(slug, "/meetings/"))
        _fits(page, width)
    finally:
        context.close()
        with tenant_context(group):
            Meeting.objects.all().delete()
