"""Issue 19, item 3: property-based tests (Hypothesis) of the readers, the mapping engine and
the ICS writer. Whatever bytes or odd-but-well-formed rows come in, nothing is raised but a
SourceUnavailable (the whole file) or a RecordError (one record), and what is accepted
round-trips. A fixed budget (derandomized, no deadline) keeps CI time small and runs the same
examples everywhere."""

from __future__ import annotations

import csv
import io
import random
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from connector.core.calendar import CalendarEvent, Party, session_uid, to_ics
from connector.core.errors import RecordError, SourceUnavailable
from connector.core.mapping import load_mapping
from connector.core.model import ENTITY_MODELS
from connector.plumbing.tabular import open_table

BUDGET = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
PEOPLE = load_mapping("files").entity("people")
HEADERS = sorted({name for rule in PEOPLE.rules for name in rule.paths + rule.join})

# Text a person could type: any letter, digit, punctuation, symbol or space in any script,
# with the characters that make CSV hard (quotes, delimiters, line breaks) made likely.
TYPED = st.text(st.one_of(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff"),
                          st.sampled_from(list('";,\t\n é€'))), max_size=30)


def _read(path: Path, headers=()) -> list:
    """Everything open_table yields; only SourceUnavailable may escape."""
    try:
        table = open_table(path, headers=headers)
        return list(table.rows)
    except SourceUnavailable:
        return []


@BUDGET
@given(data=st.binary(max_size=4000), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_any_bytes_are_rows_or_a_source_problem(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"medewerkers{suffix}"
        path.write_bytes(data)
        for row in _read(path, HEADERS):
            assert row.problem is not None or isinstance(row.cells, dict)


def _workbook_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["Personeelsnummer", "Voornaam", "Familienaam"])
    for number in range(30):
        workbook.active.append([f"Z{number:03}", "Els", "Peeters", 0.8, datetime(2020, 1, 1)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


WORKBOOK = _workbook_bytes()


@BUDGET
@given(seed=st.integers(0, 2**32 - 1), flips=st.integers(1, 40), cut=st.one_of(st.none(), st.integers(30, len(WORKBOOK))))
def test_a_damaged_workbook_is_rows_or_a_source_problem(seed, flips, cut):
    """Bytes flipped inside the archive's members (its directory at the end left intact, so the
    damage shows only while reading a sheet), or the file cut short."""
    damaged = bytearray(WORKBOOK if cut is None else WORKBOOK[:cut])
    chance = random.Random(seed)
    members_end = len(damaged) - 1200 if cut is None else len(damaged)
    for _ in range(flips if cut is None else 0):
        damaged[chance.randrange(30, members_end)] = chance.randrange(256)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "medewerkers.xlsx"
        path.write_bytes(bytes(damaged))
        _read(path, HEADERS)


@BUDGET
@given(header=st.lists(st.text("ABCDEFGHIJ klmnop", min_size=1, max_size=8).map(str.strip).filter(bool),
                       min_size=1, max_size=5, unique_by=str.casefold),
       body=st.lists(st.lists(TYPED, min_size=0, max_size=6), max_size=8),
       delimiter=st.sampled_from([";", ",", "\t"]), encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_odd_but_well_formed_csv_round_trips(header, body, delimiter, encoding):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(body)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "lijst.csv"
        path.write_bytes(buffer.getvalue().encode(encoding))
        if len(header) == 1 and delimiter != ";" and encoding != "utf-16":
            return  # one column has no delimiter to recognise: read as ';' (the Belgian default), by design
        rows = _read(path)
    expected = [{name: (cells[i] if i < len(cells) else None) for i, name in enumerate(header)}
                for cells in body if any(c.strip() for c in cells)]  # blank rows are skipped
    assert [r.cells for r in rows] == expected


RAW_VALUE = st.one_of(st.none(), TYPED, st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                      st.booleans(), st.dates(), st.datetimes(), st.text(max_size=20))


@BUDGET
@given(raw=st.fixed_dictionaries({}, optional={name: RAW_VALUE for name in HEADERS}))
def test_the_mapping_engine_raises_only_record_errors_and_what_it_accepts_is_canonical(raw):
    try:
        record = PEOPLE.validate(PEOPLE.apply(raw))
    except RecordError as error:
        assert error.field and error.message
        return
    again = ENTITY_MODELS["people"].model_validate(record).model_dump(mode="json", exclude_none=True)
    assert again == record  # accepted values are canonical: validating them again changes nothing


PLAIN = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=80).filter(str.strip)
MULTILINE = st.text(st.one_of(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), st.sampled_from(["\n", "\t", ",", ";", "\\"])),
                    max_size=300)
ADDRESS = st.from_regex(r"[a-z0-9]{1,12}@[a-z0-9]{1,10}\.(be|com)", fullmatch=True)


@BUDGET
@given(code=st.text("ABCDEFGHIJ-0123456789", min_size=1, max_size=12), summary=PLAIN, description=MULTILINE,
       location=st.one_of(st.none(), PLAIN), name=PLAIN, email=ADDRESS,
       start=st.datetimes(datetime(1990, 1, 1), datetime(2099, 12, 1)), minutes=st.integers(5, 60 * 24),
       method=st.sampled_from(["REQUEST", "CANCEL", None]), sequence=st.integers(0, 10_000))
def test_any_session_text_round_trips_through_the_ics_writer(code, summary, description, location, name, email, start, minutes,
                                                            method, sequence):
    begin = start.replace(second=0, microsecond=0, tzinfo=UTC)
    event = CalendarEvent(uid=session_uid("leren-switchen", code, "lerenswitchen.be"), summary=summary, description=description,
                          start=begin, end=begin + timedelta(minutes=minutes), timezone="Europe/Brussels", location=location,
                          organizer=Party(email="switch@lerenswitchen.be", name="Projectleider"),
                          attendees=[Party(email=email, name=name)], kind="exchange_day")
    data = to_ics(event, method, sequence, datetime(2026, 1, 1, tzinfo=UTC), cancelled=method == "CANCEL")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))  # folded at 75 octets
    (parsed,) = [c for c in icalendar.Calendar.from_ical(data).walk("VEVENT")]
    assert str(parsed["UID"]) == event.uid and str(parsed["SUMMARY"]) == summary
    assert str(parsed.get("DESCRIPTION", "")) == description
    assert parsed["DTSTART"].dt.astimezone(UTC) == begin and int(parsed["SEQUENCE"]) == sequence
    if location is not None:
        assert str(parsed["LOCATION"]) == location
    (attendee,) = [a for a in (parsed.get("ATTENDEE") if isinstance(parsed.get("ATTENDEE"), list) else [parsed.get("ATTENDEE")])]
    assert str(attendee).lower() == f"mailto:{email}"

