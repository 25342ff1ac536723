"""Each member's own goals for the group."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from society.models import User

from ..models import (
    Goal,
)
from ..scheduling import zone_of


@transaction.atomic
def goal_save(*, owner: User, goal: Goal | None = None, **fields: object) -> Goal:
    """Create or change one of `owner`'s goals. Raises PermissionDenied for someone else's,
    and ValidationError for a target date already past (in the owner's time zone) on a new
    goal or a changed target date."""
    goal = goal or Goal(owner=owner)
    if goal.owner_id != owner.pk:
        raise PermissionDenied
    target = fields.get("target_date")
    today = timezone.now().astimezone(zone_of(owner)).date()
    changed = goal.pk is None or target != goal.target_date
    if target is not None and changed and target < today:
        raise ValidationError(
            {"target_date": _("That date has already passed: choose a target date ahead.")}
        )
    for name, value in fields.items():
        setattr(goal, name, value)
    goal.full_clean()
    goal.save()
    return goal
