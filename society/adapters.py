from __future__ import annotations

from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest


def is_our_url(url: str) -> bool:
    """True for an absolute URL on the base host or a group host, with our scheme and port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    base = settings.HORIZONTAL_BASE_HOST
    port_suffix = f":{parts.port}" if parts.port else ""
    return (
        parts.scheme == settings.HORIZONTAL_SCHEME
        and port_suffix == settings.HORIZONTAL_PORT_SUFFIX
        and (host == base or host.endswith("." + base))
        and not parts.username
        and not parts.password
    )


class AccountAdapter(DefaultAccountAdapter):
    """Accounts come from institutional sign-in and invitations, not from an open sign-up form."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def is_safe_url(self, url: str) -> bool:
        # Sign-in lives on the base host and sends people back to the group host they came
        # from. allauth's own check compares ALLOWED_HOSTS patterns against host:port, which
        # never matches a subdomain pattern when the site runs on a port (development).
        return is_our_url(url) or super().is_safe_url(url)
