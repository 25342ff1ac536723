"""What a refused sign-in must leave exactly as it was: accounts, their institution links and
e-mail addresses, and every session but the refused browser's own (whose one-time sign-in state
is spent)."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.sessions.models import Session

from society.models import User


def sign_in_rows(*, refused_session: str | None = None) -> dict[str, list[dict]]:
    """Every row a sign-in could write, as plain data (compare before and after)."""
    return {
        "users": list(User.objects.order_by("pk").values()),
        "social_accounts": list(SocialAccount.objects.order_by("pk").values()),
        "email_addresses": list(EmailAddress.objects.order_by("pk").values()),
        "sessions": list(
            Session.objects.exclude(session_key=refused_session or "")
            .order_by("session_key")
            .values()
        ),
    }
