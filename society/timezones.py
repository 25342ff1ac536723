"""Time zones: the ones a member may choose, and reading a stored one without ever raising.

Every date-time is stored in UTC. Pages show times in the reader's own zone
(`society.middleware.TimeZoneMiddleware` activates it for each request), e-mails in the
recipient's (`timezone.override(zone_get(...))` around rendering), and the zone is always
named next to the time (the `when` filter in `society.templatetags.horizontal`).
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, available_timezones

# IANA's geographic areas: "America/Los_Angeles" yes, "US/Pacific", "posix/...", "Etc/GMT+5" no.
AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
UTC = ZoneInfo("UTC")


@lru_cache(maxsize=1)
def _area_names() -> frozenset[str]:
    """Every Area/Location name this machine's time zone data knows, old aliases included
    ("Asia/Calcutta" for "Asia/Kolkata"): a stored one is read, never refused."""
    return frozenset(name for name in available_timezones() if name.split("/", 1)[0] in AREAS)


def _canonical_names() -> set[str] | None:
    """The zones IANA lists by country in zone.tab (no old aliases), from the same time zone
    data Python reads (the system's, else the tzdata package's); None if it has none."""
    candidates = [Path(folder) / "zone.tab" for folder in TZPATH]
    with contextlib.suppress(ModuleNotFoundError):
        candidates.append(Path(str(files("tzdata").joinpath("zoneinfo", "zone.tab"))))
    for path in candidates:
        if path.is_file():
            rows = (line.split("\t") for line in path.read_text().splitlines())
            return {row[2].strip() for row in rows if len(row) > 2 and not row[0].startswith("#")}
    return None


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """The zones a member may choose: UTC, then each IANA zone of zone.tab (one name per
    place: "Asia/Kolkata", not also its old alias "Asia/Calcutta"), sorted."""
    canonical = _canonical_names()
    names = _area_names() if canonical is None else _area_names() & canonical
    return ("UTC", *sorted(names))


def zone_is_valid(name: object) -> bool:
    """Whether `name` is a zone we read: one we offer, or an old alias of one."""
    return isinstance(name, str) and name in _zone_set()


@lru_cache(maxsize=1)
def _zone_set() -> frozenset[str]:
    return frozenset({"UTC", *_area_names()})


def zone_get(name: object) -> ZoneInfo:
    """The zone called `name`, or UTC for anything that is not a zone we offer (a bad string
    stored by an old version or typed into the shell never turns into a 500)."""
    if not zone_is_valid(name):
        return UTC
    return ZoneInfo(name)  # type: ignore[arg-type]


def zone_label(moment: datetime) -> str:
    """How a time names its zone: the zone's abbreviation where it has a lettered one
    ("PST", "JST", "BST"), else the offset from UTC ("UTC+05:30", "UTC-03")."""
    abbreviation = moment.tzname() or ""
    if abbreviation and abbreviation[0].isalpha():
        return abbreviation
    offset = moment.utcoffset()
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}" + (f":{rest:02d}" if rest else "")


def zone_name(key: str) -> str:
    """A zone as members read it: "America/Los Angeles", as the account page lists it."""
    return key.replace("_", " ")
