"""The account page: a member's name and time zone, asked for after the first sign-in; every
page and e-mail in the reader's zone, named; the institution from a registered e-mail domain.

The accounts here are made as real ones are: by an invitation (no name, UTC, no institution)
and then a sign-in by e-mail code."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.outbox import emails_send_due
from directory.services import profile_save, profiles_follow_accounts
from groups.models import Meeting
from groups.services.invitations import invitation_create
from groups.services.meetings import meeting_schedule
from groups.services.membership import membership_add
from groups.services.minutes import minutes_publish
from society.models import User
from society.services import account_settings_save
from society.templatetags.horizontal import when
from society.timezones import zone_get, zone_label, zone_names
from tests.conftest import fresh, host_of

ALPHA = "http://alpha.horizontal.localhost:8765/"


def _invited(world, email: str) -> User:
    with tenant_context(world.alpha):
        invitation_create(email=email, role="member", actor=world.alice)
    return User.objects.get(email=email)


def _code_sign_in(email: str, next_url: str = ALPHA):
    """Sign in as a member does without an institutional IdP: ask for a code, type it."""
    client = Client(HTTP_HOST=host_of())
    mail.outbox.clear()
    asked = client.post("/accounts/login/code/", {"email": email, "next": next_url})
    assert asked.status_code == 302
    [message] = mail.outbox
    code = re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", message.body, re.MULTILINE).group(1)
    confirmed = client.post(asked["Location"], {"code": code, "next": next_url})
    assert confirmed.status_code == 302
    return client, confirmed["Location"]


def test_a_new_member_is_asked_for_name_and_zone_then_sent_on(db, world):
    user = _invited(world, "nadia.new@lakeside.edu")
    assert (user.full_name, user.time_zone, user.institution) == ("", "UTC", None)

    client, location = _code_sign_in("nadia.new@lakeside.edu")
    assert urlsplit(location).path == "/account/"
    assert parse_qs(urlsplit(location).query)["next"] == [ALPHA]
    page = client.get(location).text
    assert "Welcome. Before you go on" in page
    assert "Lakeside College" in page  # taken from the registered domain at sign-in
    assert fresh(user).institution.name == "Lakeside College"

    saved = client.post(
        "/account/",
        {"full_name": " Dana  Lee ", "time_zone": "America/Los_Angeles", "next": ALPHA},
    )
    assert saved.status_code == 302 and saved["Location"] == ALPHA
    user = fresh(user)
    assert (user.full_name, user.time_zone) == ("Dana Lee", "America/Los_Angeles")
    assert user.settings_confirmed_at is not None

    again, location = _code_sign_in("nadia.new@lakeside.edu")
    assert location == ALPHA  # asked once only
    page = again.get("/account/").text
    assert "Welcome. Before you go on" not in page and 'value="Dana Lee"' in page


def test_a_zone_not_in_the_list_or_an_empty_name_is_refused_and_nothing_is_saved(db, world):
    user = _invited(world, "omar.new@lakeside.edu")
    client, _location = _code_sign_in("omar.new@lakeside.edu")
    for posted, message in (
        ({"full_name": "Erin", "time_zone": "Mars/Olympus"}, "Choose a time zone from the list"),
        ({"full_name": "Erin", "time_zone": "US/Pacific"}, "Choose a time zone from the list"),
        ({"full_name": "   ", "time_zone": "Asia/Tokyo"}, "This field is required"),
        ({"full_name": "Erin\nEvil", "time_zone": "Asia/Tokyo"}, "one line"),
    ):
        response = client.post("/account/", posted)
        assert response.status_code == 200 and message in response.text
        assert "Mars/Olympus" not in response.text  # the message does not echo the value
        if posted["time_zone"] != "Asia/Tokyo":  # the stored zone stays chosen, not the first
            assert '<option value="UTC" selected>' in response.text
    user = fresh(user)
    assert (user.full_name, user.time_zone, user.settings_confirmed_at) == ("", "UTC", None)


def test_the_account_page_is_for_signed_in_people_on_the_base_host_only(db, world, client_for):
    assert "/accounts/login/?next=/account/" in client_for().get("/account/")["Location"]
    for person in (world.bob, world.sam, world.olivia):  # member, society admin, no group
        page = client_for(person).get("/account/")
        assert page.status_code == 200 and person.email in page.text
        assert "Welcome. Before you go on" not in page.text
    assert client_for(world.bob, world.alpha).get("/account/").status_code == 404
    foreign = client_for(world.bob).post(
        "/account/",
        {"full_name": "Bob Tester", "time_zone": "Asia/Tokyo", "next": "https://evil.example/"},
    )
    assert foreign["Location"] == "/account/"  # never sent off the site
    assert fresh(world.bob).time_zone == "Asia/Tokyo"
    User.objects.filter(pk=world.bob.pk).update(time_zone=world.bob.time_zone)


def test_pages_show_times_in_the_readers_zone_with_the_zone_named(db, world, client_for):
    starts = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    with tenant_context(world.alpha):
        meeting = meeting_schedule(
            title="Zones", starts_at=starts, duration_minutes=60, link="", actor=world.alice
        )
    readers = {"America/Los_Angeles": world.bob, "Asia/Tokyo": world.carol}
    for zone, person in readers.items():
        User.objects.filter(pk=person.pk).update(time_zone=zone)
        local = starts.astimezone(ZoneInfo(zone))
        shown = f"{local:%a} {local.day} {local:%b %Y, %H:%M} {zone_label(local)}"
        home = client_for(fresh(person), world.alpha).get("/").text
        assert shown in home
        detail = client_for(fresh(person), world.alpha).get(f"/meetings/{meeting.pk}/").text
        assert f"{local:%H:%M} {zone_label(local)} ({zone.replace('_', ' ')})" in detail
    for person in readers.values():
        User.objects.filter(pk=person.pk).update(time_zone=person.time_zone)


def test_a_stored_zone_we_do_not_offer_shows_utc_and_never_breaks_a_page(db, world, client_for):
    with connection.cursor() as cursor:  # as an old version or the shell might have left it
        cursor.execute(
            "UPDATE society_user SET time_zone = 'Not/AZone' WHERE id = %s", [world.bob.pk]
        )
    bob = fresh(world.bob)
    for path in ("/", "/meetings/", "/polls/", "/attendance/"):
        assert client_for(bob, world.alpha).get(path).status_code == 200
    assert client_for(bob).get("/account/").status_code == 200
    assert zone_get("Not/AZone").key == "UTC" and zone_get(None).key == "UTC"
    User.objects.filter(pk=world.bob.pk).update(time_zone=world.bob.time_zone)


def test_zones_offered_are_real_places_and_utc():
    names = zone_names()
    assert names[0] == "UTC" and "America/Los_Angeles" in names and "Asia/Kolkata" in names
    assert not [n for n in names if n.startswith(("posix/", "right/", "Etc/", "US/"))]
    # one name per place: old aliases are read but not offered
    assert "Asia/Calcutta" not in names and "Europe/Kiev" not in names
    assert zone_get("Asia/Calcutta").key == "Asia/Calcutta"


def test_a_member_with_an_old_alias_keeps_it_until_they_choose(db, world, client_for):
    User.objects.filter(pk=world.bob.pk).update(time_zone="Asia/Calcutta")
    client = client_for(fresh(world.bob))
    page = client.get("/account/").text
    assert '<option value="Asia/Calcutta" selected>' in page
    saved = client.post("/account/", {"full_name": "Bob Tester", "time_zone": "Asia/Calcutta"})
    assert saved.status_code == 302 and fresh(world.bob).time_zone == "Asia/Calcutta"
    client.post("/account/", {"full_name": "Bob Tester", "time_zone": "Asia/Kolkata"})
    assert fresh(world.bob).time_zone == "Asia/Kolkata"
    assert "Asia/Calcutta" not in client.get("/account/").text  # gone once left


def test_times_name_their_zone_by_abbreviation_or_offset():
    moment = timezone.datetime(2027, 1, 5, 15, 0, tzinfo=ZoneInfo("UTC"))
    with timezone.override(ZoneInfo("America/New_York")):
        assert when(moment) == "Tue 5 Jan 2027, 10:00 EST"
    with timezone.override(ZoneInfo("Asia/Kolkata")):
        assert when(moment) == "Tue 5 Jan 2027, 20:30 IST"
    with timezone.override(ZoneInfo("America/Sao_Paulo")):
        assert when(moment) == "Tue 5 Jan 2027, 12:00 UTC-03"
    with timezone.override(ZoneInfo("Asia/Kathmandu")):
        assert when(moment, "time") == "20:45 UTC+05:45"


def test_one_name_for_one_person_between_account_and_directory(db, world):
    dana = _invited(world, "nadia.new@lakeside.edu")
    profile_save(user=dana, name="Dana Q. Lee", career_stage="assistant")
    assert fresh(dana).full_name == "Dana Q. Lee"  # the profile's name reaches the account
    account_settings_save(user=fresh(dana), full_name="Dana Lee", time_zone="Europe/London")
    assert profiles_follow_accounts() >= 1  # beat's every-minute copy
    profile = fresh(dana).profile
    assert (profile.name, profile.time_zone) == ("Dana Lee", "Europe/London")


def test_a_member_who_skipped_the_account_page_is_reminded_on_every_page(db, world, client_for):
    newcomer = _invited(world, "skip.new@lakeside.edu")
    with tenant_context(world.alpha):
        membership_add(user=newcomer, role="member")
    for page in (
        client_for(newcomer, world.alpha).get("/").text,
        client_for(newcomer).get("/directory/").text,
    ):
        assert "You have not told us your name and time zone yet" in page
        assert "/account/?next=http" in page
    assert "You have not told us" not in client_for(newcomer).get("/account/").text
    assert "You have not told us" not in client_for(world.bob, world.alpha).get("/").text


def test_the_minutes_page_and_e_mail_give_the_meetings_time_in_the_readers_zone(
    db, world, client_for, django_capture_on_commit_callbacks
):
    starts = (timezone.now() - timedelta(days=3)).replace(microsecond=0)
    User.objects.filter(pk=world.carol.pk).update(time_zone="Asia/Tokyo")
    mail.outbox.clear()
    with tenant_context(world.alpha), django_capture_on_commit_callbacks(execute=True):
        meeting = meeting_schedule(
            title="Held",
            starts_at=starts,
            duration_minutes=60,
            link="",
            actor=world.alice,
            allow_past=True,
        )
        minutes_publish(meeting=Meeting.objects.get(pk=meeting.pk), actor=world.alice)
    emails_send_due()  # what the worker runs
    local = starts.astimezone(ZoneInfo("Asia/Tokyo"))
    shown = f"{local.day} {local:%B %Y}, {local:%H:%M} JST (Asia/Tokyo)"
    page = client_for(fresh(world.carol), world.alpha).get(f"/meetings/{meeting.pk}/minutes/")
    assert shown in page.text
    [to_carol] = [m for m in mail.outbox if m.to == [world.carol.email] and "Minutes" in m.subject]
    assert to_carol.body.startswith(f"Meeting held {local:%A} {shown}")
    User.objects.filter(pk=world.carol.pk).update(time_zone=world.carol.time_zone)
