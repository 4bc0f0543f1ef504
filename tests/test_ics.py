"""RFC 5545/5546 details that calendar clients trip over, checked with two independent
parsers (icalendar and vobject) on the bytes we write."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from connector.core.calendar import CalendarEvent, Party, session_uid, to_ics

BRUSSELS = ZoneInfo("Europe/Brussels")
STAMP = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def event(start: datetime, end: datetime, **changes) -> CalendarEvent:
    values = dict(
        uid=session_uid("leren-switchen", "S-1", "lerenswitchen.be"),
        summary="Switching Talent – Leeruitwisselingsdag: Naaiatelier (Atelier Groenkracht)",
        description="Leervraag: hoe werkt een atelier met kleine reeksen?\nCoach: Ayşe Yılmaz – Naaiatelier\nKeuken, planning; \\ überall",
        start=start.astimezone(UTC), end=end.astimezone(UTC), timezone="Europe/Brussels",
        location="Zelebaan 42, 9160 Lokeren", organizer=Party(email="switch@lerenswitchen.be", name="Projectleider"),
        attendees=[Party(email="marieke@groenkracht.be", name="Marieke Janssens"), Party(email="nele@zonneke.be", name="Nele Geerts")],
        kind="exchange_day",
    )
    values.update(changes)
    return CalendarEvent(**values)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BRUSSELS)


@pytest.mark.parametrize("start, expected_utc", [
    (local(2026, 3, 27, 9, 0), datetime(2026, 3, 27, 8, 0, tzinfo=UTC)),    # before the March switch: UTC+1
    (local(2026, 3, 30, 9, 0), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)),    # after it: UTC+2
    (local(2026, 10, 23, 8, 0), datetime(2026, 10, 23, 6, 0, tzinfo=UTC)),  # before the October switch: UTC+2
    (local(2026, 10, 26, 8, 0), datetime(2026, 10, 26, 7, 0, tzinfo=UTC)),  # after it: UTC+1
])
def test_both_parsers_place_sessions_correctly_around_dst_switches(start, expected_utc):
    data = to_ics(event(start, start.replace(hour=16)), "REQUEST", 0, STAMP)
    assert b"DTSTART;TZID=Europe/Brussels:" in data
    parsed = icalendar.Calendar.from_ical(data)
    assert parsed.walk("VEVENT")[0].decoded("DTSTART").astimezone(UTC) == expected_utc
    # vobject resolves TZID through the VTIMEZONE we wrote (its RRULEs), not through a tz database.
    card = vobject.readOne(data.decode("utf-8"))
    assert card.vevent.dtstart.value.astimezone(UTC) == expected_utc


def test_vtimezone_uses_yearly_rules_for_standard_and_daylight():
    data = to_ics(event(local(2027, 5, 11, 8, 30), local(2027, 5, 11, 16)), "REQUEST", 0, STAMP).decode()
    timezone = data[data.index("BEGIN:VTIMEZONE"):data.index("END:VTIMEZONE")]
    assert "TZID:Europe/Brussels" in timezone
    assert "BEGIN:DAYLIGHT" in timezone and "BEGIN:STANDARD" in timezone
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in timezone
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in timezone
    assert "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200" in timezone


def test_lines_are_crlf_folded_at_75_octets_and_the_message_ends_cleanly():
    data = to_ics(event(local(2026, 3, 27, 9), local(2026, 3, 27, 16, 30)), "REQUEST", 3, STAMP)
    assert data.endswith(b"END:VCALENDAR\r\n") and not data.endswith(b"\r\n\r\n")
    lines = data.split(b"\r\n")[:-1]
    assert all(b"\n" not in line and b"\r" not in line for line in lines)
    assert max(len(line) for line in lines) <= 75
    assert any(line.startswith(b" ") for line in lines)  # the long description really was folded
    for line in lines:
        line.decode("utf-8")  # folding never splits a multi-byte character


def test_text_round_trips_with_escaped_commas_semicolons_backslashes_and_newlines():
    original = event(local(2026, 3, 27, 9), local(2026, 3, 27, 16, 30))
    data = to_ics(original, "REQUEST", 0, STAMP)
    assert b"Keuken\\, planning\\; \\\\ " in data.replace(b"\r\n ", b"")
    for description in (icalendar.Calendar.from_ical(data).walk("VEVENT")[0]["DESCRIPTION"],
                        vobject.readOne(data.decode()).vevent.description.value):
        assert str(description) == original.description
    assert str(icalendar.Calendar.from_ical(data).walk("VEVENT")[0]["LOCATION"]) == "Zelebaan 42, 9160 Lokeren"


def test_user_text_cannot_inject_properties():
    hostile = event(local(2026, 3, 27, 9), local(2026, 3, 27, 16), summary="Dag\r\nATTENDEE:mailto:evil@x.example",
                    description="x\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil",
                    attendees=[Party(email="a@b.be", name='Jan "Baas"\r\nATTENDEE;CN=x:mailto:evil@x.example')])
    data = to_ics(hostile, "REQUEST", 0, STAMP)
    unfolded = data.replace(b"\r\n ", b"")
    assert unfolded.count(b"\r\nBEGIN:VEVENT") == 1
    assert not any(line.startswith(b"ATTENDEE:mailto:evil") or line.startswith(b"UID:evil") for line in unfolded.split(b"\r\n"))
    parsed = vobject.readOne(data.decode())
    assert [a.value for a in parsed.vevent.attendee_list] == ["mailto:a@b.be"]
    assert parsed.vevent.summary.value == "Dag\nATTENDEE:mailto:evil@x.example"


def test_request_carries_attendees_that_can_answer():
    data = to_ics(event(local(2026, 3, 27, 9), local(2026, 3, 27, 16)), "REQUEST", 0, STAMP)
    vevent = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    attendees = vevent["ATTENDEE"]
    assert [str(a) for a in attendees] == ["mailto:marieke@groenkracht.be", "mailto:nele@zonneke.be"]
    for attendee in attendees:
        assert (attendee.params["ROLE"], attendee.params["PARTSTAT"], attendee.params["RSVP"]) == ("REQ-PARTICIPANT", "NEEDS-ACTION", "TRUE")
    assert str(vevent["ORGANIZER"]) == "mailto:switch@lerenswitchen.be"
    assert vevent.decoded("DTSTAMP") == STAMP


def test_cancel_keeps_uid_and_carries_the_higher_sequence():
    original = event(local(2026, 3, 27, 9), local(2026, 3, 27, 16))
    request = icalendar.Calendar.from_ical(to_ics(original, "REQUEST", 0, STAMP))
    cancel = icalendar.Calendar.from_ical(to_ics(original, "CANCEL", 1, STAMP))
    assert (str(request["METHOD"]), str(cancel["METHOD"])) == ("REQUEST", "CANCEL")
    first, second = request.walk("VEVENT")[0], cancel.walk("VEVENT")[0]
    assert first["UID"] == second["UID"]
    assert (first["SEQUENCE"], second["SEQUENCE"]) == (0, 1)
    assert str(second["STATUS"]) == "CANCELLED"


def test_uid_is_stable_and_distinct_per_session():
    assert session_uid("p", "S-1", "h.be") == session_uid("p", "S-1", "h.be")
    assert session_uid("p", "S-1", "h.be") != session_uid("p", "S-2", "h.be")
    assert session_uid("p", "S-1", "h.be").endswith("@h.be")


def test_an_all_day_two_day_stay_uses_dates_with_an_exclusive_end():
    two_days = event(local(2026, 10, 23, 8), local(2026, 10, 24, 16), all_day=True)
    data = to_ics(two_days, "REQUEST", 0, STAMP)
    assert b"DTSTART;VALUE=DATE:20261023\r\n" in data and b"DTEND;VALUE=DATE:20261025\r\n" in data
    parsed = vobject.readOne(data.decode())
    assert str(parsed.vevent.dtstart.value) == "2026-10-23" and str(parsed.vevent.dtend.value) == "2026-10-25"
    vevent = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert (vevent.decoded("DTEND") - vevent.decoded("DTSTART")).days == 2


def test_the_example_exchange_days_as_all_day_events(sqlite_network):
    from datetime import date
    from zoneinfo import ZoneInfo

    from connector.engine.sync import run_sync

    text = sqlite_network.config_path.read_text()
    assert "all_day_exchange_days = false" in text
    sqlite_network.config_path.write_text(text.replace("all_day_exchange_days = false", "all_day_exchange_days = true"))
    run_sync(sqlite_network.config(), datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels")))
    day = icalendar.Calendar.from_ical((sqlite_network.out / "invitations" / "S-04-D1.ics").read_bytes()).walk("VEVENT")[0]
    assert (day.decoded("DTSTART"), day.decoded("DTEND")) == (date(2027, 5, 11), date(2027, 5, 12))
    intro = icalendar.Calendar.from_ical((sqlite_network.out / "invitations" / "S-04-INTRO.ics").read_bytes()).walk("VEVENT")[0]
    assert intro.decoded("DTSTART").hour == 10  # only exchange days become all-day
