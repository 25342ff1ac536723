"""The kinds of reminder e-mail a member can choose about (on the account page): each kind
belongs to one choice, and every reminder e-mail names its kind so that preferences, quiet
hours, digests and one-click unsubscribe apply to it.

A renderer's e-mail whose kind is not listed here (an invitation, minutes, an application's
state, a sign-in matter) is sent as soon as it can be: the member asked for it or needs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.utils.translation import gettext_lazy as _

from .models import User
from .timezones import zone_get
from .tokens import token_mac, token_valid
from .urls_helpers import society_url


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    help: str
    default: str  # "now", "digest" or "off"
    offered: bool = True  # on the account page (False until anything sends it)


NOW, DIGEST, OFF = "now", "digest", "off"
DELIVERIES = (NOW, DIGEST, OFF)

CHOICES = (
    Choice(
        "meetings",
        _("Meeting reminders"),
        _(
            "24 hours and 1 hour before a meeting. In a daily digest only the 24-hour one "
            "goes (the 1-hour one would come too late)."
        ),
        NOW,
    ),
    Choice(
        "commitments",
        _("Action-plan nudges"),
        _("Halfway between meetings: what you planned to do."),
        NOW,
    ),
    Choice(
        "reviews",
        _("Mission and charter reviews"),
        _("When your group's mission or norms are due for a look."),
        NOW,
    ),
    Choice(
        "point_person",
        _("Point-person nudges"),
        _("No meeting planned, low attendance, a join request waiting."),
        NOW,
    ),
    Choice(
        "society_admin",
        _("Society administration"),
        _("Applications waiting for a decision."),
        NOW,
    ),
    # Offered once the evaluation issue sends survey reminders (its registry entry is ready).
    Choice(
        "surveys", _("Surveys"), _("When a survey opens and before it closes."), NOW, offered=False
    ),
)
CHOICE_KEYS = tuple(c.key for c in CHOICES)

# e-mail kind (OutboundEmail.kind, ReminderDue.kind) -> the choice that governs it
KIND_CHOICE: dict[str, str] = {
    "meeting_24h": "meetings",
    "meeting_1h": "meetings",
    "commitment_nudge": "commitments",
    "mission_review": "reviews",
    "charter_review": "reviews",
    "pp_no_meeting": "point_person",
    "pp_attendance": "point_person",
    "pp_join_request": "point_person",
    "admin_applications": "society_admin",
    "survey_opened": "surveys",
    "survey_closing": "surveys",
}

# Sent even inside quiet hours: waiting would make it useless; for the same reason not kept
# for a digest (the member who takes meeting reminders as a digest gets the 24-hour one there).
QUIET_HOURS_EXEMPT = frozenset({"meeting_1h"})

DIGEST_HOUR = time(7, 0)  # a daily digest goes at 7:00 in its reader's zone (or when quiet ends)
DIGEST_KIND = "reminder_digest"
UNSUBSCRIBE_ALL_DIGESTS = "digest"  # the digest's own unsubscribe: every "digest" choice off


def choice_of(kind: str) -> Choice | None:
    key = KIND_CHOICE.get(kind)
    return next((c for c in CHOICES if c.key == key), None)


def choice_delivery(user: User, key: str) -> str:
    """How `user` takes the e-mails of choice `key`: NOW, DIGEST or OFF."""
    choice = next(c for c in CHOICES if c.key == key)
    stored = (user.email_choices or {}).get(key)
    return stored if stored in DELIVERIES else choice.default


def delivery_of(user: User, kind: str) -> str:
    """How `user` takes e-mails of `kind` (what is not a reminder: NOW)."""
    choice = choice_of(kind)
    return NOW if choice is None else choice_delivery(user, choice.key)


def _local(user: User, at: datetime) -> datetime:
    return at.astimezone(zone_get(user.time_zone))


def _at_local(user: User, day: date, clock: time) -> datetime:
    """`clock` on `day` in the member's zone, as an instant in UTC. A clock time the change to
    summer time skips (02:30 when clocks go from 02:00 to 03:00) is read with the offset from
    before the jump, so it lands just after it (03:30), never inside the hour before; a time
    that happens twice when clocks go back is its first occurrence (PEP 495, fold=0)."""
    return datetime.combine(day, clock, tzinfo=zone_get(user.time_zone)).astimezone(UTC)


def quiet_end(user: User, at: datetime) -> datetime | None:
    """When the member's quiet hours around `at` end, or None if `at` is not inside them."""
    start, end = user.quiet_from, user.quiet_until
    if start is None or end is None or start == end:
        return None
    local = _local(user, at)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:  # over midnight, e.g. 22:00-07:00
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    ends = _at_local(user, end_day, end)
    # In the hour clocks go back, a local end can be an instant already past: not inside.
    return ends if ends > at else None


def digest_time_on(user: User, day: date) -> datetime:
    """When the member's digest of local `day` goes: DIGEST_HOUR in their zone, or the end of
    their quiet hours if it falls inside them."""
    when = _at_local(user, day, DIGEST_HOUR)
    return quiet_end(user, when) or when


def digest_time(user: User, at: datetime) -> datetime:
    """When the member's next daily digest goes, at or after `at`."""
    day = _local(user, at).date()
    for offset in range(3):
        when = digest_time_on(user, day + timedelta(days=offset))
        if when >= at:
            return when
    return digest_time_on(user, day + timedelta(days=3))  # quiet hours longer than a day


def choices_for(user: User) -> list[Choice]:
    """The choices the member's account page offers: the point-persons' nudges to those who
    are a point-person somewhere, the society's own to society admins."""
    links = user.group_links.all()
    is_point_person = links.filter(is_point_person=True).exists()
    # A society admin in no group gets none of a group's reminders (a member between groups,
    # or invited and not yet joined, keeps the choices for when they are in one).
    group_kinds = not user.is_society_admin or links.exists()
    return [
        choice
        for choice in CHOICES
        if choice.offered
        and (choice.key != "society_admin" or user.is_society_admin)
        and (choice.key != "point_person" or is_point_person)
        and (choice.key in ("society_admin", "point_person") or group_kinds)
    ]


def unsubscribe_done(user: User, choice: str) -> bool:
    """Whether what one-click unsubscribe from `choice` turns off is off already."""
    if choice == UNSUBSCRIBE_ALL_DIGESTS:
        return not any(choice_delivery(user, c.key) == DIGEST for c in CHOICES)
    return choice_delivery(user, choice) == OFF


def unsubscribe_label(user: User, choice: str) -> str:
    """What one-click unsubscribe from `choice` turns off, in words."""
    if choice != UNSUBSCRIBE_ALL_DIGESTS:
        return str(next(c.label for c in CHOICES if c.key == choice))
    taken = [str(c.label) for c in CHOICES if choice_delivery(user, c.key) == DIGEST]
    return ", ".join(taken) or str(_("Daily digests"))


def unsubscribe_token(user: User, choice: str) -> str:
    return f"{user.pk}-{token_mac(f'unsubscribe.{choice}', user.pk)}"


TOKEN = re.compile(r"([0-9]{1,18})-([0-9a-f]{24})")


def unsubscribe_token_user(choice: str, token: str) -> User | None:
    """The member a reminder's unsubscribe token names, or None if it is not ours."""
    match = TOKEN.fullmatch(token)
    if (
        choice not in (*CHOICE_KEYS, UNSUBSCRIBE_ALL_DIGESTS)
        or match is None
        or not token_valid(match[2], f"unsubscribe.{choice}", match[1])
    ):
        return None
    return User.objects.filter(pk=int(match[1]), is_active=True).first()


def unsubscribe_url(user: User, choice: str) -> str:
    return society_url(f"/account/unsubscribe/{choice}/{unsubscribe_token(user, choice)}/")


def unsubscribe_headers(user: User, choice: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe from one choice (no sign-in)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user, choice)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
