"""Calendar events in one sink-neutral form, and their RFC 5545/5546 rendering.

The planner describes a session as a CalendarEvent (what every calendar sink needs);
`to_ics` renders it as an iTIP message (METHOD:REQUEST or CANCEL). The .ics file sink
uses it today; iMIP mail and CalDAV render the same event.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vCalAddress,
    vText,
)
from pydantic import BaseModel

UID_NAMESPACE = uuid.UUID("6f1c4a52-2d7e-4f0a-9a43-1f1e5b7c9d20")
PRODID = "-//Switching Talent Connector//st-connector//EN"
_UNSAFE_PARAMETER = re.compile(r'[\x00-\x1f\x7f"]')


class Party(BaseModel):
    email: str
    name: str
    role: str = "REQ-PARTICIPANT"
    language: str = "nl"
    organisation: str | None = None


class CalendarEvent(BaseModel):
    uid: str
    summary: str
    description: str
    start: datetime  # aware, UTC
    end: datetime
    timezone: str
    location: str | None = None
    online: bool = False
    organizer: Party
    attendees: list[Party]
    kind: str
    language: str = "nl"
    all_day: bool = False  # a whole day on site: DTSTART;VALUE=DATE and an exclusive DTEND


def session_uid(partner_id: str, session_code: str, host: str) -> str:
    """Stable across runs, machines and a lost store: derived from the cohort's own codes."""
    return f"{uuid.uuid5(UID_NAMESPACE, f'{partner_id}/{session_code}')}@{host}"


def _parameter_text(value: str) -> str:
    # Parameter values cannot carry quotes or line breaks; a name never needs them.
    return " ".join(_UNSAFE_PARAMETER.sub(" ", value).split())


def _address(party: Party, organizer: bool, schedule_agent: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{party.email}")
    address.params["CN"] = vText(_parameter_text(party.name))
    if not organizer:
        address.params["CUTYPE"] = vText("INDIVIDUAL")
        address.params["ROLE"] = vText(party.role)
        address.params["PARTSTAT"] = vText("NEEDS-ACTION")
        address.params["RSVP"] = vText("TRUE")
        if schedule_agent is not None:
            address.params["SCHEDULE-AGENT"] = vText(schedule_agent)
    return address


def to_ics(event: CalendarEvent, method: str | None, sequence: int, stamp: datetime, cancelled: bool = False,
           uninvited: bool = False, schedule_agent: str | None = None) -> bytes:
    """An iTIP message with one VEVENT (RFC 5546); CANCEL keeps UID and raises SEQUENCE.
    Without a method it is a stored calendar object (CalDAV, RFC 4791), which carries none.
    `uninvited`: a CANCEL to the attendees it lists only, while the event goes on for the
    others: it carries no STATUS (RFC 5546 section 3.2.5).
    `schedule_agent` marks every ATTENDEE with SCHEDULE-AGENT (RFC 6638 section 7.1), for stored
    objects only: CLIENT tells a scheduling server that we invite the attendees ourselves.
    iTIP messages never carry it, so they stay as they were."""
    zone = ZoneInfo(event.timezone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method is not None:
        calendar.add("method", method)
    calendar.add_component(vtimezone(event.timezone, [event.start, event.end]))
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("sequence", sequence)
    vevent.add("dtstamp", stamp.astimezone(UTC))
    if event.all_day:
        first, last = event.start.astimezone(zone).date(), event.end.astimezone(zone).date()
        vevent.add("dtstart", first)
        vevent.add("dtend", last + timedelta(days=1))  # DTEND of a date is exclusive (RFC 5545 3.6.1)
        vevent.add("transp", "OPAQUE")
    else:
        vevent.add("dtstart", event.start.astimezone(zone))
        vevent.add("dtend", event.end.astimezone(zone))
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if not uninvited:
        vevent.add("status", "CANCELLED" if method == "CANCEL" or cancelled else "CONFIRMED")
    if not event.all_day:
        vevent.add("transp", "OPAQUE")
    vevent.add("class", "PUBLIC")
    vevent.add("organizer", _address(event.organizer, organizer=True))
    for attendee in event.attendees:
        vevent.add("attendee", _address(attendee, organizer=False, schedule_agent=schedule_agent))
    vevent.add("x-st-kind", event.kind)
    calendar.add_component(vevent)
    return calendar.to_ical()


# -- VTIMEZONE ---------------------------------------------------------------------------
# Outlook and older clients want STANDARD/DAYLIGHT with RRULEs rather than a list of dates.
# EU zones follow one rule since 1996: summer time from the last Sunday of March to the
# last Sunday of October, switching at 01:00 UTC. We check that rule against the tz
# database for the years in use and fall back to the library's generator where it fails.

def vtimezone(tzid: str, moments: list[datetime]) -> Timezone:
    years = sorted({m.year for m in moments}) or [datetime.now(UTC).year]
    if _follows_eu_rule(tzid, years):
        return _eu_vtimezone(tzid, years[0])
    return Timezone.from_tzid(tzid)


def _last_sunday(year: int, month: int) -> datetime:
    day = datetime(year, month + 1, 1, 1, tzinfo=UTC) - timedelta(days=1) if month < 12 else datetime(year, 12, 31, 1, tzinfo=UTC)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def _follows_eu_rule(tzid: str, years: list[int]) -> bool:
    zone = ZoneInfo(tzid)
    for year in years:
        winter = datetime(year, 1, 15, tzinfo=UTC).astimezone(zone).utcoffset()
        summer = datetime(year, 7, 15, tzinfo=UTC).astimezone(zone).utcoffset()
        if winter is None or summer is None or summer - winter != timedelta(hours=1):
            return False
        for month, before, after in ((3, winter, summer), (10, summer, winter)):
            switch = _last_sunday(year, month)
            if (switch - timedelta(minutes=1)).astimezone(zone).utcoffset() != before:
                return False
            if switch.astimezone(zone).utcoffset() != after:
                return False
    return True


def _eu_vtimezone(tzid: str, year: int) -> Timezone:
    zone = ZoneInfo(tzid)
    winter = datetime(year, 1, 15, tzinfo=UTC).astimezone(zone)
    summer = datetime(year, 7, 15, tzinfo=UTC).astimezone(zone)
    standard_offset, daylight_offset = winter.utcoffset(), summer.utcoffset()
    assert standard_offset is not None and daylight_offset is not None
    timezone = Timezone()
    timezone.add("tzid", tzid)
    parts = (
        ("DAYLIGHT", daylight_offset, standard_offset, summer.tzname(), 3),
        ("STANDARD", standard_offset, daylight_offset, winter.tzname(), 10),
    )
    for name, offset_to, offset_from, abbreviation, month in parts:
        part = TimezoneDaylight() if name == "DAYLIGHT" else TimezoneStandard()
        # DTSTART is local wall time of the first switch under this rule (1996 for October).
        first_year = 1981 if month == 3 else 1996
        switch_utc = _last_sunday(first_year, month)
        part.add("dtstart", (switch_utc + offset_from).replace(tzinfo=None))
        part.add("tzoffsetfrom", offset_from)
        part.add("tzoffsetto", offset_to)
        part.add("tzname", abbreviation)
        part.add("rrule", {"freq": "yearly", "bymonth": month, "byday": "-1su"})
        timezone.add_component(part)
    return timezone
