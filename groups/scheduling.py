"""Finding a meeting time across time zones, and writing meetings as iCalendar.

Times are stored in UTC and shown in each person's own zone (zoneinfo handles daylight saving).
A time is ranked by how it treats the worst-placed member: the hours of the meeting that fall
outside 8:00-20:00 in that member's zone, then by how many can come.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from society.timezones import zone_get

DAY_START, DAY_END = 8, 20  # the civil hours we ask people to meet in


def zone_of(user) -> ZoneInfo:
    """`user`'s own zone; UTC for a stored string that is not one we offer."""
    return zone_get(getattr(user, "time_zone", None))


def hours_outside_day(starts_at: datetime, minutes: int, zone: ZoneInfo) -> float:
    """How many hours of the meeting fall outside 8:00-20:00 local time."""
    outside = 0
    step = timedelta(minutes=15)
    moment = starts_at
    while moment < starts_at + timedelta(minutes=minutes):
        local = moment.astimezone(zone)
        if not DAY_START <= local.hour + local.minute / 60 < DAY_END:
            outside += 15
        moment += step
    return outside / 60


@dataclass
class SlotRank:
    slot: object
    available: list = field(default_factory=list)
    unavailable: list = field(default_factory=list)
    silent: list = field(default_factory=list)
    flagged: list = field(default_factory=list)  # (user, local time) outside 8:00-20:00
    worst_hours_outside: float = 0.0

    @property
    def sort_key(self) -> tuple:
        return (self.worst_hours_outside, -len(self.available), self.slot.starts_at)


def rank_slots(slots, members, votes, duration_minutes: int) -> list[SlotRank]:
    """Rank a poll's slots; `votes` maps (slot id, user id) -> available."""
    ranks = []
    for slot in slots:
        rank = SlotRank(slot=slot)
        for user in members:
            zone = zone_of(user)
            answer = votes.get((slot.pk, user.pk))
            (
                rank.available if answer else rank.silent if answer is None else rank.unavailable
            ).append(user)
            outside = hours_outside_day(slot.starts_at, duration_minutes, zone)
            if outside:
                rank.flagged.append((user, slot.starts_at.astimezone(zone)))
            rank.worst_hours_outside = max(rank.worst_hours_outside, outside)
        ranks.append(rank)
    return sorted(ranks, key=lambda r: r.sort_key)


def calendar_method(meeting) -> str:
    """The iTIP method of one meeting's .ics: CANCEL once cancelled, REQUEST once changed
    (the same UID with a higher SEQUENCE replaces the event), PUBLISH as first sent."""
    if meeting.cancelled_at is not None:
        return "CANCEL"
    return "REQUEST" if meeting.sequence else "PUBLISH"


def meeting_calendar(
    meetings, *, group_name: str, uid_domain: str, url_of, method: str = "PUBLISH"
) -> bytes:
    """An iCalendar document with one event per meeting (UTC times; no confidential text).

    Each event keeps its UID for good and carries the meeting's SEQUENCE; a cancelled meeting
    is STATUS:CANCELLED (so a feed removes it too).
    """
    calendar = Calendar()
    calendar.add("prodid", "-//Horizontal//Peer mentorship//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    calendar.add("x-wr-calname", f"{group_name} meetings")
    for meeting in meetings:
        event = Event()
        event.add("uid", f"meeting-{meeting.pk}@{uid_domain}")
        event.add("dtstamp", meeting.cancelled_at or meeting.created_at)
        event.add("sequence", meeting.sequence)
        event.add("status", "CANCELLED" if meeting.cancelled_at else "CONFIRMED")
        event.add("dtstart", meeting.starts_at)
        event.add("dtend", meeting.starts_at + timedelta(minutes=meeting.duration_minutes))
        event.add("summary", f"{group_name}: {meeting.title}")
        if meeting.place:
            event.add("location", meeting.place)
        elif meeting.link:
            event.add("location", meeting.link)
        event.add("url", url_of(meeting))
        calendar.add_component(event)
    return calendar.to_ical()
