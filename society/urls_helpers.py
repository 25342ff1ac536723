"""The one place that builds links across hosts (society site <-> group spaces)."""

from __future__ import annotations

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
