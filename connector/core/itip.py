"""Attendees' answers to an invitation, read from iCalendar (RFC 5545) as a calendar server or
a mail program hands them to the organizer.

An answer is an ATTENDEE's PARTSTAT (RFC 5545 section 3.2.12) on an event identified by its UID:
in the organizer's copy on a scheduling CalDAV server (RFC 6638 section 3.2.2.1: the server
writes each attendee's reply into it), or in an iTIP REPLY sent by e-mail (RFC 5546 section
3.2.3, carried as RFC 6047 iMIP). They are named in the vocabulary Microsoft Graph uses for
`attendee.status.response`, so every calendar target reports answers alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from icalendar import Calendar

# RFC 5545 section 3.2.12 participation status (VEVENT values) -> Graph's responseType.
RESPONSES = {
    "ACCEPTED": "accepted",
    "DECLINED": "declined",
    "TENTATIVE": "tentativelyAccepted",
    "NEEDS-ACTION": "notResponded",  # the default when PARTSTAT is absent
}
NO_ANSWER = "none"  # DELEGATED and values we do not know: nothing the attendance rules act on


@dataclass(frozen=True)
class Answer:
    """One attendee's answer in one event: `attendee` is the address, lower case, without
    `mailto:`; `sequence` the event's SEQUENCE (0 when absent)."""

    uid: str
    attendee: str
    response: str
    sequence: int = 0


@dataclass(frozen=True)
class CalendarAnswers:
    """What one iCalendar object says: its METHOD (upper case, "" for a stored object without
    one) and the answer of every attendee of every VEVENT."""

    method: str
    answers: list[Answer]


def response_of(partstat: str | None) -> str:
    """Graph's response for a PARTSTAT value (absent means NEEDS-ACTION, RFC 5545 3.2.12)."""
    return RESPONSES.get((partstat or "NEEDS-ACTION").strip().upper(), NO_ANSWER)


def address_of(value: object) -> str:
    """The e-mail address of a CAL-ADDRESS (`mailto:X@Y`, any case), lower case."""
    text = str(value).strip()
    return (text[7:] if text.lower().startswith("mailto:") else text).strip().lower()


def read_answers(data: bytes | str) -> CalendarAnswers:
    """The METHOD and the attendees' answers of an iCalendar stream. Raises ValueError when it
    is not iCalendar, or a VEVENT lacks its UID."""
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as error:  # icalendar raises these on broken input
        raise ValueError(f"not readable as iCalendar: {error}") from error
    if not isinstance(calendar, Calendar):
        raise ValueError("not readable as iCalendar: no VCALENDAR")
    found: list[Answer] = []
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("UID", "")).strip()
        if not uid:
            raise ValueError("a VEVENT without UID")
        try:
            sequence = int(event.get("SEQUENCE", 0))
        except (TypeError, ValueError):
            sequence = 0
        attendees = event.get("ATTENDEE", [])
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            address = address_of(attendee)
            if address:
                found.append(Answer(uid, address, response_of(attendee.params.get("PARTSTAT")), sequence))
    return CalendarAnswers(str(calendar.get("METHOD", "")).strip().upper(), found)
