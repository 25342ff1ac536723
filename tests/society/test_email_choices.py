"""Each member chooses, per kind of reminder, to get it now, in a daily digest or not at all,
and may keep quiet hours in their own zone; every reminder carries one-click unsubscribe from
its kind; every e-mail goes as text and HTML in the site's look, with nothing confidential.

The reminders here are real ones: meetings scheduled through the group's services, found by
the index, recorded by the fan-out, sent by the outbox's sweep."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from crossschema.outbox import email_send, emails_send_due
from crossschema.reminders import reminders_group
from groups.models import Meeting
from groups.services.meetings import agenda_notes_record, commitment_add
from groups.services.reminders import MEETING_REMINDERS
from society import notifications
from society.models import OutboundEmail, ReminderDue, User
from tests.conftest import fresh, host_of
from tests.meetings import meeting_held, meetings_due

SECRET = "CANARY-job-offer-7d2e"


def _due_meeting(world, *, minutes: int = 30, kinds=tuple(MEETING_REMINDERS)) -> Meeting:
    """A meeting scheduled days ahead, with a confidential note; then time passes: it starts
    in `minutes`, so both its reminders (24 hours and 1 hour before) are due; those of `kinds`
    are recorded in the outbox."""
    [meeting] = meetings_due(world, 1, "Aims review", minutes=minutes)
    with tenant_context(world.alpha):
        item = meeting.agenda.first()
        agenda_notes_record(item=item, notes=SECRET, confidential=True, actor=world.alice)
    rows = ReminderDue.objects.filter(object_id=meeting.pk, kind__in=kinds)
    reminders_group(world.alpha.pk, list(rows.values_list("pk", flat=True)))
    return meeting


def _to(user, subject_start="Reminder:"):
    return [m for m in mail.outbox if m.to == [user.email] and m.subject.startswith(subject_start)]


def _choose(user: User, **choices: str) -> None:
    User.objects.filter(pk=user.pk).update(email_choices=choices)


def _html(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


# --- The account page ----------------------------------------------------------------------------


def test_a_member_chooses_per_kind_and_quiet_hours_on_the_account_page(db, world, client_for):
    client = client_for(world.bob)
    page = client.get("/account/").text
    assert "Meeting reminders" in page and "Quiet hours" in page
    assert 'name="choice_meetings" value="now" checked' in page  # meeting reminders default on
    assert "choice_society_admin" not in page  # only society admins get the society's nudges
    assert "choice_point_person" not in page  # Bob is no point-person anywhere
    assert "choice_surveys" not in page  # no survey sends anything yet
    assert "choice_point_person" in client_for(world.alice).get("/account/").text
    admin_page = client_for(world.sam).get("/account/").text  # a society admin in no group
    assert "choice_society_admin" in admin_page and "choice_meetings" not in admin_page
    assert "notices from your groups" not in admin_page and "one hour before" not in admin_page

    saved = client.post(
        "/account/email/",
        {
            "choice_meetings": "now",
            "choice_commitments": "digest",
            "choice_reviews": "off",
            "quiet_from": "22:00",
            "quiet_until": "07:00",
        },
    )
    assert saved.status_code == 302
    assert saved["Location"].endswith("/account/?saved=email#your-email")
    assert "Your e-mail choices are saved." in client.get(saved["Location"]).text
    # after signing in again, the form's address shows the form
    again = client.get("/account/email/")
    assert again.status_code == 302 and again["Location"].endswith("/account/#your-email")
    bob = fresh(world.bob)
    assert bob.email_choices["commitments"] == "digest" and bob.email_choices["reviews"] == "off"
    assert (bob.quiet_from, bob.quiet_until) == (time(22), time(7))
    page = client.get("/account/").text
    assert 'name="choice_reviews" value="off" checked' in page
    assert 'value="22:00"' in page and 'value="07:00"' in page


def test_bad_choices_are_refused_with_a_message_and_change_nothing(db, world, client_for):
    client = client_for(world.bob)
    base = {f"choice_{c.key}": "now" for c in notifications.choices_for(fresh(world.bob))}
    for data, message in [
        ({**base, "choice_meetings": "hourly"}, "Choose now, daily digest or off."),
        ({**base, "quiet_from": "22:00"}, "Give both the start and the end"),
        ({**base, "quiet_from": "22:00", "quiet_until": "22:00"}, "must end at another time"),
        ({**base, "quiet_from": "25:99", "quiet_until": "07:00"}, "Give a time like 22:00."),
    ]:
        refused = client.post("/account/email/", data)
        assert refused.status_code == 400 and message in refused.text
        assert "Your e-mail choices are not saved" in refused.text
    # a time we cannot read is said once, not also as a missing one
    unreadable = client.post(
        "/account/email/", {**base, "quiet_from": "10:00 PM", "quiet_until": "07:00"}
    )
    assert "Give a time like 22:00." in unreadable.text and "Give both" not in unreadable.text
    bob = fresh(world.bob)
    assert (bob.email_choices, bob.quiet_from) == ({}, None)
    # an admin-only choice posted by a member is ignored, not stored
    client.post("/account/email/", {**base, "choice_society_admin": "off"})
    assert "society_admin" not in fresh(world.bob).email_choices


def test_the_choices_are_the_members_own(db, world):
    anonymous = Client(HTTP_HOST=host_of())
    assert anonymous.get("/account/").status_code == 302
    posted = anonymous.post("/account/email/", {"choice_meetings": "off"})
    assert posted.status_code == 302 and "/accounts/login/" in posted["Location"]
    # the group's host has no account page: it is the society's
    inside_group = Client(HTTP_HOST=host_of(world.alpha))
    inside_group.force_login(fresh(world.bob))
    assert inside_group.post("/account/email/", {"choice_meetings": "off"}).status_code == 404
    assert fresh(world.bob).email_choices == {}


# --- What the choices do -------------------------------------------------------------------------


def test_off_sends_none_of_that_kind_and_others_still_get_theirs(db, world):
    _choose(world.bob, meetings="off")
    _due_meeting(world)
    mail.outbox.clear()
    emails_send_due()
    assert _to(world.bob) == []
    assert len(_to(world.alice)) == 2
    skipped = OutboundEmail.objects.filter(to=world.bob.email, kind__in=MEETING_REMINDERS)
    assert skipped.count() == 2 and not skipped.filter(skipped_at__isnull=True).exists()


def test_a_digest_gathers_the_days_reminders_into_one_email_at_seven_local(db, world):
    User.objects.filter(pk=world.bob.pk).update(time_zone="Europe/Berlin")
    _choose(world.bob, meetings="digest")
    meeting = _due_meeting(world, minutes=23 * 60, kinds=["meeting_24h"])  # due: 24 h before
    mail.outbox.clear()
    emails_send_due()
    assert _to(world.bob) == [] and _to(world.bob, "1 reminder") == []
    digest = OutboundEmail.objects.get(kind="reminder_digest", to=world.bob.email)
    bob = fresh(world.bob)
    local = digest.send_after.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.hour, local.minute) == (7, 0) and digest.send_after > timezone.now()
    assert digest.parts.count() == 1

    with tenant_context(world.alpha):
        Meeting.objects.filter(pk=meeting.pk).update(title="Aims review: R01 & K99 <draft>")
    OutboundEmail.objects.filter(pk=digest.pk).update(send_after=timezone.now())  # 7:00 comes
    emails_send_due()
    [message] = _to(bob, "1 reminder for")
    today = timezone.now().astimezone(ZoneInfo("Europe/Berlin"))
    assert message.subject == f"1 reminder for {today:%a} {today.day} {today:%b}"
    assert [name for name, *_ in message.attachments] == ["meeting-1.ics"]
    assert "Tomorrow: Alpha Peer Group, Aims review" in message.body or "Today:" in message.body
    assert "<h2" in _html(message) and "==" not in _html(message)
    assert "R01 & K99 <draft>" in message.body  # the text part is text, not HTML entities
    assert "R01 &amp; K99 &lt;draft&gt;" in _html(message)
    with tenant_context(world.alpha):
        starts = Meeting.objects.get(pk=meeting.pk).starts_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert "Aims review" in message.body and f"{starts:%H:%M}" in message.body
    assert SECRET not in message.body and SECRET not in _html(message)
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/account/unsubscribe/digest/" in message.extra_headers["List-Unsubscribe"]
    asked = Client(HTTP_HOST=host_of()).get(_unsubscribe_path(message))
    assert "Meeting reminders" in asked.text  # names what it turns off
    assert not digest.parts.filter(sent_at__isnull=True).exists()
    mail.outbox.clear()
    emails_send_due()
    assert _to(bob, "1 reminder") == []  # sent once


def test_quiet_hours_hold_a_reminder_until_they_end_but_not_the_one_hour_one(db, world):
    zone = ZoneInfo("America/Chicago")
    now_local = timezone.now().astimezone(zone)
    start = (now_local - timedelta(hours=1)).time().replace(second=0, microsecond=0)
    end = (now_local + timedelta(hours=2)).time().replace(second=0, microsecond=0)
    User.objects.filter(pk=world.bob.pk).update(
        time_zone="America/Chicago", quiet_from=start, quiet_until=end
    )
    _due_meeting(world)
    mail.outbox.clear()
    emails_send_due()
    [soon] = _to(world.bob)
    assert soon.body.startswith("In an hour: ")
    held = OutboundEmail.objects.get(to=world.bob.email, kind="meeting_24h")
    assert held.sent_at is None
    assert held.send_after.astimezone(zone).time().replace(second=0) == end


def test_quiet_hours_and_digests_follow_the_members_clock_across_a_dst_change():
    """New York falls back on 1 Nov 2026 and springs forward on 14 Mar 2027: quiet hours
    22:00-07:00 end at 07:00 local on both mornings, which is 12:00 and 11:00 UTC."""
    reader = User(time_zone="America/New_York", quiet_from=time(22), quiet_until=time(7))
    fall_night = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)  # 23:00 EDT, 31 Oct
    assert notifications.quiet_end(reader, fall_night) == datetime(2026, 11, 1, 12, tzinfo=UTC)
    spring_night = datetime(2027, 3, 14, 6, 30, tzinfo=UTC)  # 01:30 EST
    assert notifications.quiet_end(reader, spring_night) == datetime(2027, 3, 14, 11, tzinfo=UTC)
    assert notifications.quiet_end(reader, datetime(2027, 3, 14, 15, tzinfo=UTC)) is None
    # the digest goes at 7:00 local: before and after the change
    assert notifications.digest_time(reader, fall_night) == datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert notifications.digest_time(reader, spring_night) == datetime(2027, 3, 14, 11, tzinfo=UTC)
    # quiet hours ending at a time the change skips end just after the jump, not before it
    reader.quiet_until = time(2, 30)
    assert notifications.quiet_end(reader, datetime(2027, 3, 14, 5, tzinfo=UTC)) == datetime(
        2027, 3, 14, 7, 30, tzinfo=UTC
    )  # 03:30 EDT
    # quiet hours within a day (13:00-14:00) too
    daytime = User(time_zone="Europe/London", quiet_from=time(13), quiet_until=time(14))
    assert notifications.quiet_end(daytime, datetime(2027, 7, 1, 12, 30, tzinfo=UTC)) == datetime(
        2027, 7, 1, 13, tzinfo=UTC
    )  # 13:30 BST -> 14:00 BST


# --- One-click unsubscribe ----------------------------------------------------------------------


def _unsubscribe_path(message) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    url = re.fullmatch(r"<(.+)>", header).group(1)
    assert url in message.body and url in _html(message)
    return urlsplit(url).path


def test_one_click_unsubscribe_turns_off_that_kind_only_without_sign_in(db, world):
    _due_meeting(world)
    mail.outbox.clear()
    emails_send_due()
    message = _to(world.bob)[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = _unsubscribe_path(message)
    assert path.startswith("/account/unsubscribe/meetings/")

    mail_program = Client(HTTP_HOST=host_of(), enforce_csrf_checks=True)
    asked = mail_program.get(path)  # a link scanner's GET changes nothing
    assert asked.status_code == 200 and "Meeting reminders" in asked.text
    assert fresh(world.bob).email_choices == {}
    done = mail_program.post(path, "List-Unsubscribe=One-Click", content_type="text/plain")
    assert done.status_code == 200 and "no more of these e-mails" in done.text
    bob = fresh(world.bob)
    assert notifications.choice_delivery(bob, "meetings") == "off"
    assert notifications.choice_delivery(bob, "commitments") == "now"
    used = mail_program.get(path)  # the link opened again: says it is done, asks nothing
    assert "no more of these e-mails" in used.text and "<button" not in used.text

    # a token is for one member and one kind: not another kind, not a changed token
    other_kind = path.replace("/meetings/", "/reviews/")
    assert mail_program.post(other_kind).status_code == 404
    assert mail_program.post(path[:-3] + "00/").status_code == 404
    assert mail_program.get("/account/unsubscribe/meetings/1-zz/").status_code == 404


# --- What every e-mail looks like ---------------------------------------------------------------


def test_a_reminder_is_text_and_html_in_the_readers_zone_with_links_and_no_secret(db, world):
    User.objects.filter(pk=world.bob.pk).update(time_zone="Asia/Kolkata")
    meeting = _due_meeting(world)
    mail.outbox.clear()
    emails_send_due()
    message = next(m for m in _to(world.bob) if "Reminder" in m.subject)
    html = _html(message)
    with tenant_context(world.alpha):
        starts = Meeting.objects.get(pk=meeting.pk).starts_at.astimezone(ZoneInfo("Asia/Kolkata"))
    assert f"{starts:%H:%M} IST (Asia/Kolkata)" in message.body
    assert f"{starts:%H:%M} IST (Asia/Kolkata)" in html
    meeting_url = f"/meetings/{meeting.pk}/"
    assert meeting_url in message.body and 'href="http://alpha.' in html and meeting_url in html
    # the site's look: its name in the header, a card, the brand colour
    assert settings.SOCIETY_NAME in html and f"<title>{message.subject}</title>" in html
    assert "#1f4e8c" in html
    assert SECRET not in message.body and SECRET not in html
    assert "<script" not in html
    assert message.extra_headers["Message-ID"].startswith("<")


def test_the_one_hour_reminder_is_not_kept_for_a_digest(db, world):
    _choose(world.bob, meetings="digest")
    _due_meeting(world)
    mail.outbox.clear()
    emails_send_due()
    one_hour = OutboundEmail.objects.get(to=world.bob.email, kind="meeting_1h")
    day_before = OutboundEmail.objects.get(to=world.bob.email, kind="meeting_24h")
    assert one_hour.skipped_at is not None and one_hour.digest_id is None
    assert day_before.digest_id is not None and _to(world.bob) == []


def test_what_members_type_is_text_in_the_html_part_never_markup(db, world):
    """A meeting title and an action plan arrive in the HTML part as the words they are: no
    live link, image or button made of them."""
    hostile = (
        '<a href="//evil.example/login" style="background:#1f4e8c">Confirm</a>'
        '<img src=//t.example/p.png> & "aims"'
    )
    earlier = meeting_held(world, "Earlier")
    with tenant_context(world.alpha):
        commitment_add(meeting=earlier, owner=world.bob, text=hostile, actor=world.alice)
    meeting = _due_meeting(world)
    with tenant_context(world.alpha):
        Meeting.objects.filter(pk=meeting.pk).update(title=f"Draft {hostile}")
    mail.outbox.clear()
    emails_send_due()
    message = next(m for m in _to(world.bob) if m.body.startswith("In an hour"))
    html = _html(message)
    assert hostile in message.body  # the text part says what was typed
    assert "evil.example" in html  # ... and so does the HTML, as words:
    assert '<a href="//evil.example' not in html and "<img" not in html
    assert "&lt;a href=" in html and "&lt;img src=" in html


def test_the_digest_waits_for_quiet_hours_that_cover_seven_the_same_day():
    """Quiet 22:00-10:00: the day's digest goes at 10:00, and a reminder held at 08:00 goes in
    that one, not the next day's; stepping on from a digest gone is the next local day."""
    reader = User(time_zone="Europe/London", quiet_from=time(22), quiet_until=time(10))
    eight = datetime(2027, 6, 2, 7, 0, tzinfo=UTC)  # 08:00 BST
    assert notifications.digest_time(reader, eight) == datetime(2027, 6, 2, 9, 0, tzinfo=UTC)
    eleven = datetime(2027, 6, 2, 10, 0, tzinfo=UTC)  # 11:00 BST: today's went
    assert notifications.digest_time(reader, eleven) == datetime(2027, 6, 3, 9, 0, tzinfo=UTC)
    # in the hour New York's clocks go back, an end already past is not "inside"
    night = User(time_zone="America/New_York", quiet_from=time(22), quiet_until=time(1, 30))
    repeated = datetime(2026, 11, 1, 6, 10, tzinfo=UTC)  # 01:10 EST, the second time round
    assert notifications.quiet_end(night, repeated) is None


def test_a_digest_waiting_follows_the_members_change_of_mind(db, world):
    """Parts already in tomorrow's digest: turned off, they are dropped; back to "now", they
    go on their own; the digest left empty is not sent. A part is never sent by itself while
    it waits in a digest."""
    _choose(world.bob, meetings="digest")
    meeting = _due_meeting(world, minutes=23 * 60, kinds=["meeting_24h"])
    emails_send_due()
    digest = OutboundEmail.objects.get(kind="reminder_digest", to=world.bob.email)
    [part] = digest.parts.all()
    assert email_send(part.pk) is False  # a redelivered task leaves it to its digest

    _choose(world.bob, meetings="off")  # one-click unsubscribe, or the account page
    OutboundEmail.objects.filter(pk=digest.pk).update(send_after=timezone.now())
    mail.outbox.clear()
    emails_send_due()
    assert _to(world.bob, "1 reminder") == [] and _to(world.bob) == []
    part.refresh_from_db()
    digest.refresh_from_db()
    assert part.skipped_at is not None and digest.skipped_at is not None
    assert meeting.pk == part.context["object"]


def test_a_reminder_moved_later_after_the_scan_waits_for_its_new_time(db, world):
    meeting = _due_meeting(world, kinds=[])  # due now, not yet recorded
    rows = ReminderDue.objects.filter(object_id=meeting.pk, kind__in=MEETING_REMINDERS)
    ids = list(rows.values_list("pk", flat=True))  # what the scan found
    later = timezone.now() + timedelta(days=30)
    rows.update(due_at=later)  # the meeting moved a month on before the group's task ran
    assert reminders_group(world.alpha.pk, ids) == 0
    assert not OutboundEmail.objects.filter(kind__in=MEETING_REMINDERS, to=world.bob.email).exists()
    assert rows.filter(done_at__isnull=True).count() == 2  # still pending, for their new time


def test_a_part_whose_kind_is_back_to_now_goes_on_its_own(db, world):
    _choose(world.bob, meetings="digest")
    _due_meeting(world, minutes=23 * 60, kinds=["meeting_24h"])
    emails_send_due()
    digest = OutboundEmail.objects.get(kind="reminder_digest", to=world.bob.email)
    _choose(world.bob, meetings="now")
    OutboundEmail.objects.filter(pk=digest.pk).update(send_after=timezone.now())
    mail.outbox.clear()
    emails_send_due()  # the digest lets it go (and is empty); the same sweep sends it alone
    emails_send_due()
    assert len(_to(world.bob)) == 1 and _to(world.bob, "1 reminder") == []


def test_only_full_links_become_links_in_the_html_part():
    """What a member or an institution's sign-in wrote (a name like a domain) stays text; the
    links we write are clickable."""
    from society.templatetags.horizontal import links

    html = links('Dana "reset-your-password.com" <b>Lee</b> asks: https://a.example/x?y=1&z=2.')
    assert "<a" not in html.split("asks:")[0] and "&lt;b&gt;" in html
    assert '<a href="https://a.example/x?y=1&amp;z=2">' in html and html.endswith("</a>.")
