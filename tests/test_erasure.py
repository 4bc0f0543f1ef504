"""Issue 19, item 4: a person erased on request leaves nothing of themselves in the store
(the SQLite file's bytes, every text and JSON column on PostgreSQL), what the training account
and the leerbewijs register need stays under a pseudonym, and a later sync brings them back
only while the HR export still lists them. Retention empties what is no longer needed."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import JSON, String, Text, create_engine, delete, func, select, text

from connector.engine.sync import run_sync
from connector.store.db import open_engine, session_factory
from connector.store.tables import Base, Erasure, Leerbewijs, OutboxItem, Person, SourceRecord, TrainingRecord
from tests.test_cli import cli

AS_OF = "2026-11-22"
# Fatima El Amrani (Z005 at 't Zonneke) is the switcher of EX-01: two exchange days written to
# the ledger, a leerbewijs issued; she has a training record of her own in the HR export.
TRACES = ("Fatima", "El Amrani", "elamrani", "ElAmrani", "Z005")


def _sync(network, as_of: str = AS_OF):
    return run_sync(network.config(), datetime.fromisoformat(as_of).replace(tzinfo=ZoneInfo("Europe/Brussels")))


def _traces(network) -> list[str]:
    """Every trace of Fatima left in the store: in the SQLite file's bytes (after a checkpoint
    and VACUUM, so no deleted page survives), or in any text or JSON column on PostgreSQL."""
    if network.store_url.startswith("sqlite"):
        path = network.store_url.removeprefix("sqlite:///")
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("VACUUM")
        connection.close()
        data = open(path, "rb").read().lower()
        return [t for t in TRACES if t.lower().encode() in data]
    engine = create_engine(network.store_url)
    found = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c.name for c in table.columns if isinstance(c.type, (String, Text, JSON))]
            for column in columns:
                values = connection.execute(text(f'SELECT CAST("{column}" AS TEXT) FROM "{table.name}"')).scalars()
                found += [f"{table.name}.{column}: {t}" for value in values if value for t in TRACES if t.lower() in value.lower()]
    engine.dispose()
    return found


def _remove_from_sources(network) -> None:
    """What the README asks first: the HR export and the cohort sheet no longer name her."""
    for relative in ("zonneke/medewerkers.csv", "zonneke/opleidingen.csv", "zonneke/opleidingsplan.csv", "cohort/leervragen.csv"):
        path = network.data / relative
        raw = path.read_bytes()
        bom = raw.startswith(b"\xef\xbb\xbf")
        lines = raw.decode("utf-8-sig").splitlines(keepends=True)
        kept = [line for line in lines if "Z005" not in line]
        assert len(kept) < len(lines), relative
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + "".join(kept).encode("utf-8"))


def test_erase_leaves_no_trace_keeps_the_account_and_a_later_sync_does_not_bring_her_back(network):
    _sync(network)
    assert _traces(network), "the test must see her before the erasure"
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        hours_before = sorted(r.hours for r in db.scalars(select(TrainingRecord).join(Person).where(Person.employee_number == "Z005")))
    engine.dispose()  # the file is read byte by byte below: no connection of ours stays open
    dry = cli("erase", "--config", str(network.config_path), "--person", "FATIMA.elamrani@zonneke.be", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert _traces(network)  # a dry run changes nothing
    _remove_from_sources(network)
    result = cli("erase", "--config", str(network.config_path), "--person", "Z005", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    (person,) = report["people"]
    assert person["organisation"] == "zonneke"
    assert person["counts"]["removed: source records with their raw payloads"] >= 3
    external = {(c["where"], c["what"]): c for c in person["external"]}
    assert external[("target zonneke/ledger_files", "training_record exchange:S-01-D1")]["removed"] is False
    assert any(w == "target leerbewijs-files" and what.startswith("leerbewijs LB-") for w, what in external)
    (pdf,) = [c["note"] for (w, what), c in external.items() if w == "target leerbewijs-files"]
    assert ".pdf (and " in pdf and ".edc.jsonld and " in pdf and ".europass.txt beside it)" in pdf  # every copy of the proof
    assert any(w.startswith("source zonneke/hr") for w, _ in external)
    assert not any(t.lower() in result.stdout.lower() for t in TRACES)  # the report does not repeat what it erased
    assert _traces(network) == []
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        (erased,) = db.scalars(select(Erasure))
        assert not any(t.lower() in json.dumps(erased.summary).lower() for t in TRACES)
        kept = db.get(Person, erased.pseudonym)
        assert kept.first_name == "(erased)" and kept.email is None and kept.employee_number is None and kept.fte == 0.8
        assert sorted(r.hours for r in db.scalars(select(TrainingRecord).where(TrainingRecord.person_id == kept.id))) == hours_before
        (register,) = db.scalars(select(Leerbewijs).where(Leerbewijs.exchange_code == "EX-01", Leerbewijs.role == "switcher"))
        # only its place in the revocation list stays, so it can still be revoked
        assert register.fingerprint and register.content == {"erased": True, "status": {
            "index": register.content["status"]["index"], "list": "https://lerenswitchen.be/leerbewijs/status/1"}}
    engine.dispose()
    later = _sync(network)
    assert later.status in ("ok", "partial")
    # The cohort's two group moments go on without her: their invitations are updated to no longer list her
    # (nothing written carries her name, address or pseudonym); nothing else is written.
    assert dict(later.invites) == {"created": 0, "updated": 2, "cancelled": 0}
    assert later.training_records["written"] + later.leerbewijzen["issued"] == 0
    assert _traces(network) == []  # not brought back: no source lists her
    # the outbox rows the erasure removed do not make the store look restored from a backup, now or later
    quiet = [later, _sync(network)]
    assert not [e for run in quiet for e in run.errors if "behind the values it already handed out" in e.message], quiet


def test_erasing_whoever_the_last_write_named_does_not_make_the_store_look_restored(sqlite_network):
    """The erasure removes the outbox rows naming the person (the highest sequence among them;
    a shared copy only loses their attendee entry): the next runs must neither number below it
    nor warn that the store was restored."""
    network = sqlite_network
    _sync(network)
    evaluation = "S-03-EVAL;EX-03;evaluatie;14/12/2026;15:00;15:30;online;;;"
    network.edit_csv("cohort/sessies.csv", evaluation, evaluation.replace("15:00;15:30", "16:00;16:30"))
    _sync(network)  # Stijn's evaluation moved: its invitations went out again as SEQUENCE 1, the highest handed out
    address = "stijn@brouwers-peeters.be"
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        highest = db.scalar(select(func.max(OutboxItem.sequence)))
        top = db.scalars(select(OutboxItem).where(OutboxItem.sequence == highest)).all()
        assert highest == 1 and all(address in json.dumps(item.payload) for item in top)
    engine.dispose()
    erased = cli("erase", "--config", str(network.config_path), "--person", address, "--json")
    assert erased.returncode == 0, erased.stderr
    runs = [_sync(network), _sync(network)]
    other = "S-05-EVAL;EX-05;evaluatie;17/01/2028;10:00;10:30;online;;;"
    network.edit_csv("cohort/sessies.csv", other, other.replace("10:00;10:30", "11:00;11:30"))
    runs.append(_sync(network))  # another exchange's moment moved: its updates number on above what Stijn's got
    assert not [e.message for run in runs for e in run.errors if "behind the values it already handed out" in e.message]
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        moved = db.scalars(select(OutboxItem).where(OutboxItem.object_id.startswith("S-05-EVAL"))).all()
        assert moved and max(item.sequence for item in moved) > highest, [(i.object_id, i.sequence) for i in moved]
    engine.dispose()


def test_the_floor_an_erasure_keeps_lets_the_top_rows_go_without_the_store_looking_restored(tmp_path):
    from connector.store.db import migrate
    from connector.store.witness import STORE_BEHIND, IssuedValues, continue_above, keep_sequence_floor

    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    with session_factory(engine)() as db:
        db.add(OutboxItem(idempotency_key="k", target="calendar-files", object_type="calendar_event", object_id="S-1|a@x.be",
                          action="upsert", payload={}, payload_hash="h", sequence=3, planned_run=1))
        db.flush()
        keep_sequence_floor(db)  # what the outbox eraser does before it deletes
        db.execute(delete(OutboxItem))
        assert continue_above(db, IssuedValues(sequence=3)) == 4 and not db.info.get(STORE_BEHIND)
    engine.dispose()


def test_a_person_the_hr_export_still_lists_comes_back_on_the_next_sync(sqlite_network):
    network = sqlite_network
    _sync(network)
    assert cli("erase", "--config", str(network.config_path), "--person", "Z005").returncode == 0
    assert _traces(network) == []
    summary = _sync(network)
    assert summary.written == {} or all(not items for items in summary.written.values())  # nothing sent about her again
    assert network.people("zonneke")["fatima.elamrani@zonneke.be"].first_name == "Fatima"


def test_an_ambiguous_or_unknown_reference_is_refused(sqlite_network):
    _sync(sqlite_network)
    unknown = cli("erase", "--config", str(sqlite_network.config_path), "--person", "nobody@zonneke.be")
    assert unknown.returncode == 2 and "nobody in the store is known as 'nobody@zonneke.be'" in unknown.stderr
    engine = open_engine(sqlite_network.store_url)
    with session_factory(engine).begin() as db:  # an employee number two organisations use
        db.get(Person, next(iter(db.scalars(select(Person.id).where(Person.organisation_id == "groenkracht"))))).employee_number = "Z005"
    engine.dispose()
    twice = cli("erase", "--config", str(sqlite_network.config_path), "--person", "Z005")
    assert twice.returncode == 2 and "is used in groenkracht, zonneke: add --organisation ID" in twice.stderr
    assert cli("erase", "--config", str(sqlite_network.config_path), "--person", "Z005", "--organisation", "zonneke").returncode == 0


def test_the_hook_takes_a_new_kind_of_personal_data(sqlite_network, monkeypatch):
    from connector.core.config import load_config
    from connector.store import erasers, erasure  # noqa: F401  (the product's erasers first: they register on import,
    # and one registered while this test's copy of the list is in place would be lost with it afterwards)

    seen = []
    monkeypatch.setattr(erasure, "ERASERS", [*erasure.ERASERS])

    @erasure.eraser("answers")
    def _answers(job):
        seen.append(job.subject.organisation_id)
        job.removed("evaluation answers", 2)

    _sync(sqlite_network)
    engine = open_engine(sqlite_network.store_url)
    with session_factory(engine)() as db:
        report = erasure.erase_person(db, load_config(sqlite_network.config_path), "Z005", None,
                                      datetime(2026, 11, 23, tzinfo=ZoneInfo("UTC")), dry_run=True)
        db.rollback()
    engine.dispose()
    assert seen == ["zonneke"] and report.people[0]["counts"]["removed: evaluation answers"] == 2


@pytest.mark.parametrize("setting", ["raw_payload_days = 30", "finished_cohort_days = 120"])
def test_retention_deletes_what_is_no_longer_needed_and_a_later_pull_does_not_restore_it(network, setting):
    _sync(network, "2026-01-05")
    network.replace("# raw_payload_days = 90", setting)
    summary = _sync(network, "2026-11-22")
    assert summary.status == "ok", summary.errors
    engine = open_engine(network.store_url)

    def state():
        with session_factory(engine)() as db:
            records = list(db.scalars(select(SourceRecord)))
            return ({(r.entity, r.remote_id) for r in records if not r.raw}, {(r.entity, r.remote_id): r.data for r in records})

    emptied, data = state()
    if setting.startswith("raw"):
        # unchanged since January: every raw payload of a record that did not change since then
        assert ("people", "Z005") in {(e, i.split("|")[0]) for e, i in emptied}
    else:
        # EX-01 and EX-02 ended more than 120 days before 22/11/2026 (EX-02's evaluation on 01/06); EX-03 (October) did not
        assert ("exchanges", "EX-01") in emptied and ("sessions", "S-02-D1") in emptied and ("exchanges", "EX-03") not in emptied
        assert "description" not in data[("learning_questions", "LV-02")] and "desired_result" not in data[("learning_questions", "LV-02")]
        assert "desired_result" in data[("learning_questions", "LV-03")]
    again = _sync(network, "2026-11-23")
    assert again.status == "ok" and sum(again.invites.values()) + again.training_records["written"] == 0
    assert state() == (emptied, data)  # the unchanged rows at the source stay unchanged here: nothing comes back
    engine.dispose()


def test_a_coachs_erasure_lists_the_ledgers_naming_her_as_coach_csv_and_workbook(sqlite_network):
    """Found by a new user: the ledger rows of the exchange she coached name her in their coach
    column, and the workbook holds the same rows as the CSV."""
    _sync(sqlite_network)
    result = cli("erase", "--config", str(sqlite_network.config_path), "--person", "nele.geerts@zonneke.be", "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    (person,) = json.loads(result.stdout)["people"]
    ledgers = [c for c in person["external"] if c["where"] == "target groenkracht/ledger_files"]
    assert {c["what"] for c in ledgers} >= {"training_record exchange:S-02-D1", "training_record exchange:S-02-D2"}
    assert all("training-ledger.xlsx" in c["note"] for c in ledgers)
