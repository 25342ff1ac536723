"""Minutes: published without confidential items, e-mailed to the members."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import User
from society.outbox import email_enqueue
from society.timezones import UTC

from ..models import (
    Meeting,
    Membership,
    Minutes,
)
from .context import current_group

CONFIDENTIAL_PLACEHOLDER = "A confidential topic was discussed."


def meeting_recordable_check(meeting: Meeting, *, started: bool) -> None:
    """Raise ValidationError if `meeting` cannot be recorded: it was cancelled, or (when
    `started`: attendance, minutes) it has not started yet."""
    if meeting.cancelled_at is not None:
        raise ValidationError(_("This meeting was cancelled: there is nothing to record."))
    if started and meeting.starts_at > timezone.now():
        raise ValidationError(
            _("This meeting has not started yet: record attendance and minutes once it has.")
        )


@transaction.atomic
def minutes_publish(*, meeting: Meeting, actor: User) -> Minutes:
    """Write the minutes from the meeting (attendance, notes, everyone's action plan), leaving
    out anything marked confidential, and e-mail them to the group's active members.

    Side effects: one outbox row per active member (never the evaluator), rendered in their
    zone and sent by the worker (groups.emails.minutes); publishing again later records new
    ones, a double submit within the same second does not.

    Raises ValidationError for a cancelled meeting or one that has not started."""
    meeting_recordable_check(meeting, started=True)
    body = _minutes_body(meeting)
    minutes, _created = Minutes.objects.update_or_create(
        meeting=meeting,
        defaults={"body": body, "published_by": actor, "published_at": timezone.now()},
    )
    group = current_group()
    published = int(minutes.published_at.timestamp())
    recipients = (
        Membership.objects.filter(is_active=True)
        .exclude(role=Membership.Role.EVALUATOR)
        .values_list("user_id", "user__email")
        .order_by("user_id")
    )
    for user_id, address in recipients:
        email_enqueue(
            key=f"minutes:{group.schema_name}:{meeting.pk}:{published}:{user_id}",
            kind="minutes",
            to=address,
            context={"meeting": meeting.pk, "user": user_id},
            group=group,
        )
    return minutes


@transaction.atomic
def minutes_redact(*, meeting: Meeting) -> bool:
    """Rewrite published minutes after an item was marked confidential, so they keep only
    "a confidential topic was discussed". E-mails already sent cannot be recalled, so nothing
    is e-mailed again. Returns whether the meeting had published minutes."""
    updated = Minutes.objects.filter(meeting=meeting).update(body=_minutes_body(meeting))
    return bool(updated)


def _minutes_body(meeting: Meeting) -> str:
    """The minutes as Markdown. A stored document read in every zone, so its times are UTC
    (named); each e-mail adds the meeting's time in its reader's zone."""
    items = list(meeting.agenda.select_related("member"))
    with timezone.override(UTC):
        return _minutes_render(meeting, items)


def _minutes_render(meeting: Meeting, items: list) -> str:
    return render_to_string(
        "groups/minutes.md",
        {
            "group": current_group(),
            "meeting": meeting,
            "attendance": meeting.attendance.select_related("member").order_by("member__full_name"),
            "items": [
                (item, CONFIDENTIAL_PLACEHOLDER if item.confidential else item.notes)
                for item in items
            ],
            "commitments": meeting.commitments.select_related("owner"),
        },
    )
