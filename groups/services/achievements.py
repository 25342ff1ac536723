"""Wins, and the group celebrating them."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import User

from ..models import (
    Achievement,
    Celebration,
)
from ..scheduling import zone_of


@transaction.atomic
def achievement_add(
    *, owner: User, kind: str, text: str, shareable: bool, achieved_on: date | None = None
) -> Achievement:
    """Post one of `owner`'s wins, dated `achieved_on` (today in the owner's time zone if
    none is given). Raises ValidationError for a date after today in the owner's zone."""
    today = timezone.now().astimezone(zone_of(owner)).date()
    if achieved_on is None:
        achieved_on = today
    elif achieved_on > today:
        raise ValidationError(
            {"achieved_on": _("That date is still to come: post the win once it has happened.")}
        )
    achievement = Achievement(
        owner=owner, kind=kind, text=text.strip(), shareable=shareable, achieved_on=achieved_on
    )
    achievement.full_clean()
    achievement.save()
    return achievement


@transaction.atomic
def achievement_celebrate(*, achievement: Achievement, by: User) -> None:
    Celebration.objects.get_or_create(achievement=achievement, by=by)
