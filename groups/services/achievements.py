"""Wins, and the group celebrating them."""

from __future__ import annotations

from django.db import transaction

from society.models import User

from ..models import (
    Achievement,
    Celebration,
)


@transaction.atomic
def achievement_add(*, owner: User, kind: str, text: str, shareable: bool) -> Achievement:
    achievement = Achievement(owner=owner, kind=kind, text=text.strip(), shareable=shareable)
    achievement.full_clean()
    achievement.save()
    return achievement


@transaction.atomic
def achievement_celebrate(*, achievement: Achievement, by: User) -> None:
    Celebration.objects.get_or_create(achievement=achievement, by=by)
