"""Template filters every app uses: times shown in the reader's zone, with the zone named."""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from society import timezones
from society.timezones import zone_label

register = template.Library()

FORMATS = {
    "datetime": "D j M Y, H:i",
    "long": "l j F Y, H:i",
    "time": "H:i",
    "precise": "Y-m-d H:i:s",
    "seconds": "H:i:s",
}


@register.filter
def when(value: datetime | None, style: str = "datetime") -> str:
    """`{{ meeting.starts_at|when }}`: "Mon 7 Dec 2026, 09:00 PST" in the zone active for this
    page or e-mail (the reader's), the zone always named.
    Styles: datetime, long, time, precise, seconds."""
    if not isinstance(value, datetime):
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{date_format(local, FORMATS.get(style, FORMATS['datetime']))} {zone_label(local)}"


@register.filter
def own_clock(value: datetime | None) -> str:
    """A time already converted to someone else's zone, printed as it is ("06:00 PDT"): the
    poll shows each member's own local hour, not the reader's."""
    if not isinstance(value, datetime):
        return ""
    return f"{value:%H:%M} {zone_label(value)}"


@register.filter
def zone_name(value: str) -> str:
    """A zone as members read it ("America/Los Angeles"), as the account page lists it."""
    return timezones.zone_name(value or "UTC")


@register.filter
def article(word: str) -> str:
    """`word` with "a" or "an" before it: "an evaluator", "a member"."""
    word = str(word)
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


LINK = re.compile(r"https?://[^\s<>\"']+")
TRAILING = ".,;:!?)]'\""


@register.filter(is_safe=True)
def links(value: str) -> SafeString:
    """Plain text as HTML: escaped, with the full http(s) URLs in it (the links we write)
    made clickable, and nothing else: a name or title that looks like a domain stays text."""
    text, parts, last = str(value), [], 0
    for match in LINK.finditer(text):
        url = match.group(0).rstrip(TRAILING)
        end = match.start() + len(url)
        parts += [escape(text[last : match.start()]), format_html('<a href="{0}">{0}</a>', url)]
        last = end
    parts.append(escape(text[last:]))
    return mark_safe("".join(parts))  # every piece escaped above
