"""Production settings: HTTPS, strict cookies, HSTS; hosts and secrets from the environment."""

from .base import *  # noqa: F403

DEBUG = False
# Behind a reverse proxy: how many proxies append to X-Forwarded-For (required, so that per-IP
# sign-in limits see clients, not the proxy, and a forged header cannot reset them).
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT")  # noqa: F405
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)  # noqa: F405
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)  # noqa: F405
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)  # noqa: F405
if not SECURE_HSTS_PRELOAD:
    # Preloading is a one-way decision for the society's domain, taken by its operators.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

if not HORIZONTAL_KEYS:  # noqa: F405
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set HORIZONTAL_KEYS: confidential spaces cannot be encrypted.")
