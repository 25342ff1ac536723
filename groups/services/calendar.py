"""Each member's secret calendar-feed address."""

from __future__ import annotations

import secrets

from django.db import transaction

from society.models import User

from ..models import (
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
    """The active member a feed token belongs to, if any (not a closed account's)."""
    feed = (
        CalendarFeed.objects.select_related("member").filter(token_hash=token_hash(token)).first()
    )
    if feed is None or not feed.member.is_active:
        return None
    if not Membership.objects.filter(user=feed.member, is_active=True).exists():
        return None
    return feed.member
