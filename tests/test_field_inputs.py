"""Inputs as real people's tools make them (../shared/field-inputs/2026-11-29, copied into
tests/data/field-inputs): each case with the value that is right, on SQLite and PostgreSQL."""

from __future__ import annotations

import codecs
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from connector.core.config import SourceConfig
from connector.core.mapping import load_mapping
from connector.plumbing.tabular import decode_lines, read_table
from connector.sources import SourceContext
from connector.sources.files import FileSource
from connector.store.tables import Person
from tests.test_cli import cli
from tests.test_sync import query, sync

FIELD = Path(__file__).parent / "data" / "field-inputs"
PEOPLE = load_mapping("files").entity("people")


def people_rows(folder: Path) -> list:
    config = SourceConfig(name="hr", kind="files", entities=["people"], path=str(folder))
    source = FileSource(config, SourceContext(base_dir=Path("/"), as_of=datetime.now(UTC), runtime=None))  # type: ignore[arg-type]
    return list(source.pull(PEOPLE, None).records)


# -- spreadsheet cells ----------------------------------------------------------------------

def test_a_workbook_whose_declared_size_is_a1_is_read_whole():
    rows = list(read_table(FIELD / "groenkracht-medewerkers-stale-dimension.xlsx"))
    assert len(rows) == 10 and rows[-1].location == "groenkracht-medewerkers-stale-dimension.xlsx row 11"


def test_a_stale_sheet_size_removes_nobody(network):
    first = sync(network)
    assert first.pulled["people"]["created"] == 34
    shutil.copyfile(FIELD / "groenkracht-medewerkers-stale-dimension.xlsx", network.data / "groenkracht" / "medewerkers.xlsx")
    second = sync(network)
    assert second.pulled["people"]["removed"] == 0 and second.status == "ok", second.errors
    assert query(network, select(Person.employee_number).where(Person.organisation_id == "groenkracht", Person.active.is_(False))) == []


def test_an_employee_number_typed_as_a_number_is_the_same_identifier_as_text(network):
    shutil.copyfile(FIELD / "groenkracht-medewerkers-numeric-id.xlsx", network.data / "groenkracht" / "medewerkers.xlsx")
    network.edit_csv("cohort/leervragen.csv", "LV-06;groenkracht;G101;", "LV-06;groenkracht;1001;")
    summary = sync(network)
    # Only the training file, which still says G101, no longer finds him; LV-06 does.
    assert [(e.entity, e.message) for e in summary.errors] == [("training_records", "no employee 'G101' at groenkracht")]
    assert summary.pulled["training_records"]["failed"] == 1  # taken in by the pull, left out: not counted as new
    assert query(network, select(Person.first_name).where(Person.employee_number == "1001")) == [("Koen",)]


def test_a_number_cell_with_a_decimal_point_is_no_new_identifier(tmp_path):
    workbook = Workbook()
    workbook.active.append(["Personeelsnummer", "Voornaam", "Familienaam"])
    workbook.active.append([1001.0, "Koen", "Vermeulen"])
    workbook.save(tmp_path / "medewerkers.xlsx")
    (record,) = people_rows(tmp_path)
    mapped = PEOPLE.validate(PEOPLE.apply(record.raw))
    assert mapped["employee_number"] == "1001" and PEOPLE.remote_id(PEOPLE.apply(record.raw)) == "1001"


def test_an_error_cell_is_a_problem_naming_the_field_and_the_other_rows_go_through(tmp_path):
    path = tmp_path / "medewerkers.xlsx"
    workbook = Workbook()
    workbook.active.append(["Personeelsnummer", "Voornaam", "Familienaam"])
    workbook.active.append(["G1", "An", "Peeters"])
    workbook.active.append(["G2", "Bart", "=1/0"])
    workbook.save(path)
    # What Excel stores after computing the formula: the error value, typed as an error.
    workbook = load_workbook(path)
    workbook.active["C3"].value, workbook.active["C3"].data_type = "#DIV/0!", "e"
    workbook.save(path)
    first, second = people_rows(tmp_path)
    assert PEOPLE.apply(first.raw)["last_name"] == "Peeters"
    try:
        PEOPLE.apply(second.raw)
    except Exception as error:  # RecordError
        assert error.field == "last_name" and "#DIV/0!" in error.message
    else:
        raise AssertionError("an error cell was taken for a value")


# -- text encodings -------------------------------------------------------------------------

def test_a_file_mixing_utf8_and_windows_1252_names_the_line_and_keeps_the_good_rows(tmp_path):
    shutil.copyfile(FIELD / "petits-pas-medewerkers-mixed-encoding.csv", tmp_path / "medewerkers.csv")
    records = people_rows(tmp_path)
    assert [r.raw.get("Prénom") for r in records[:5]] == ["Amélie", "Nathalie", "Céline", "Jérôme", "Inès"]
    assert records[0].raw["Nom"] == "Petrovič"
    bad = records[-1]
    assert bad.location == "medewerkers.csv row 7" and bad.raw == {}
    assert "line 7 is not UTF-8" in bad.problem and "Windows-1252" in bad.problem


def test_the_encodings_excel_and_libreoffice_write(tmp_path):
    text = "Personeelsnummer\tVoornaam\tFamilienaam\r\n7\tŁukasz\tDąbrowski\r\n"
    for name, data in {"utf16": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
                       "utf16be": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
                       "utf8": text.encode("utf-8"), "utf8bom": codecs.BOM_UTF8 + text.encode("utf-8")}.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "medewerkers.csv").write_bytes(data)
        (record,) = people_rows(folder)
        assert record.raw == {"Personeelsnummer": "7", "Voornaam": "Łukasz", "Familienaam": "Dąbrowski"}, name
    latin = decode_lines("Prénom;Nom\r\nMaëlle;Dupont\r\n".encode("cp1252"))
    assert latin.encoding == "cp1252" and latin.lines[1] == "Maëlle;Dupont\r\n" and not latin.bad_lines


def test_a_mixed_encoding_export_is_a_named_problem_other_employers_sync_and_nobody_is_removed(sqlite_network):
    network = sqlite_network
    first = cli("sync", "--config", str(network.config_path), "--as-of", "2026-11-22", "--json")
    assert first.returncode == 0, first.stderr
    shutil.copyfile(FIELD / "petits-pas-medewerkers-mixed-encoding.csv", network.data / "petits-pas" / "medewerkers.csv")
    result = cli("sync", "--config", str(network.config_path), "--as-of", "2026-11-23", "--json")
    assert result.returncode == 1, result.stderr  # partial: one record is reported, the rest went through
    assert "Traceback" not in result.stderr
    document = json.loads(result.stdout)
    assert document["status"] == "partial"
    (problem,) = [e for e in document["errors"] if e["record"].startswith("medewerkers.csv")]
    assert problem["record"] == "medewerkers.csv row 7" and "line 7 is not UTF-8" in problem["message"]
    assert problem["source"].endswith("petits-pas") or "petits-pas" in problem["source"]
    assert document["pulled"]["people"]["removed"] == 0
    assert document["pulled"]["people"]["updated"] >= 1  # Petrovič's new name went through
    assert query(network, select(Person.last_name).where(Person.employee_number == "P01")) == [("Petrovič",)]


# -- local times that do not exist, or exist twice ---------------------------------------

def test_a_session_in_the_hour_summer_time_skips_is_a_problem_and_the_others_go_out(network):
    network.edit_csv("cohort/sessies.csv", "S-02-REFL;EX-02;reflectie;03/04/2026;13:00;13:45;online;;",
                     "S-02-REFL;EX-02;reflectie;29/03/2026;02:15;03:15;online;;")
    summary = sync(network, as_of="2026-03-01")
    assert summary.status == "partial"
    (problem,) = summary.errors
    assert problem.entity == "sessions" and problem.field == "start"
    assert "S-02-REFL" in problem.message and "29/03/2026 02:15 does not exist in Europe/Brussels" in problem.message
    invitations = {p.stem for p in (network.out / "invitations").iterdir()}
    assert "S-02-REFL" not in invitations and {"S-02-INTRO", "S-02-D1", "S-02-D2", "S-02-EVAL"} <= invitations


def test_a_session_in_the_hour_that_exists_twice_is_summer_time_with_a_warning(network):
    import icalendar

    network.edit_csv("cohort/sessies.csv", "S-02-REFL;EX-02;reflectie;03/04/2026;13:00;13:45;online;;",
                     "S-02-REFL;EX-02;reflectie;25/10/2026;02:30;03:30;online;;")
    summary = sync(network, as_of="2026-10-01")
    assert summary.status == "ok", summary.errors
    (warning,) = summary.errors
    assert warning.warning and "S-02-REFL" in warning.message and "exists twice" in warning.message
    assert summary.as_dict()["errors"] == [] and len(summary.as_dict()["warnings"]) == 1
    event = icalendar.Calendar.from_ical((network.out / "invitations" / "S-02-REFL.ics").read_bytes()).walk("VEVENT")[0]
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first 02:30
    assert end.astimezone(UTC) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)    # 03:30 CET: two hours in all


# -- a store restored from yesterday's backup, or replaced by an empty one ---------------------

def _backup(network, to: Path) -> None:
    import sqlite3

    source = sqlite3.connect(network.store_url.removeprefix("sqlite:///"))
    target = sqlite3.connect(to)
    source.backup(target)
    source.close()
    target.close()


def _restore(network, backup: Path) -> None:
    database = Path(network.store_url.removeprefix("sqlite:///"))
    for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(backup, database)


def _sequence(network, session: str) -> int:
    import icalendar

    calendar = icalendar.Calendar.from_ical((network.out / "invitations" / f"{session}.ics").read_bytes())
    return int(calendar.walk("VEVENT")[0]["SEQUENCE"])


def _mailed_sequences(smtp, uid_session: str, network) -> list[int]:
    import email
    import email.policy

    import icalendar

    found = []
    for received in smtp.received:
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                event = icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")[0]
                if str(event["SUMMARY"]) and uid_session in str(event.get("DESCRIPTION", "")) or str(event["UID"]) == uid_session:
                    found.append(int(event["SEQUENCE"]))
    return found


def test_a_restored_store_sends_updates_above_every_sequence_already_sent(sqlite_network, tmp_path, monkeypatch):
    from tests.fakes.smtp_server import PASSWORD, FakeSmtp

    network = sqlite_network
    smtp = FakeSmtp().start()
    try:
        monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", PASSWORD)
        network.add_before_cohort(smtp.channel_toml())
        network.route("petits-pas", "imip")  # the switcher of EX-04 by e-mail; the coach (zonneke) by .ics files
        sync(network, as_of="2026-11-23")
        uid = _uid(network, "S-04-D1")
        _backup(network, tmp_path / "yesterday.db")
        network.edit_csv("cohort/sessies.csv", "S-04-D1;EX-04;uitwisselingsdag;11/05/2027;08:30", "S-04-D1;EX-04;uitwisselingsdag;11/05/2027;08:00")
        sync(network, as_of="2026-11-24")
        assert _sequence(network, "S-04-D1") == 1 and _mailed_sequences(smtp, uid, network)[-1] == 1
        _restore(network, tmp_path / "yesterday.db")
        network.edit_csv("cohort/sessies.csv", "S-04-D1;EX-04;uitwisselingsdag;11/05/2027;08:00", "S-04-D1;EX-04;uitwisselingsdag;11/05/2027;07:30")
        summary = sync(network, as_of="2026-11-25")
        assert summary.status == "ok", summary.errors
        assert any(w.warning and "behind" in w.message for w in summary.errors)
        assert _sequence(network, "S-04-D1") > 1
        assert _mailed_sequences(smtp, uid, network)[-1] > 1
        again = sync(network, as_of="2026-11-25")
        assert sum(again.invites.values()) == 0  # and the restored store, once caught up, writes nothing twice
    finally:
        smtp.stop()


def _uid(network, session: str) -> str:
    import icalendar

    calendar = icalendar.Calendar.from_ical((network.out / "invitations" / f"{session}.ics").read_bytes())
    return str(calendar.walk("VEVENT")[0]["UID"])


def test_a_restored_store_issues_no_leerbewijs_twice_and_no_number_to_another(sqlite_network, tmp_path):
    from pypdf import PdfReader

    network = sqlite_network
    sync(network, as_of="2027-05-01")
    _backup(network, tmp_path / "before.db")
    before = {p.name for p in (network.out / "leerbewijzen").rglob("*.pdf")}
    sync(network, as_of="2027-06-01")  # EX-04's days are past: its leerbewijs is issued
    issued = {p.name for p in (network.out / "leerbewijzen").rglob("*.pdf")}
    (new,) = issued - before
    credential = PdfReader(network.out / "leerbewijzen" / "petits-pas" / new).attachments["credential.json"][0]
    _restore(network, tmp_path / "before.db")
    summary = sync(network, as_of="2027-06-02")
    assert summary.status == "ok", summary.errors
    assert {p.name for p in (network.out / "leerbewijzen").rglob("*.pdf")} == issued  # no second one for EX-04
    again = PdfReader(network.out / "leerbewijzen" / "petits-pas" / new).attachments["credential.json"][0]
    assert json.loads(again) == json.loads(credential)  # the same leerbewijs: number, date, content



def test_after_a_restore_a_number_already_handed_out_is_never_given_to_another_exchange(sqlite_network, tmp_path):
    network = sqlite_network
    sync(network, as_of="2027-05-01")
    _backup(network, tmp_path / "before.db")
    sync(network, as_of="2027-06-01")
    (ex04,) = [p.name for p in (network.out / "leerbewijzen" / "petits-pas").glob("LB-*-0*.pdf")]  # not the coach's own (C series)
    _restore(network, tmp_path / "before.db")
    network.edit_csv("cohort/uitwisselingen.csv", "EX-04;LV-04;LP-ZON-BABY;Z008;bevestigd", "EX-04;LV-04;LP-ZON-BABY;Z008;geannuleerd")
    sync(network, as_of="2027-12-01")  # EX-05's day is past now; EX-04's number stays EX-04's
    names = {p.name for p in (network.out / "leerbewijzen").rglob("LB-*-0*.pdf")}
    ex05 = sorted(names - {ex04} - {p.name for p in (network.out / "leerbewijzen").rglob("LB-2027-000[123].pdf")})
    assert ex05 and ex05[0] > ex04, (ex04, names)


def test_an_empty_store_continues_above_what_was_handed_out(network, tmp_path):
    sync(network, as_of="2026-11-23")
    network.edit_csv("cohort/sessies.csv", "S-04-D1;EX-04;uitwisselingsdag;11/05/2027;08:30", "S-04-D1;EX-04;uitwisselingsdag;11/05/2027;08:00")
    sync(network, as_of="2026-11-24")
    assert _sequence(network, "S-04-D1") == 1
    fresh = f"sqlite:///{tmp_path / 'fresh' / 'connector.db'}"
    network.replace(f'url = "{network.store_url}"', f'url = "{fresh}"')
    network.store_url = fresh
    summary = sync(network, as_of="2026-11-25")
    assert any(w.warning and "behind" in w.message for w in summary.errors)
    assert _sequence(network, "S-04-D1") > 1 and _sequence(network, "S-04-INTRO") > 0  # every invitation above the old ones
    assert sorted(p.name for p in (network.out / "leerbewijzen").rglob("*.pdf")) == ["LB-2026-0001.pdf", "LB-2026-0002.pdf", "LB-2026-0003.pdf",
                                                                                      "LB-2026-C0001.pdf"]  # the coach's: the same number again


# -- un-inviting one person -----------------------------------------------------------------

def test_a_removed_coach_gets_a_cancel_naming_only_her_and_the_others_a_request_without_her(sqlite_network, monkeypatch):
    import email
    import email.policy

    import icalendar

    from tests.fakes.smtp_server import PASSWORD, FakeSmtp

    network = sqlite_network
    smtp = FakeSmtp().start()
    try:
        monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", PASSWORD)
        network.add_before_cohort(smtp.channel_toml())
        network.route("groenkracht", "imip")
        network.route("brouwers-peeters", "imip")
        sync(network, as_of="2026-09-01")
        first = len(smtp.received)
        network.edit_csv("cohort/uitwisselingen.csv", "EX-03;LV-03;LP-GK-GROEN;G110, G106;bevestigd", "EX-03;LV-03;LP-GK-GROEN;G110;bevestigd")
        summary = sync(network, as_of="2026-09-02")
        assert summary.status == "ok", summary.errors
        sent = []
        for received in smtp.received[first:]:
            message = email.message_from_bytes(received.data, policy=email.policy.default)
            (part,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            sent.append((received.recipients[0], str(calendar["METHOD"]), calendar.walk("VEVENT")[0]))
        cancels = [(to, event) for to, method, event in sent if method == "CANCEL"]
        requests = [(to, event) for to, method, event in sent if method == "REQUEST"]
        assert cancels and requests
        removed = {to for to, _ in cancels}
        assert len(removed) == 1
        for to, event in cancels:
            attendees = event.get("ATTENDEE")
            attendees = attendees if isinstance(attendees, list) else [attendees]
            assert [str(a).removeprefix("mailto:") for a in attendees] == [to]
            assert "STATUS" not in event
        for to, event in requests:
            attendees = event.get("ATTENDEE")
            attendees = attendees if isinstance(attendees, list) else [attendees]
            assert to not in removed and all(str(a).removeprefix("mailto:") not in removed for a in attendees)
            assert str(event["STATUS"]) == "CONFIRMED"
    finally:
        smtp.stop()


def test_utf16_without_its_mark_and_utf32_with_one_are_read(tmp_path):
    """Found by a new user: such files gave 'no header row' with NUL bytes in the message."""
    text = "Personeelsnummer;Voornaam;Familienaam\r\n7;Łukasz;Dąbrowski\r\n"
    for name, data in {"utf16le": text.encode("utf-16-le"), "utf16be": text.encode("utf-16-be"),
                       "utf32": codecs.BOM_UTF32_LE + text.encode("utf-32-le")}.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "medewerkers.csv").write_bytes(data)
        (record,) = people_rows(folder)
        assert record.raw == {"Personeelsnummer": "7", "Voornaam": "Łukasz", "Familienaam": "Dąbrowski"}, name
