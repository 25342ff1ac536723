"""Signed tokens for links in e-mails that work without a session (one-click unsubscribe,
reply addresses): an HMAC of a purpose and some ids under SECRET_KEY, still accepted under a
SECRET_KEY_FALLBACKS key so links already sent survive a key rotation."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.utils.crypto import salted_hmac


def token_mac(purpose: str, *parts: object, secret: str | None = None) -> str:
    """24 hex digits that only this site can make for `purpose` and `parts`."""
    value = ".".join(str(p) for p in parts)
    mac = salted_hmac(f"directory.{purpose}", value, secret=secret, algorithm="sha256")
    return mac.hexdigest()[:24]


def token_valid(mac: str, purpose: str, *parts: object) -> bool:
    """Whether `mac` was made by us with the current SECRET_KEY or a fallback one."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(
        hmac.compare_digest(mac.lower(), token_mac(purpose, *parts, secret=key)) for key in secrets
    )
