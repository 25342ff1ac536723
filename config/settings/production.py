"""Production settings: HTTPS (for us and for institutions' OpenID Providers), strict cookies,
HSTS; hosts and secrets from the environment.

manage.py, config.wsgi and config.celery use these unless DJANGO_SETTINGS_MODULE says otherwise,
so they fail closed: without the secrets and the base URL, with a secret published in this
repository, or with a base URL that is not https://, they refuse to load (ImproperlyConfigured).
"""

import base64
import binascii
import os
import re

from django.core.exceptions import ImproperlyConfigured

from . import published

_refusal = "config.settings.production refuses to start"

# Checked before base.py reads them, so that one message names everything that is missing.
# HORIZONTAL_BASE_URL gives the allowed hosts: no development default here.
_missing = [
    name
    for name in (
        "DJANGO_SECRET_KEY",
        "HORIZONTAL_KEYS",
        "HORIZONTAL_BASE_URL",
        "ALLAUTH_TRUSTED_PROXY_COUNT",
    )
    if not os.environ.get(name, "").strip()
]
if _missing:
    raise ImproperlyConfigured(
        f"{_refusal} without {', '.join(_missing)} in the environment (see README.md, "
        "Configuration); for development set DJANGO_SETTINGS_MODULE=config.settings.local."
    )

if not re.fullmatch(r"\s*[0-9]+\s*", os.environ["ALLAUTH_TRUSTED_PROXY_COUNT"]):
    raise ImproperlyConfigured(
        f"{_refusal}: ALLAUTH_TRUSTED_PROXY_COUNT must be a whole number, 0 or more (how many "
        "reverse proxies append to X-Forwarded-For)."
    )

from .base import *  # noqa: E402, F403
from .base import (  # noqa: E402
    HORIZONTAL_BASE_HOST,
    HORIZONTAL_KEYS,
    HORIZONTAL_SCHEME,
    SECRET_KEY,
    SECRET_KEY_FALLBACKS,
    env,
)


def _refuse_unsafe_values() -> None:
    """A plain-http base URL, a secret published in this repository, a malformed key."""
    if HORIZONTAL_SCHEME != "https" or not HORIZONTAL_BASE_HOST:
        raise ImproperlyConfigured(
            f"{_refusal}: HORIZONTAL_BASE_URL must be an https:// URL with a host name "
            f"(it is {os.environ['HORIZONTAL_BASE_URL']!r})."
        )
    secret_keys = [("DJANGO_SECRET_KEY", SECRET_KEY)]
    secret_keys += [("DJANGO_SECRET_KEY_FALLBACKS", key) for key in SECRET_KEY_FALLBACKS]
    for name, key in secret_keys:
        if key in published.SECRET_KEYS:
            raise ImproperlyConfigured(
                f"{_refusal}: {name} holds the secret key published in "
                f"config/settings/{published.SECRET_KEYS[key]}; generate a new one."
            )
    if not HORIZONTAL_KEYS:
        raise ImproperlyConfigured(
            f"{_refusal}: HORIZONTAL_KEYS lists no key; confidential spaces cannot be encrypted."
        )
    # Compared as bytes, so another spelling of a published key (standard base64) is refused too.
    published_keks = {
        base64.urlsafe_b64decode(key): where for key, where in published.HORIZONTAL_KEYS.items()
    }
    for position, key in enumerate(HORIZONTAL_KEYS, start=1):
        try:
            raw = base64.urlsafe_b64decode(key)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32:
            raise ImproperlyConfigured(
                f"{_refusal}: HORIZONTAL_KEYS entry {position} is not 32 bytes in base64 "
                "(config/settings/base.py shows how to make one)."
            )
        if raw in published_keks:
            raise ImproperlyConfigured(
                f"{_refusal}: HORIZONTAL_KEYS entry {position} is the key published in "
                f"config/settings/{published_keks[raw]}; generate a new one as "
                "config/settings/base.py explains."
            )


_refuse_unsafe_values()

DEBUG = False
# Behind a reverse proxy: how many proxies append to X-Forwarded-For (required, so that per-IP
# sign-in limits see clients, not the proxy, and a forged header cannot reset them).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = True
# Institutions' OpenID Providers over https:// only (issuer, keys, token and userinfo endpoints).
HORIZONTAL_OIDC_REQUIRE_HTTPS = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way decision for the society's domain, taken by its operators.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
