"""Wins keep the date their member typed: on the page and in the export."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django_tenants.utils import tenant_context

from groups.models import Achievement
from groups.services.membership import membership_add
from tests.society.factories import UserFactory


def _win(**data) -> dict:
    return {"kind": "paper", "text": "Paper accepted", "shareable": "on", **data}


def _export(client) -> dict:
    archive = zipfile.ZipFile(io.BytesIO(client.get("/export/").content))
    return json.loads(archive.read("group.json"))


def test_the_typed_date_shows_on_the_page_and_in_the_export(db, world, client_for):
    bob = client_for(world.bob, world.alpha)
    posted = bob.post("/achievements/", _win(text="K award submitted", achieved_on="2026-03-14"))
    assert posted.status_code == 302
    assert "K award submitted (14 Mar 2026)" in bob.get("/achievements/").text
    exported = _export(client_for(world.alice, world.alpha))["achievements"]
    assert {"text": "K award submitted", "achieved_on": "2026-03-14"}.items() <= next(
        a for a in exported if a["text"] == "K award submitted"
    ).items()


def test_a_date_still_to_come_is_refused_with_a_message(db, world, client_for):
    with tenant_context(world.alpha):
        before = Achievement.objects.count()
    tomorrow = timezone.now().astimezone(ZoneInfo(world.bob.time_zone or "UTC")) + timedelta(days=1)
    refused = client_for(world.bob, world.alpha).post(
        "/achievements/", _win(text="Promoted early", achieved_on=f"{tomorrow:%Y-%m-%d}")
    )
    assert refused.status_code == 400
    assert "That date is still to come: post the win once it has happened." in refused.text
    assert 'value="Promoted early"' in refused.text  # what was typed is kept
    with tenant_context(world.alpha):
        assert Achievement.objects.count() == before


def test_an_empty_date_is_today_in_the_members_own_zone(db, world, client_for):
    for zone in ("Pacific/Pago_Pago", "Pacific/Kiritimati"):
        with tenant_context(world.alpha):
            person = UserFactory(email=f"{zone[8:].lower()}@zones.edu", time_zone=zone)
            membership_add(user=person, role="member")
        today = timezone.now().astimezone(ZoneInfo(zone)).date()
        client = client_for(person, world.alpha)
        assert client.post("/achievements/", _win(text=f"Ran 5k in {zone}")).status_code == 302
        # and the member's own today is never "still to come", wherever UTC is
        assert (
            client.post(
                "/achievements/", _win(text=f"Swam in {zone}", achieved_on=today.isoformat())
            ).status_code
            == 302
        )
        with tenant_context(world.alpha):
            dates = set(
                Achievement.objects.filter(owner=person).values_list("achieved_on", flat=True)
            )
        assert dates == {today}
