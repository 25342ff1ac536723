"""The versioned mission and its six-monthly review."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from society.models import User

from ..models import (
    Mission,
    MissionReview,
)
from .context import group_row_update
from .reminders import mission_review_keep


@transaction.atomic
def mission_adopt(*, text: str, actor: User | None, note: str = "") -> Mission:
    """Adopt a new version of the mission (the first one comes from the approved application).

    Copies its text to the group's public row (PeerGroup.mission_public) for the directory;
    its review reminder is due six months later (the index)."""
    text = text.strip()
    if not text:
        raise ValidationError(_("Write the mission down; it cannot be empty."))
    latest = Mission.objects.order_by("-version").first()
    group_row_update(mission_public=text)  # the directory shows it beside open seats
    mission = Mission.objects.create(
        version=(latest.version + 1) if latest else 1, text=text, adopted_by=actor, note=note
    )
    mission_review_keep()
    return mission


@transaction.atomic
def mission_change(*, text: str, reason: str, actor: User) -> Mission:
    """Adopt a new mission version outside the six-monthly review, recording who and why (the
    reason becomes the version's note). The group's stage stays as it is (unlike
    lifecycle.group_redefine). Raises ValidationError without a reason, for an empty text, or
    for the text already in force."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the mission changes now.")})
    current = Mission.objects.order_by("-version").first()
    if current is not None and current.text.strip() == text.strip():
        raise ValidationError({"text": _("That is the mission already in force: change it.")})
    try:
        return mission_adopt(text=text, actor=actor, note=reason)
    except ValidationError as exc:
        raise ValidationError({"text": exc.messages}) from exc


@transaction.atomic
def mission_review_record(*, outcome: str, actor: User, new_text: str = "") -> MissionReview:
    """Record the six-monthly review: kept, or revised into a new version.

    Side effect: the next review reminder is due six months later (the index)."""
    mission = Mission.objects.order_by("-version").first()
    if mission is None:
        raise ValidationError(_("Write the mission first."))
    if outcome == MissionReview.Outcome.REVISED:
        mission = mission_adopt(text=new_text, actor=actor, note="revised at review")
    elif outcome != MissionReview.Outcome.KEPT:
        raise ValidationError(_("Choose kept or revised."))
    review = MissionReview.objects.create(mission=mission, outcome=outcome, reviewed_by=actor)
    mission_review_keep()  # six months from now
    return review
