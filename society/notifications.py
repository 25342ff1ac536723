"""The kinds of reminder e-mail a member can choose about (on the account page): each kind
belongs to one choice, and every reminder e-mail names its kind so that preferences, quiet
hours, digests and one-click unsubscribe apply to it.

A renderer's e-mail whose kind is not listed here (an invitation, minutes, an application's
state, a sign-in matter) is sent as soon as it can be: the member asked for it or needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Choice:
    key: str
    label: str
    help: str
    default: str  # "now", "digest" or "off"


NOW, DIGEST, OFF = "now", "digest", "off"
DELIVERIES = (NOW, DIGEST, OFF)

CHOICES = (
    Choice("meetings", _("Meeting reminders"), _("24 hours and 1 hour before a meeting."), NOW),
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
    Choice("surveys", _("Surveys"), _("When a survey opens and before it closes."), NOW),
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

# Sent even inside quiet hours: waiting would make it useless.
QUIET_HOURS_EXEMPT = frozenset({"meeting_1h"})
