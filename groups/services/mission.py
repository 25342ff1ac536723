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


@transaction.atomic
def mission_adopt(*, text: str, actor: User | None, note: str = "") -> Mission:
    """Adopt a new version of the mission (the first one comes from the approved application).

    Copies its text to the group's public row (PeerGroup.mission_public) for the directory."""
    text = text.strip()
    if not text:
        raise ValidationError(_("Write the mission down; it cannot be empty."))
    latest = Mission.objects.order_by("-version").first()
    group_row_update(mission_public=text)  # the directory shows it beside open seats
    return Mission.objects.create(
        version=(latest.version + 1) if latest else 1, text=text, adopted_by=actor, note=note
    )


@transaction.atomic
def mission_review_record(*, outcome: str, actor: User, new_text: str = "") -> MissionReview:
    """Record the six-monthly review: kept, or revised into a new version."""
    mission = Mission.objects.order_by("-version").first()
    if mission is None:
        raise ValidationError(_("Write the mission first."))
    if outcome == MissionReview.Outcome.REVISED:
        mission = mission_adopt(text=new_text, actor=actor, note="revised at review")
    elif outcome != MissionReview.Outcome.KEPT:
        raise ValidationError(_("Choose kept or revised."))
    return MissionReview.objects.create(mission=mission, outcome=outcome, reviewed_by=actor)
