"""A concluding group's export: its data as JSON, minutes as Markdown, meetings as .ics (zip).

Only for the group's own point-persons (groups.permissions.access_export). Confidential
entries are included decrypted: the export is the group's own copy, made before the space
is destroyed.
"""

from __future__ import annotations

import io
import json
import zipfile

from django.db import connection
from django.utils import timezone
from icalendar import Calendar

from .crypto import KeyDestroyed
from .models import ConfidentialEntry, Membership, Mission
from .services.confidential import confidential_entry_text


def _calendar(group_name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Horizontal//Peer mentorship//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{group_name} meetings")
    # Meetings are added here once groups schedule them (the group space work).
    return calendar.to_ical()


def group_export_zip() -> bytes:
    """Everything the group wrote, in open formats, as the bytes of a zip file."""
    group = connection.tenant
    members = [
        {
            "name": m.user.display_name,
            "email": m.user.email,
            "institution": m.user.institution.name if m.user.institution else None,
            "role": m.role,
            "joined": m.joined_at.date().isoformat(),
            "active": m.is_active,
        }
        for m in Membership.objects.select_related("user", "user__institution").order_by("pk")
    ]
    missions = [
        {"version": m.version, "text": m.text, "adopted": m.adopted_at.isoformat(), "note": m.note}
        for m in Mission.objects.order_by("version")
    ]
    confidential = []
    for entry in ConfidentialEntry.objects.select_related("author").order_by("pk"):
        try:
            text = confidential_entry_text(entry=entry)
        except KeyDestroyed:
            text = None
        confidential.append(
            {
                "author": entry.author.display_name,
                "written": entry.created_at.isoformat(),
                "peers_only": entry.peers_only,
                "text": text,
            }
        )
    data = {
        "group": {
            "name": group.name,
            "address": group.slug,
            "stage": group.stage,
            "lifecycle": group.lifecycle,
        },
        "exported_at": timezone.now().isoformat(),
        "members": members,
        "missions": missions,
        "confidential_entries": confidential,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("group.json", json.dumps(data, indent=2, ensure_ascii=False))
        archive.writestr("meetings.ics", _calendar(group.name))
        archive.writestr(
            "minutes/README.md",
            f"# Minutes of {group.name}\n\nOne Markdown file per meeting with minutes.\n",
        )
    return buffer.getvalue()
