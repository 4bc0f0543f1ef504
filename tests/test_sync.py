"""The main job on the example network, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import func, select

from connector.engine.sync import Summary, run_sync
from connector.store.db import open_engine, session_factory
from connector.store.tables import ExternalRef, OutboxItem, Person
from tests.conftest import stores_sampled

AS_OF = "2026-11-22"


def sync(network, as_of: str = AS_OF, **options) -> Summary:
    moment = datetime.fromisoformat(as_of).replace(tzinfo=ZoneInfo("Europe/Brussels"))
    return run_sync(network.config(), moment, **options)


def writes(summary: Summary) -> int:
    return sum(summary.invites.values()) + summary.training_records["written"] + summary.leerbewijzen["issued"]


def query(network, statement):
    engine = open_engine(network.store_url)
    try:
        with session_factory(engine)() as db:
            return db.execute(statement).all()
    finally:
        engine.dispose()


def vevent(network, session_code: str):
    calendar = icalendar.Calendar.from_ical((network.out / "invitations" / f"{session_code}.ics").read_bytes())
    return str(calendar["METHOD"]), calendar.walk("VEVENT")[0]


def test_first_run_invites_writes_back_and_issues(network):
    summary = sync(network)
    assert summary.status == "ok", summary.errors
    assert summary.pulled["people"]["created"] == 34
    assert summary.pulled["sessions"]["created"] == 32
    # 15 upcoming sessions, EX-03's evaluation reminders at 2 and 6 months (28/12/2026, 26/04/2027), and the
    # cohort's group moments: the kick-off (14/01/2027) and the terugkommoment (14/10/2027)
    assert dict(summary.invites) == {"created": 19, "updated": 0, "cancelled": 0}
    # EX-02 and EX-03: two past days each; EX-01 one (its second day is marked absent); EX-10 none (cancelled after its first day);
    # and EX-01's coach of petits-pas (coach_learning) the same one day
    assert summary.training_records["written"] == 6
    assert summary.leerbewijzen["issued"] == 4
    invitations = sorted(p.stem for p in (network.out / "invitations").iterdir())
    assert "S-03-EVAL" in invitations and "S-03-D2" not in invitations  # past sessions are not invited
    assert not any(code.startswith("S-08") for code in invitations)     # cancelled before any invitation
    # and the petits-pas coach's own (coach_learning), in its own series
    assert sorted(p.name for p in (network.out / "leerbewijzen").rglob("*.pdf")) == ["LB-2026-0001.pdf", "LB-2026-0002.pdf", "LB-2026-0003.pdf",
                                                                                      "LB-2026-C0001.pdf"]
    ledger = (network.out / "ledgers" / "groenkracht" / "training-ledger.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(ledger) == 3
    assert ledger[1].startswith("exchange:S-02-D1;G104;marieke.janssens@groenkracht.be;Janssens;Marieke;2026-03-27;7;informal;")
    assert ledger[1].endswith(";LB-2026-0002;recorded;")


def test_second_run_writes_nothing_and_outputs_stay_byte_identical(network):
    sync(network)
    before = network.output_hashes()
    outbox_before = query(network, select(func.count()).select_from(OutboxItem))[0][0]
    again = sync(network)
    assert writes(again) == 0
    assert all(c["created"] == c["updated"] == c["removed"] == 0 for c in again.pulled.values())
    assert network.output_hashes() == before
    assert query(network, select(func.count()).select_from(OutboxItem))[0][0] == outbox_before


def test_moved_session_is_updated_under_the_same_uid_with_a_higher_sequence(network):
    sync(network)
    _, first = vevent(network, "S-04-D1")
    network.edit_csv("cohort/sessies.csv", "S-04-D1;EX-04;uitwisselingsdag;11/05/2027", "S-04-D1;EX-04;uitwisselingsdag;18/05/2027")
    summary = sync(network)
    assert dict(summary.invites) == {"created": 0, "updated": 1, "cancelled": 0}
    method, moved = vevent(network, "S-04-D1")
    assert method == "REQUEST" and moved["UID"] == first["UID"]
    assert (first["SEQUENCE"], moved["SEQUENCE"]) == (0, 1)
    assert moved.decoded("DTSTART").date().isoformat() == "2027-05-18"
    assert writes(sync(network)) == 0


def test_cancelled_exchange_cancels_its_future_sessions_once(network):
    sync(network)
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
    summary = sync(network)
    assert dict(summary.invites) == {"created": 0, "updated": 0, "cancelled": 3}
    for code in ("S-05-INTRO", "S-05-D1", "S-05-EVAL"):
        method, cancelled = vevent(network, code)
        assert (method, str(cancelled["STATUS"]), cancelled["SEQUENCE"]) == ("CANCEL", "CANCELLED", 1)
    assert writes(sync(network)) == 0


def test_bad_rows_are_reported_with_source_record_and_field_and_the_rest_goes_through(network):
    network.edit_csv("zonneke/medewerkers.csv", "Z010;Bram;Goossens;bram.goossens@zonneke.be;NL;Onderhoud;Gent;Technisch medewerker;0,5;19;01/06/2022;;M",
                     "Z010;Bram;Goossens;bram.goossens@zonneke.be;NL;Onderhoud;Gent;Technisch medewerker;0,5;19;31/02/2022;;M\n"
                     "Z011;;Leeg;leeg@zonneke.be;NL;;;;1;38;;;V\nZ012;Kim;Mail;geen-adres;NL;;;;1;38;;;V")
    network.edit_csv("cohort/sessies.csv", "S-08-D1;EX-08", "S-99;EX-99;dag;01/01/2027;09:00;16:00;;;\nS-08-D1;EX-08")
    summary = sync(network)
    assert summary.status == "partial"
    errors = {(e.source, e.entity, e.record, e.field): e.message for e in summary.errors}
    assert "'31/02/2022' is not a date" in errors[("zonneke/hr", "people", "medewerkers.csv row 11", "start_date")]
    assert "required" in errors[("zonneke/hr", "people", "medewerkers.csv row 12", "first_name")]
    assert "not an e-mail address" in errors[("zonneke/hr", "people", "medewerkers.csv row 13", "email")]
    assert errors[("cohort/cohort", "sessions", "sessies.csv row 30", "exchange")] == (
        "no exchange 'EX-99'; known: EX-01, EX-02, EX-03, EX-04, EX-05, EX-06, EX-07, EX-08, EX-10")
    assert summary.pulled["people"]["created"] == 33 and summary.pulled["people"]["failed"] == 3
    assert summary.invites["created"] == 19 and summary.leerbewijzen["issued"] == 4  # 17 + the 2 group moments; three switchers' and a coach's


def test_dry_run_shows_the_writes_and_writes_nothing(network):
    dry = sync(network, dry_run=True)
    assert dry.dry_run and dict(dry.invites) == {"created": 19, "updated": 0, "cancelled": 0}  # with the 2 group moments
    # + the notes to the managers of Ruth (EX-05) and Nathalie (EX-07): Zonneke and Les Petits Pas inform (issue 25)
    assert {p["object"] for p in dry.planned} == {"calendar_event", "training_record", "leerbewijs", "manager_note"}
    assert len(dry.planned) == 19 + 6 + 4 + 2  # invitations, training records (one a coach's), leerbewijzen (one a coach's), notes
    assert not network.out.exists()
    real = sync(network)
    assert real.pulled["people"]["created"] == 34  # the dry run stored nothing
    assert writes(real) == 29  # 17 sessions + the 2 group moments, 6 training records, 4 leerbewijzen
    assert sum(w["object"] == "manager_note" for w in real.written_files) == 2  # and the two manager notes


def test_person_gone_from_the_hr_export_becomes_inactive_not_deleted(network):
    sync(network)
    network.edit_csv("zonneke/medewerkers.csv", "Z010;Bram;Goossens;bram.goossens@zonneke.be;NL;Onderhoud;Gent;Technisch medewerker;0,5;19;01/06/2022;;M;Z002\n", "")
    summary = sync(network)
    assert summary.pulled["people"]["removed"] == 1
    rows = query(network, select(Person.active).where(Person.employee_number == "Z010"))
    assert rows == [(False,)]


class Crash(BaseException):
    """Stands for the process dying: nothing after it runs, no cleanup commits."""


@pytest.mark.parametrize(("store_url", "crash_at"), stores_sampled([1, 2, 10, 20, 25]), indirect=["store_url"])
def test_crash_between_a_write_and_its_bookkeeping_is_finished_by_the_next_run(network, tmp_path_factory, monkeypatch, crash_at):
    from connector.engine import sync as engine

    clean = type(network)(tmp_path_factory.mktemp("clean"), f"sqlite:///{tmp_path_factory.mktemp('cleanstate') / 'c.db'}")
    sync(clean)
    real_record = engine.record_outcome
    calls = {"n": 0}

    def dying_record(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == crash_at:
            raise Crash()
        return real_record(*args, **kwargs)

    monkeypatch.setattr(engine, "record_outcome", dying_record)
    with pytest.raises(Crash):
        sync(network)
    monkeypatch.setattr(engine, "record_outcome", real_record)
    sync(network)
    assert network.output_hashes() == clean.output_hashes()
    assert writes(sync(network)) == 0
    refs = query(network, select(ExternalRef.target, ExternalRef.object_id, ExternalRef.sequence))
    # each write made once, never a second version (29 with the group moments and the coach's, and the two manager notes)
    assert len(refs) == 29 + 2 and all(sequence == 0 for *_, sequence in refs)


def test_crash_while_planning_leaves_nothing_half_done(network, monkeypatch):
    from connector.engine import plan

    def dying_invitation(self, session):
        raise Crash()

    monkeypatch.setattr(plan.Planner, "invitation", dying_invitation)
    with pytest.raises(Crash):
        sync(network)
    monkeypatch.undo()
    assert not network.out.exists()
    summary = sync(network)
    assert summary.pulled["people"]["created"] == 34 and writes(summary) == 29  # with the coach's record and leerbewijs


def test_a_target_that_cannot_be_written_fails_alone_and_is_retried(network):
    network.out.mkdir()
    (network.out / "ledgers").write_text("a file where a folder should be")
    summary = sync(network)
    assert summary.status == "partial"
    assert summary.training_records["written"] == 0 and summary.invites["created"] == 19  # 17 + the 2 group moments
    failed = [e for e in summary.errors if e.entity == "training_record"]
    assert len(failed) == 6 and all(e.message.startswith("not written:") for e in failed)  # one is EX-01's coach's day
    (network.out / "ledgers").unlink()
    retry = sync(network)
    assert retry.status == "ok" and retry.training_records["written"] == 6 and retry.invites["created"] == 0


def test_later_dates_write_more_back_and_keep_earlier_records(network):
    sync(network)
    summary = sync(network, as_of="2029-02-01")
    assert summary.training_records["written"] == 2 + 1 + 2 + 2  # EX-04, EX-05, EX-06, EX-07
    assert summary.leerbewijzen["issued"] == 4
    assert writes(sync(network, as_of="2029-02-01")) == 0
    assert sorted(p.name for p in (network.out / "leerbewijzen").rglob("*.pdf"))[-1] == "LB-2029-0004.pdf"


def test_spreadsheet_formulas_in_user_text_are_neutralised_in_ledgers(network):
    from openpyxl import load_workbook

    network.edit_csv("cohort/leervragen.csv", "LV-02;groenkracht;G104;Hoe begeleid", 'LV-02;groenkracht;G104;=HYPERLINK("http://x.example";"klik") Hoe begeleid')
    sync(network)
    csv_text = (network.out / "ledgers" / "groenkracht" / "training-ledger.csv").read_text(encoding="utf-8-sig")
    assert ";'=HYPERLINK(" in csv_text.replace('"', "")
    sheet = load_workbook(network.out / "ledgers" / "groenkracht" / "training-ledger.xlsx")["Training"]
    cell = sheet.cell(2, 13)
    assert cell.data_type == "s" and cell.value.startswith("'=HYPERLINK(")
    assert writes(sync(network)) == 0  # reading our own ledger back does not neutralise twice


def test_intro_call_is_a_20_minute_online_meeting_and_exchange_days_have_the_host_address(network):
    sync(network)
    _, intro = vevent(network, "S-04-INTRO")
    assert (intro.decoded("DTEND") - intro.decoded("DTSTART")).total_seconds() == 20 * 60
    assert "LOCATION" not in intro and "20 minutes" in str(intro["DESCRIPTION"])  # the switcher (Amélie) reads French
    _, day = vevent(network, "S-04-D1")
    assert str(day["LOCATION"]) == "Kortrijksesteenweg 118, 9000 Gent"
    _, site_visit = vevent(network, "S-06-D1")
    assert str(site_visit["LOCATION"]) == "Diestsesteenweg 310, 3010 Leuven"
    assert "Leervraag: Hoe plan je onderhoudswerven" in str(site_visit["DESCRIPTION"])


def test_an_attempt_is_counted_before_sending_so_a_retry_knows_it_may_have_landed(network, monkeypatch):
    from connector.engine import sync as engine
    from connector.store.tables import OutboxItem

    real_record = engine.record_outcome

    def dying_in_the_calendar(db, item, outcome, now):
        if item.target == "calendar-files":
            raise Crash()  # the .ics files are written, their bookkeeping is not
        return real_record(db, item, outcome, now)

    monkeypatch.setattr(engine, "record_outcome", dying_in_the_calendar)
    with pytest.raises(Crash):
        sync(network)
    claimed = dict(query(network, select(OutboxItem.object_id, OutboxItem.attempts).where(OutboxItem.target == "calendar-files")))
    assert len(claimed) == 19 and set(claimed.values()) == {1}  # 17 + the 2 group moments
    # The session moves before the retry: its new version must know the old one may exist remotely.
    network.edit_csv("cohort/sessies.csv", "S-03-EVAL;EX-03;evaluatie;14/12/2026;15:00", "S-03-EVAL;EX-03;evaluatie;15/12/2026;15:00")
    seen = {}

    def recording(db, item, outcome, now):
        seen[(item.target, item.object_id)] = (item.sequence, item.uncertain)
        return real_record(db, item, outcome, now)

    monkeypatch.setattr(engine, "record_outcome", recording)
    sync(network)
    assert seen[("calendar-files", "S-03-EVAL")] == (1, True)    # superseded an attempted write
    assert seen[("calendar-files", "S-04-INTRO")] == (0, True)   # the same write, tried again after a crash
    assert not any(uncertain for (target, _), (_, uncertain) in seen.items() if target != "calendar-files")


def test_a_typo_in_a_known_row_is_reported_and_the_person_kept_as_they_were(network):
    sync(network)
    network.edit_csv("zonneke/medewerkers.csv", "Z010;Bram;Goossens;bram.goossens@zonneke.be;NL;Onderhoud;Gent;Technisch medewerker;0,5;19;01/06/2022",
                     "Z010;Bram;Goossens;bram.goossens@zonneke.be;NL;Technische dienst;Gent;Technisch medewerker;0,5;19;1 juni")
    summary = sync(network)
    assert summary.pulled["people"]["removed"] == 0 and summary.pulled["people"]["failed"] == 1
    assert any(e.record == "medewerkers.csv row 11" and e.field == "start_date" for e in summary.errors)
    rows = query(network, select(Person.active, Person.department).where(Person.employee_number == "Z010"))
    assert rows == [(True, "Onderhoud")]  # the last good version stays until the row is fixed


def test_a_write_that_keeps_failing_backs_off_instead_of_hammering(network):
    from datetime import UTC, timedelta

    from connector.store.outbox import backoff, pending_items, utcnow
    from connector.store.tables import OutboxItem

    assert [backoff(n) for n in (1, 2, 3, 4, 10)] == [timedelta(0), timedelta(0), timedelta(minutes=15), timedelta(minutes=30), timedelta(days=1)]
    network.out.mkdir()
    (network.out / "ledgers").write_text("a file where a folder should be")
    for _ in range(3):
        sync(network)
    waits = query(network, select(OutboxItem.attempts, OutboxItem.next_attempt_at).where(OutboxItem.target == "zonneke/ledger_files"))
    assert waits and all(attempts == 3 and 14 <= (moment - utcnow()).total_seconds() / 60 <= 15 for attempts, moment in waits)
    fourth = sync(network)
    assert not [e for e in fourth.errors if e.entity == "training_record"]  # not retried: still waiting
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        due_later = pending_items(db, utcnow() + timedelta(minutes=16))
    engine.dispose()
    assert {item.target for item in due_later} >= {"zonneke/ledger_files"} and all(i.next_attempt_at.tzinfo == UTC for i in due_later if i.next_attempt_at)


def test_every_invitation_written_parses_with_two_independent_parsers(network):
    import vobject

    sync(network)
    sync(network, as_of="2028-01-01")  # more sessions, cancellations and reminders over time
    files = sorted((network.out / "invitations").glob("*.ics"))
    assert len(files) == 17 + 2 + 2  # and EX-05's reminders of January and May 2028, and the cohort's 2 group moments
    for path in files:
        data = path.read_bytes()
        assert data.endswith(b"END:VCALENDAR\r\n") and b"\n" not in data.replace(b"\r\n", b"")
        ours = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
        theirs = vobject.readOne(data.decode("utf-8")).vevent
        assert theirs.uid.value == str(ours["UID"]), path.name
        assert theirs.dtstart.value == ours.decoded("DTSTART"), path.name
        assert theirs.summary.value == str(ours["SUMMARY"]), path.name
