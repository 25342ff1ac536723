"""Each member's own goals for the group."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction

from society.models import User

from ..models import (
    Goal,
)


@transaction.atomic
def goal_save(*, owner: User, goal: Goal | None = None, **fields: object) -> Goal:
    """Create or change one of `owner`'s goals. Raises PermissionDenied for someone else's."""
    goal = goal or Goal(owner=owner)
    if goal.owner_id != owner.pk:
        raise PermissionDenied
    for name, value in fields.items():
        setattr(goal, name, value)
    goal.full_clean()
    goal.save()
    return goal
