"""Line managers: `manager` pulled from every kind of source that has one, resolved within the
organisation, and what they hear under each organisation's `manager_policy`.

Each source test feeds the vendor's documented field, in the documented shape, through the
stand-in of that vendor (checked against tests/contracts/), and asserts the canonical
Person.manager that comes out."""

from __future__ import annotations

import csv
import json
import email
import email.policy
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import openpyxl
import pytest
from sqlalchemy import select

from connector.engine.sync import run_sync
from connector.store.db import open_engine, session_factory
from connector.store.tables import OutboxItem, Person, SourceRecord
from tests.conftest import invited_by_email, people_source

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
SYNCED_AT = MOMENT  # the module's one shared sync (tests/conftest.py `synced_example`)


def managers(network, organisation: str) -> dict[str, str | None]:
    """Employee number (or e-mail) -> the manager's employee number, from the store."""
    people = network.people(organisation)
    by_id = {p.id: p for p in people.values()}
    return {(p.employee_number or p.email): (by_id[p.manager].employee_number if p.manager in by_id else p.manager)
            for p in people.values()}


def notes(network) -> list[tuple[str, str, int, str]]:
    """Every manager note planned: (object id, action, sequence, change), in order."""
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        rows = [(i.object_id, i.status, i.sequence, i.payload.get("change")) for i in
                db.scalars(select(OutboxItem).where(OutboxItem.object_type == "manager_note").order_by(OutboxItem.id))]
    engine.dispose()
    return rows


def read_eml(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def synced_managers(network, organisation: str):  # type: ignore[no-untyped-def]
    """Sync as of MOMENT (it must go through) and return (the summary, `managers` of `organisation`)."""
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    return summary, managers(network, organisation)


# -- files: the manager column -------------------------------------------------------------

def test_the_manager_column_resolves_numbers_and_addresses_in_the_organisation(synced_example):
    """The template's columns Leidinggevende / Responsable / Manager: an employee number or a work e-mail."""
    network = synced_example
    assert managers(network, "zonneke")["Z007"] == "Z002"  # Leidinggevende, a number (UTF-8 with BOM, ;)
    assert managers(network, "petits-pas")["P02"] == "P01"  # Responsable (Windows-1252)
    assert managers(network, "brouwers-peeters")["B04"] == "B01"  # Manager, given as wim@brouwers-peeters.be
    assert managers(network, "brouwers-peeters")["B06"] == "B04"
    assert managers(network, "groenkracht")["G101"] == "G103"  # the workbook's number cells
    assert managers(network, "zonneke")["Z002"] is None  # the top names nobody


def test_an_unknown_manager_is_a_warning_and_the_person_goes_through(network):
    network.edit_csv("zonneke/medewerkers.csv", "Z007;Ruth;D'Hondt", "Z007;Ruth;D'Hondtt")
    network.edit_csv("zonneke/medewerkers.csv", ";V;Z002\nZ008", ";V;Z099\nZ008")  # Ruth's manager: nobody at Zonneke
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors  # a warning does not make the run partial
    warnings = [w for w in summary.errors if w.warning and w.field == "manager"]
    assert len(warnings) == 1
    warning = warnings[0]
    assert (warning.source, warning.entity, warning.field) == ("zonneke/hr", "people", "manager")
    assert "Z099" in warning.message and "medewerkers.csv" in warning.record
    ruth = network.people("zonneke")["ruth.dhondt@zonneke.be"]
    assert ruth.last_name == "D'Hondtt" and ruth.manager is None


# -- the vendors' documented fields --------------------------------------------------------

def test_scim_enterprise_manager_value(sqlite_network, monkeypatch):
    """RFC 7643 section 4.3: urn:ietf:params:scim:schemas:extension:enterprise:2.0:User `manager`,
    a complex attribute whose `value` is the id of the manager's User resource; against the
    real scim2-server."""
    from tests.fakes.scim_server import TOKEN, ScimServer

    server = ScimServer().start()
    try:
        monkeypatch.setenv("ST_TEST_SCIM_TOKEN", TOKEN)
        sqlite_network.add_to_organisation("brouwers-peeters", people_source("okta", "scim", url=server.base, token="${ST_TEST_SCIM_TOKEN}",
                                                                             authoritative=False)
                                           + '\n  [organisations.precedence]\n  manager = ["okta", "hr"]\n')
        boss = server.add_user("an@brouwers-peeters.be", "An", "Peeters", "B02")
        server.add_user("karel@brouwers-peeters.be", "Karel", "Dewulf", "B03", manager={"value": boss})
        _, found = synced_managers(sqlite_network, "brouwers-peeters")
        assert found["B03"] == "B02"  # SCIM wins over the export's B04 for this field
        assert found["B06"] == "B04"  # the export still names the others' managers
    finally:
        server.stop()


def test_bamboohr_supervisor_employee_id_and_email(sqlite_network, monkeypatch):
    """documentation.bamboohr.com/docs/list-of-field-names: `supervisorEId` (the supervisor's
    employee ID, the `id` of another employee) and `supervisorEmail`, asked in the custom report."""
    from tests.fakes.bamboohr_server import API_KEY
    from tests.test_bamboohr import brouwers_peeters_in_bamboohr, use_bamboohr

    bamboo = brouwers_peeters_in_bamboohr(sqlite_network)
    try:
        monkeypatch.setenv("ST_TEST_BAMBOOHR_KEY", API_KEY)
        monkeypatch.setattr("time.sleep", lambda seconds: None)
        use_bamboohr(sqlite_network, bamboo)
        bamboo.update_employee("104", supervisorEId="101", supervisorEmail="wim@brouwers-peeters.be")
        bamboo.update_employee("106", supervisorEId=None, supervisorEmail="stijn@brouwers-peeters.be")
        bamboo.update_employee("105", supervisorEId="999", supervisorEmail=None)  # left the company
        summary, found = synced_managers(sqlite_network, "brouwers-peeters")
        assert (found["B04"], found["B06"], found["B05"]) == ("B01", "B04", None)
        [warning] = [w for w in summary.errors if w.warning and w.field == "manager"]
        assert warning.source == "brouwers-peeters/bamboohr" and "'999'" in warning.message
    finally:
        bamboo.stop()


def test_personio_supervisor_attribute(sqlite_network, monkeypatch):
    """personio-personnel-data-api-oa3.yaml: `supervisor` = {"label": "Supervisor", "value":
    {"type": "Employee", "attributes": {"id": {"label": "ID", "value": 2, ...}}}} (schema
    Supervisor, value a ShortEmployee)."""
    from tests.fakes.personio_server import CLIENT_ID, CLIENT_SECRET, FakePersonio, _attribute

    fake = FakePersonio().start()
    try:
        sheet = openpyxl.load_workbook(sqlite_network.data / "groenkracht" / "medewerkers.xlsx").active
        for number, first, last, address, _language, department, _site, position, *_ in list(sheet.iter_rows(values_only=True))[1:]:
            employee = fake.add(100 + int(number[1:]), number, first, last, address, department, position=position)
            if number in ("G101", "G104"):  # Koen and Marieke report to Dirk (G103, Personio id 203)
                supervisor = {"type": "Employee", "attributes": {"id": _attribute("ID", 203, "integer", "id")}}
                employee["attributes"]["supervisor"] = _attribute("Supervisor", supervisor, universal_id="supervisor")
        monkeypatch.setenv("ST_TEST_PERSONIO_SECRET", CLIENT_SECRET)
        monkeypatch.setattr("time.sleep", lambda seconds: None)
        payroll = '  entities = ["people", "training_records"]\n\n  [[organisations.sources]]\n  name = "plan"'
        sqlite_network.replace('path = "examples/data/groenkracht" # medewerkers.xlsx and opleidingen.xlsx with real date cells\n' + payroll,
                               'path = "examples/data/groenkracht" # medewerkers.xlsx and opleidingen.xlsx with real date cells\n'
                               + payroll.replace('["people", "training_records"]', '["training_records"]'))
        sqlite_network.add_to_organisation("groenkracht", people_source("personio", "personio", url=fake.url, client_id=CLIENT_ID,
                                                                        client_secret="${ST_TEST_PERSONIO_SECRET}"))
        _, found = synced_managers(sqlite_network, "groenkracht")
        assert (found["G101"], found["G104"], found["G105"]) == ("G103", "G103", None)  # only Personio names managers here
    finally:
        fake.stop()


def test_successfactors_user_manager_navigation(sqlite_network, monkeypatch):
    """SAP SuccessFactors OData v2 User: the `manager` navigation property (a User), asked as
    $select=manager/userId with $expand=manager; an expanded navigation comes as an object with
    __metadata, null without a manager."""
    from tests.fakes.successfactors_server import CLIENT_ID, COMPANY, PRIVATE_KEY, FakeSuccessFactors

    fake = FakeSuccessFactors().start()
    try:
        with open(sqlite_network.data / "zonneke" / "medewerkers.csv", encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                boss = {"Z007": "Z002", "Z005": "Z002"}.get(row["Personeelsnummer"])
                fake.add_user(row["Personeelsnummer"], row["Voornaam"], row["Familienaam"], row["E-mail werk"],
                              **({"manager": boss} if boss else {}))
        monkeypatch.setenv("ST_TEST_SF_KEY", PRIVATE_KEY)
        monkeypatch.setattr("time.sleep", lambda seconds: None)
        hr = '  path = "examples/data/zonneke"    # medewerkers.csv (UTF-8 with BOM, ;) and opleidingen.csv\n  entities = ["people", "training_records"]\n'
        sqlite_network.replace(hr, hr.replace('["people", "training_records"]', '["training_records"]') + people_source(
            "successfactors", "successfactors", url=fake.base, company_id=COMPANY, client_id=CLIENT_ID, user_id="st_connector",
            private_key="${ST_TEST_SF_KEY}"))
        _, found = synced_managers(sqlite_network, "zonneke")
        assert (found["Z007"], found["Z005"], found["Z003"]) == ("Z002", "Z002", None)
    finally:
        fake.stop()


def test_graph_manager_from_the_users_delta(sqlite_network, monkeypatch):
    """Microsoft Graph: the users delta does not expand navigation properties, but `$select`
    takes `manager` to track it; the delta answers it as the annotation `manager@delta`, a list
    of {"@odata.type", "id"}, with `@removed` once the manager is taken away
    (microsoft-graph-docs-contrib concepts/delta-query-overview.md, "Optional query parameters"
    and "Resource representation in the delta query response"; the shape as in Microsoft's REST
    API guidelines, graph/patterns/change-tracking.md)."""
    from tests.contracts.stubs import ContractMock
    from tests.fakes.graph_payloads import LOGIN, TENANT_ID, delta_page, openid_configuration, token, user
    from tests.test_msgraph_users import DELTA, DELTA_LINK, GRAPH_HOST, NEXT_DELTA_LINK, configure

    dirk, koen = "11111111-0000-0000-0000-000000000003", "11111111-0000-0000-0000-000000000001"
    reports_to = [{"@odata.type": "#microsoft.graph.user", "id": dirk}]
    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", "client-secret-value")
    configure(sqlite_network)
    sqlite_network.replace('  default = ["payroll", "m365"]\n', '  default = ["payroll", "m365"]\n  manager = ["m365", "payroll"]\n')
    with ContractMock("msgraph", GRAPH_HOST, assert_all_requests_are_fired=False) as mock:
        mock.get(f"{LOGIN}/{TENANT_ID}/v2.0/.well-known/openid-configuration", json=openid_configuration())
        mock.post(f"{LOGIN}/{TENANT_ID}/oauth2/v2.0/token", json=token())
        mock.get(DELTA, json=delta_page([
            user(dirk, "Dirk", "Van Damme", "dirk.vandamme@groenkracht.be", "G103", companyName="Atelier Groenkracht"),
            user(koen, "Koen", "Vermeulen", "koen.vermeulen@groenkracht.be", "G101", companyName="Atelier Groenkracht",
                 **{"manager@delta": reports_to}),
            user("11111111-0000-0000-0000-000000000005", "Youssef", "Benali", "youssef.benali@groenkracht.be", "G105",
                 companyName="Atelier Groenkracht", **{"manager@delta": [{"@odata.type": "#microsoft.graph.user", "id": koen}]}),
        ], delta_link=DELTA_LINK))
        first = run_sync(sqlite_network.config(), MOMENT)
        assert first.status == "ok", first.errors
        asked = next(c.request for c in mock.calls if c.request.url.startswith(DELTA))
        assert "manager" in asked.params["$select"].split(",") and "$expand" not in asked.params
        found = managers(sqlite_network, "groenkracht")
        assert (found["G101"], found["G105"]) == ("G103", "G101")  # Graph's ids, not the payroll's G103 for Youssef
        mock.get(DELTA_LINK, json=delta_page([{"id": koen, "manager@delta": [{**reports_to[0], "@removed": {"reason": "deleted"}}]}],
                                             delta_link=NEXT_DELTA_LINK))
        second = run_sync(sqlite_network.config(), MOMENT)
        assert second.status == "ok", second.errors
        found = managers(sqlite_network, "groenkracht")
        assert found["G101"] == "G103"  # Graph took Koen's manager away: the payroll's Leidinggevende is next in precedence
        assert found["G105"] == "G101"  # unchanged in the delta: kept
        engine = open_engine(sqlite_network.store_url)
        with session_factory(engine)() as db:
            raw = db.scalar(select(SourceRecord.raw).where(SourceRecord.source == "groenkracht/m365", SourceRecord.remote_id == koen))
        engine.dispose()
        assert raw["manager"] is None


# -- what managers hear --------------------------------------------------------------------

def test_inform_sends_one_note_per_change_and_a_rerun_writes_nothing(synced_copy):
    """Zonneke and Les Petits Pas inform: a note when confirmed, one when the dates move, one when cancelled."""
    network = synced_copy
    folder = network.out / "managers"
    files = sorted(p.name for p in folder.iterdir())
    assert len(files) == 2 and files[0].startswith("EX-05-") and files[1].startswith("EX-07-")  # Ruth's and Nathalie's managers
    ruth = read_eml(folder / files[0])
    assert ruth["To"].addresses[0].addr_spec == "sofie.desmet@zonneke.be" and ruth["Content-Language"] == "nl"
    assert ruth["Subject"] == "Leeruitwisseling van Ruth D'Hondt bevestigd"
    body = ruth.get_content()
    assert "Hoe plan je personeel en verlof met een digitale planningstool?" in body and "16 november 2027, 09:00" in body
    nathalie = read_eml(folder / files[1])
    assert nathalie["Subject"] == "Échange d'apprentissage de Nathalie François confirmé"  # Amélie reads French
    assert "Question d'apprentissage : Comment accompagner" in nathalie.get_content()
    # the manager's report may be anyone: no masculine (or bracketed) form where the gender is not known
    french = nathalie.get_content().casefold()
    assert not any(gendered in french for gendered in ("collaborateur", "(e)", " qu'il ", "absent"))

    hashes = network.output_hashes()
    again = run_sync(network.config(), MOMENT)
    assert not [w for w in again.written_files if w["object"] == "manager_note"] and network.output_hashes() == hashes

    network.edit_csv("cohort/sessies.csv", "S-05-D1;EX-05;uitwisselingsdag;16/11/2027", "S-05-D1;EX-05;uitwisselingsdag;23/11/2027")
    moved = run_sync(network.config(), MOMENT)
    assert [w["id"].split("|")[0] for w in moved.written_files if w["object"] == "manager_note"] == ["EX-05"]
    ruth = read_eml(folder / files[0])
    assert ruth["Subject"] == "Leeruitwisseling van Ruth D'Hondt: nieuwe data" and "23 november 2027" in ruth.get_content()
    assert run_sync(network.config(), MOMENT).written_files == []

    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
    cancelled = run_sync(network.config(), MOMENT)
    assert [w["id"].split("|")[0] for w in cancelled.written_files if w["object"] == "manager_note"] == ["EX-05"]
    cancelled_note = read_eml(folder / files[0])
    assert cancelled_note["Subject"] == "Leeruitwisseling van Ruth D'Hondt geannuleerd"
    # the cancelled dates, listed as the confirmation and the move list theirs
    assert "Deze data vervallen:" in cancelled_note.get_content() and "23 november 2027" in cancelled_note.get_content()
    assert not [w for w in run_sync(network.config(), MOMENT).written_files if w["object"] == "manager_note"]
    assert [(n[2], n[3]) for n in notes(network) if n[0].startswith("EX-05|")] == [(0, "confirmed"), (1, "moved"), (2, "cancelled")]


def test_no_note_for_an_exchange_cancelled_before_anyone_was_told_nor_under_none(network):
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
    run_sync(network.config(), MOMENT)
    assert [n[0].split("|")[0] for n in notes(network)] == ["EX-07"]  # EX-10 (Brouwers & Peeters: none) and EX-05 say nothing
    network.replace('manager_policy = "inform"           # the Responsable column', 'manager_policy = "none"  # the Responsable column')
    network.edit_csv("cohort/sessies.csv", "S-07-D2;EX-07;uitwisselingsdag;17/01/2029", "S-07-D2;EX-07;uitwisselingsdag;18/01/2029")
    run_sync(network.config(), MOMENT)
    assert len(notes(network)) == 1  # the policy is off: the move is not announced


def test_managers_by_e_mail_get_the_note_through_smtp(network, monkeypatch):
    """Les Petits Pas invited by iMIP: Amélie's note is a plain e-mail through the real SMTP hop, sent once."""
    with invited_by_email(network, monkeypatch, "petits-pas") as smtp:
        summary = run_sync(network.config(), MOMENT)
        assert summary.status == "ok", summary.errors
        received = [(r.recipients, email.message_from_bytes(r.data, policy=email.policy.default)) for r in smtp.received]
        to_amelie = [m for r, m in received if r == ["amelie.dubois@lespetitspas.be"] and m.get_content_type() == "text/plain"]
        assert len(to_amelie) == 1
        note = to_amelie[0]
        assert note["Subject"] == "Échange d'apprentissage de Nathalie François confirmé" and note["Auto-Submitted"] == "auto-generated"
        assert "4 décembre 2028, 10:00" in note.get_content()
        assert sorted(p.name.split("-")[1] for p in (network.out / "managers").iterdir()) == ["05"]  # Zonneke's still a file
        count = len(smtp.received)
        run_sync(network.config(), MOMENT)
        assert len(smtp.received) == count


def test_invite_intro_puts_the_manager_on_the_intro_call_and_the_evaluation(synced_example):
    """Groenkracht invites the manager to the intro call; with either policy the manager joins the evaluation moments."""
    network = synced_example

    def attendees(code: str) -> dict[str, str]:
        vevent = icalendar.Calendar.from_ical((network.out / "invitations" / f"{code}.ics").read_bytes()).walk("VEVENT")[0]
        listed = vevent.get("ATTENDEE", [])
        return {str(a).removeprefix("mailto:"): str(a.params["ROLE"]) for a in (listed if isinstance(listed, list) else [listed])}

    assert attendees("S-06-INTRO")["dirk.vandamme@groenkracht.be"] == "OPT-PARTICIPANT"  # Koen's manager
    assert "dirk.vandamme@groenkracht.be" not in attendees("S-06-D1")  # the exchange days are not theirs
    assert attendees("S-06-EVAL")["dirk.vandamme@groenkracht.be"] == "OPT-PARTICIPANT"
    assert attendees("S-05-EVAL")["sofie.desmet@zonneke.be"] == "OPT-PARTICIPANT"  # inform: evaluation too
    assert "sofie.desmet@zonneke.be" not in attendees("S-05-INTRO")  # but not the intro call
    assert not (network.out / "managers").exists() or not any(p.name.startswith("EX-06") for p in (network.out / "managers").iterdir())


def test_a_new_manager_replaces_the_old_one_on_the_intro_call_by_e_mail(network, monkeypatch):
    """By iMIP the manager who is no longer Koen's gets a CANCEL naming only them (RFC 5546 3.2.5), the new one a REQUEST."""
    with invited_by_email(network, monkeypatch, "groenkracht") as smtp:
        run_sync(network.config(), MOMENT)
        count = len(smtp.received)
        book = openpyxl.load_workbook(network.data / "groenkracht" / "medewerkers.xlsx")
        for row in book.active.iter_rows(min_row=2):
            if row[0].value == "G101":
                row[-1].value = "G110"  # Jelle is Koen's manager now
        book.save(network.data / "groenkracht" / "medewerkers.xlsx")
        summary = run_sync(network.config(), MOMENT)
        assert summary.status == "ok", summary.errors
        intro = {}
        for record in smtp.received[count:]:
            message = email.message_from_bytes(record.data, policy=email.policy.default)
            parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
            calendar = icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))
            vevent = calendar.walk("VEVENT")[0]
            if "S-06-INTRO" in str(vevent.get("UID", "")) or "kennismaking" in str(vevent["SUMMARY"]).lower():
                listed = vevent.get("ATTENDEE", [])
                listed = listed if isinstance(listed, list) else [listed]
                intro[record.recipients[0]] = (str(calendar["METHOD"]), vevent.get("STATUS"), [str(a) for a in listed])
        method, status, listed = intro["dirk.vandamme@groenkracht.be"]
        assert method == "CANCEL" and status is None and listed == ["mailto:dirk.vandamme@groenkracht.be"]
        assert intro["jelle.peeters@groenkracht.be"][0] == "REQUEST"


# -- erasure ---------------------------------------------------------------------------------

def test_erasing_a_manager_clears_them_as_anyones_manager_and_keeps_the_reports(synced_copy):
    from connector.store.erasure import erase_person

    network = synced_copy
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        sofie = db.scalar(select(Person).where(Person.email == "sofie.desmet@zonneke.be"))
        reports = {p.employee_number for p in db.scalars(select(Person).where(Person.manager == sofie.id))}
        assert "Z007" in reports
        report = erase_person(db, network.config(), "sofie.desmet@zonneke.be", None, MOMENT)
        db.commit()
        counts = report.people[0]["counts"]
        assert counts["removed: manager links to them (their reports' records keep no reference)"] == len(reports)
        assert db.scalar(select(Person).where(Person.manager == sofie.id)) is None
        ruth = db.scalar(select(Person).where(Person.employee_number == "Z007"))
        assert ruth is not None and ruth.manager is None
        record = db.scalar(select(SourceRecord).where(SourceRecord.canonical_id == ruth.id))
        assert record is not None and "manager" not in record.data  # Ruth's own HR record stays, without Sofie in it
        assert "Z002" not in str(record.raw)
    engine.dispose()


# -- a crash between the note and its booking ---------------------------------------------------

@pytest.mark.slow
def test_killed_right_after_a_note_was_put_in_place_the_next_run_neither_loses_nor_doubles_it(network, tmp_path, monkeypatch):
    """SIGKILL (ST_TEST_KILL_AT=file:n, connector/plumbing/killpoint.py) right after the first manager
    note's file was put in place, before its booking: the next run finishes with the same single
    file per note (byte-identical to an uninterrupted run), and a third run writes nothing. (By
    iMIP the exception the README states for e-mail applies: SMTP cannot be asked, so a message
    accepted just before the kill may go once more, with the same Message-ID.)"""
    import connector.plumbing.files as files
    from tests.conftest import Network
    from tests.test_crash import KILLED, sync

    reference = Network(tmp_path / "reference", f"sqlite:///{tmp_path / 'reference' / 'connector.db'}")
    seen: list[bool] = []
    real = files.reached
    monkeypatch.setattr(files, "reached", lambda kind: (seen.append((reference.out / "managers").exists()), real(kind)))
    assert run_sync(reference.config(), MOMENT).status == "ok"
    monkeypatch.setattr(files, "reached", real)
    point = seen.index(True) + 1  # the file points of a run, counted as the CLI counts them
    expected = {k: v for k, v in reference.output_hashes().items() if k.startswith(("managers/", "invitations/", "ledgers/"))}

    killed = sync(network, f"file:{point}")
    assert killed.returncode == KILLED, killed.stderr[-2000:]
    assert len(list((network.out / "managers").iterdir())) == 1 and notes(network)[0][1] == "pending"  # on disk, not booked
    finished = sync(network)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    got = {k: v for k, v in network.output_hashes().items() if k.startswith(("managers/", "invitations/", "ledgers/"))}
    assert got == expected  # one file per note, the same bytes
    assert sorted((n[0].split("|")[0], n[1]) for n in notes(network)) == [("EX-05", "done"), ("EX-07", "done")]
    third = sync(network)
    assert third.returncode == 0 and json.loads(third.stdout)["written"] == []
