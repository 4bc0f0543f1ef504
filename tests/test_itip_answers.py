"""Reading attendees' answers from iCalendar (connector.core.itip), checked on objects written by
vobject, an iCalendar writer we do not use: PARTSTAT (RFC 5545 section 3.2.12) to Graph's words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import vobject

from connector.core.itip import read_answers, response_of


def reply(*attendees: tuple[str, str | None], method: str = "REPLY", sequence: int | None = 2) -> bytes:
    calendar = vobject.iCalendar()
    calendar.add("method").value = method
    event = calendar.add("vevent")
    event.add("uid").value = "abc@lerenswitchen.be"
    event.add("dtstamp").value = datetime(2026, 12, 1, 9, tzinfo=ZoneInfo("UTC"))
    event.add("dtstart").value = datetime(2027, 5, 11, 8, 30, tzinfo=ZoneInfo("UTC"))
    if sequence is not None:
        event.add("sequence").value = str(sequence)
    event.add("organizer").value = "mailto:switch@lerenswitchen.be"
    for address, partstat in attendees:
        attendee = event.add("attendee")
        attendee.value = address
        if partstat is not None:
            attendee.params["PARTSTAT"] = [partstat]
    return calendar.serialize().encode()


@pytest.mark.parametrize(("partstat", "response"), [("ACCEPTED", "accepted"), ("DECLINED", "declined"), ("declined", "declined"),
                                                    ("TENTATIVE", "tentativelyAccepted"), ("NEEDS-ACTION", "notResponded"),
                                                    (None, "notResponded"), ("DELEGATED", "none"), ("X-MAYBE", "none")])
def test_partstat_becomes_graphs_response(partstat, response):
    read = read_answers(reply(("MAILTO:Amelie.Dubois@LesPetitsPas.be", partstat)))
    assert read.method == "REPLY"
    assert [(a.uid, a.attendee, a.response, a.sequence) for a in read.answers] == \
        [("abc@lerenswitchen.be", "amelie.dubois@lespetitspas.be", response, 2)]
    assert response_of(partstat) == response


def test_every_attendee_of_a_stored_object_and_no_method():
    data = reply(("mailto:a@x.be", "ACCEPTED"), ("mailto:b@x.be", None), sequence=None).replace(b"METHOD:REPLY\r\n", b"")
    read = read_answers(data)
    assert read.method == "" and [(a.attendee, a.response, a.sequence) for a in read.answers] == \
        [("a@x.be", "accepted", 0), ("b@x.be", "notResponded", 0)]


@pytest.mark.parametrize("broken", [b"not a calendar", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nATTENDEE:mailto:x@y\r\n",
                                    b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nATTENDEE:mailto:x@y\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"])
def test_what_cannot_be_read_is_a_value_error(broken):
    with pytest.raises(ValueError):
        read_answers(broken)
