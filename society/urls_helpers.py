"""The one place that builds links across hosts (society site <-> group spaces), and the one
that decides whether a redirect asked for by a request (`next`, `back`) stays on this site."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def group_host(slug: str) -> str:
    """The primary host name of a group, without port."""
    return f"{slug}.{settings.HORIZONTAL_BASE_HOST}"


def group_url(slug: str, path: str = "/") -> str:
    """Absolute URL of `path` inside a group's space, usable in e-mails and tasks."""
    return (
        f"{settings.HORIZONTAL_SCHEME}://{group_host(slug)}{settings.HORIZONTAL_PORT_SUFFIX}{path}"
    )


def society_url(path: str = "/") -> str:
    """Absolute URL of `path` on the society site (the base host)."""
    return f"{settings.HORIZONTAL_BASE_URL}{path}"


# A `next` or `back` longer than this is refused (no real page of ours has such an address).
REDIRECT_MAX_LENGTH = 2048


def _unsafe_character(ch: str) -> bool:
    # Browsers drop tabs and newlines anywhere in a URL and read "\" as "/", so "/\t/evil"
    # and "/\evil" both become "//evil"; NUL and other control characters have no place here.
    return ch == "\\" or ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F


def is_safe_redirect(url: object, *, path_only: bool = False) -> bool:
    """Whether sending a browser to `url` (a `next` or `back` parameter) keeps it on this site.

    True for a path on the current host ("/meetings/3/"), and, unless `path_only`, for an
    absolute URL with our scheme and port on the base host or a group host, without user
    name or password. Never raises: anything malformed (a port that is no number, a broken
    IPv6 bracket, an escape or a non-ASCII character in the host) is simply not safe.
    """
    if not isinstance(url, str) or not url or len(url) > REDIRECT_MAX_LENGTH:
        return False
    if any(_unsafe_character(ch) for ch in url):
        return False
    if url.startswith("/"):
        return not url.startswith("//")  # "//evil" is another host
    if path_only:
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # "http://x:abc/", "http://[::1/"
        return False
    netloc = parts.netloc
    if not netloc.isascii() or "%" in netloc or "@" in netloc:
        return False  # no lookalike hosts built from escapes, no credentials
    host = parts.hostname or ""
    base = settings.HORIZONTAL_BASE_HOST
    return (
        parts.scheme == settings.HORIZONTAL_SCHEME
        and (f":{port}" if port else "") == settings.HORIZONTAL_PORT_SUFFIX
        and (host == base or host.endswith("." + base))
    )


def safe_redirect_or(url: object, default: str, *, path_only: bool = False) -> str:
    """`url` if is_safe_redirect says so, else `default`."""
    if isinstance(url, str) and is_safe_redirect(url, path_only=path_only):
        return url
    return default
