"""Each member's secret calendar-feed address."""

from __future__ import annotations

import secrets

from django.db import transaction

from society.models import User

from ..models import (
    PARTICIPANT_ROLES,
    CalendarFeed,
    Membership,
)
from .invitations import token_hash


@transaction.atomic
def calendar_feed_issue(*, member: User) -> str:
    """A new secret feed address for `member` (the old one stops working). Returns the token."""
    token = secrets.token_urlsafe(24)
    CalendarFeed.objects.update_or_create(member=member, defaults={"token_hash": token_hash(token)})
    return token


def calendar_feed_revoke(*, member: User) -> None:
    CalendarFeed.objects.filter(member=member).delete()


def calendar_feed_member(*, token: str) -> User | None:
    """The member a feed token belongs to, while they may see meetings (an active account and
    a role that takes part in meetings); None otherwise."""
    feed = (
        CalendarFeed.objects.select_related("member").filter(token_hash=token_hash(token)).first()
    )
    if feed is None or not feed.member.is_active:
        return None
    participant = Membership.objects.filter(
        user=feed.member, is_active=True, role__in=PARTICIPANT_ROLES
    ).exists()
    if not participant:  # e.g. now the evaluator, who does not see meetings
        return None
    return feed.member
