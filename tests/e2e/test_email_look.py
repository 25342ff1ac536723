"""An e-mail's HTML part as a phone shows it: the site's colours, nothing wider than the
screen even with a long link, the links clickable."""

from __future__ import annotations

import pytest
from django.core.mail import EmailMessage
from playwright.sync_api import Browser

from crossschema.outbox import _dress
from society.models import OutboundEmail

pytestmark = pytest.mark.e2e

LONG = "https://alpha.horizontal.localhost/meetings/12/notes/" + "x" * 160 + "/"


@pytest.mark.parametrize("width", [390, 1280])
def test_an_email_fits_the_screen_with_a_long_link(browser: Browser, width):
    body = f"Tomorrow: Alpha Peer Group, Aims review\n\nThe agenda and notes: {LONG}\n"
    message = EmailMessage(subject="Reminder: Alpha Peer Group", body=body, to=["a@b.edu"])
    dressed = _dress(message, OutboundEmail(kind="minutes"), None)
    [(html, _mimetype)] = dressed.alternatives
    assert dressed.body == body  # the text part is the text as written
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_content(html)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    link = page.locator(f'a[href="{LONG}"]')
    assert link.count() == 1
    colour = link.evaluate("a => getComputedStyle(a).color")
    assert colour == "rgb(31, 78, 140)"  # the site's brand colour
    context.close()
