"""BambooHR as the HR system of one employer: people and training in, exchange days and
leerbewijzen out, against a loopback stand-in with the documented shapes
(tests/fakes/bamboohr_server.py cites the pages)."""

from __future__ import annotations

import csv
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from connector.engine.sync import run_sync
from connector.store.db import open_engine, session_factory
from connector.store.tables import TrainingRecord
from tests.conftest import Network, dies_after_delivery
from tests.fakes.faults import lose_answers
from tests.fakes.loopback import Answer
from tests.fakes.bamboohr_server import (
    API_KEY,
    FILE_CATEGORY,
    TRAINING_TYPE,
    FakeBambooHR,
)

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
FILES_SOURCE = """  name = "hr"
  kind = "files"
  path = "examples/data/brouwers-peeters"  # comma-separated, ISO dates
  entities = ["people", "training_records"]
"""
STIJN = "104"  # the switcher of EX-03, whose two exchange days are behind us


@pytest.fixture
def bamboo(sqlite_network):
    fake = brouwers_peeters_in_bamboohr(sqlite_network)
    yield fake
    fake.stop()


def brouwers_peeters_in_bamboohr(network) -> FakeBambooHR:
    """A started BambooHR stand-in holding the example's Brouwers & Peeters staff."""
    fake = FakeBambooHR().start()
    with open(network.data / "brouwers-peeters" / "medewerkers.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            fake.add_employee(str(100 + int(row["Personeelsnummer"][1:])), row["Personeelsnummer"], row["Voornaam"],
                              row["Familienaam"], row["E-mail werk"], department=row["Afdeling"], location=row["Vestiging"],
                              jobTitle=row["Functie"], hireDate=row["In dienst"])
    fake.add_employee("120", "B20", "Oud", "Gediende", "oud@brouwers-peeters.be", status="Inactive", terminationDate="2025-12-31")
    fake.add_training("103", "2026-02-10", "16", notes="F-gassen certificaat categorie I", instructor="Syntra Vlaams-Brabant")
    return fake


@pytest.fixture
def network(sqlite_network, bamboo, monkeypatch):
    monkeypatch.setenv("ST_TEST_BAMBOOHR_KEY", API_KEY)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    return use_bamboohr(sqlite_network, bamboo)


@pytest.fixture
def on_either_store(store_url, tmp_path, bamboo, monkeypatch):
    """The same network on SQLite and on PostgreSQL, for what must hold on both."""
    monkeypatch.setenv("ST_TEST_BAMBOOHR_KEY", API_KEY)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    return use_bamboohr(Network(tmp_path / "either-store", store_url), bamboo)


def use_bamboohr(sqlite_network, bamboo):
    """Brouwers & Peeters read from and written back to `bamboo` (needs ST_TEST_BAMBOOHR_KEY)."""
    source = f"""  name = "bamboohr"
  kind = "bamboohr"
  company = "brouwerspeeters"
  url = "{bamboo.url}"
  api_key = "${{ST_TEST_BAMBOOHR_KEY}}"
  entities = ["people", "training_records"]
"""
    sqlite_network.replace(FILES_SOURCE, source)
    sqlite_network.add_to_organisation("brouwers-peeters", f"""
  [[organisations.writeback]]
  kind = "bamboohr"
  company = "brouwerspeeters"
  url = "{bamboo.url}"
  api_key = "${{ST_TEST_BAMBOOHR_KEY}}"
  training_type = {TRAINING_TYPE}
  file_category = {FILE_CATEGORY}
""")
    return sqlite_network


def ours(fake):
    return [r for r in fake.records_of(STIJN) if fake.type_of(r) == TRAINING_TYPE]


def pulled_training(network) -> int:
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        count = db.scalar(select(func.count()).select_from(TrainingRecord).where(TrainingRecord.origin != "exchange"))
    engine.dispose()
    return int(count or 0)


def test_people_and_training_in_exchange_days_and_leerbewijs_out_once(network, bamboo):
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok", first.errors
    people = network.people("brouwers-peeters")
    assert len(people) == 9 and people["oud@brouwers-peeters.be"].active is False
    assert people["stijn@brouwers-peeters.be"].start_date.isoformat() == "2014-06-02"
    assert people["karel@brouwers-peeters.be"].end_date is None  # BambooHR's 0000-00-00
    records = sorted(ours(bamboo), key=lambda r: r["completed"])
    assert [(r["completed"], float(r["hours"])) for r in records] == [("2026-10-23", 7.0), ("2026-10-26", 7.0)]
    assert records[0]["notes"].endswith("st-ref:exchange:S-03-D1") and "Leerbewijs LB-2026-" in records[0]["notes"]
    assert records[0]["instructor"] == "Atelier Groenkracht cv"
    files = bamboo.files[STIJN]
    # the PDF and, beside it, its European Digital Credential (issue 24)
    assert len(files) == 2 and all(f["category"] == str(FILE_CATEGORY) and f["shareWithEmployee"] == "yes" for f in files)
    assert bamboo.contents[str(files[0]["id"])].startswith(b"%PDF")
    assert files[1]["name"].endswith("(Europass).edc.jsonld") and b'"signatures"' in bamboo.contents[str(files[1]["id"])]
    assert bamboo.requests["report"] == 2  # people with the mapping's fields; ids for the training listing
    trainings_before = pulled_training(network)
    writes = (bamboo.requests["add_training"], bamboo.requests["upload"])

    second = run_sync(network.config(), MOMENT)
    assert second.status == "ok", second.errors
    assert (bamboo.requests["add_training"], bamboo.requests["upload"]) == writes == (2, 2)  # the PDF and its EDC, once
    assert bamboo.requests["update_training"] == 0
    assert pulled_training(network) == trainings_before  # our own records are not read back as more training


def test_incremental_pull_reads_only_changes_and_sees_deletions(network, bamboo):
    network.replace('  api_key = "${ST_TEST_BAMBOOHR_KEY}"\n  entities', '  api_key = "${ST_TEST_BAMBOOHR_KEY}"\n  incremental = true\n  entities')
    assert run_sync(network.config(), MOMENT).status == "ok"
    bamboo.clock = bamboo.clock.replace(month=11, day=21, hour=22, minute=30)  # after the first run's cursor (its start minus an hour)
    bamboo.update_employee("107", jobTitle="Calculator en werfleider")
    bamboo.delete_employee("108")
    before = dict(bamboo.requests)
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert bamboo.requests["changed"] - before.get("changed", 0) == 1
    people = network.people("brouwers-peeters")
    assert people["lien@brouwers-peeters.be"].job_title == "Calculator en werfleider"
    assert people["jef@brouwers-peeters.be"].active is False
    assert summary.pulled["people"]["updated"] == 1 and summary.pulled["people"]["removed"] == 1


def test_throttling_errors_and_dropped_connections_are_retried(network, bamboo):
    bamboo.fail(1, 429, {"Retry-After": "2"})
    bamboo.fail(1, 503)  # BambooHR's throttling answer before September 2026
    bamboo.drop(1)
    bamboo.fail(1, 500)
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert len(ours(bamboo)) == 2 and len(bamboo.files[STIJN]) == 2


def test_truncated_json_is_a_clear_error_and_the_next_run_recovers(network, bamboo):
    bamboo.garble(1)
    broken = run_sync(network.config(), MOMENT)
    problem = next(e for e in broken.errors if e.source == "brouwers-peeters/bamboohr")
    assert "not valid JSON" in problem.message and API_KEY not in str(broken.as_dict())
    assert network.people("zonneke")  # the other employers went through
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert len(ours(bamboo)) == 2


def test_a_crash_between_writing_and_bookkeeping_adds_nothing_twice(network, bamboo):
    with dies_after_delivery("brouwers-peeters/bamboohr"):  # BambooHR holds the records and the file; our books do not
        run_sync(network.config(), MOMENT)
    assert len(ours(bamboo)) == 2  # the process died after BambooHR took both
    recovered = run_sync(network.config(), MOMENT)
    assert recovered.status == "ok", recovered.errors
    assert len(ours(bamboo)) == 2 and len(bamboo.files[STIJN]) == 2
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert len(ours(bamboo)) == 2


def test_an_unknown_training_type_and_a_refused_employee_are_reported(network, bamboo):
    network.replace(f"  training_type = {TRAINING_TYPE}\n", "  training_type = 99\n")
    wrong_type = run_sync(network.config(), MOMENT)
    messages = [e.message for e in wrong_type.errors]
    assert any("training type 99 does not exist in BambooHR (known: 3 (Veiligheid), 7 (Informeel leren))" in m for m in messages), messages
    assert ours(bamboo) == [] and len(bamboo.files[STIJN]) == 2  # the leerbewijs needs no training type
    network.replace("  training_type = 99\n", f"  training_type = {TRAINING_TYPE}\n")
    bamboo.refuse_writes_for.add(STIJN)
    refused = run_sync(network.config(), MOMENT)
    assert any("Stijn Vandamme" in e.message and "BambooHR does not know this employee" in e.message for e in refused.errors)
    assert (network.out / "ledgers" / "brouwers-peeters" / "training-ledger.csv").exists()  # the ledger still got them


def test_a_record_without_name_is_reported_and_the_rest_go_through(network, bamboo):
    bamboo.add_employee("130", "B30", "", "Zondernaam", "zn@brouwers-peeters.be")
    summary = run_sync(network.config(), MOMENT)
    problem = next(e for e in summary.errors if e.source == "brouwers-peeters/bamboohr")
    assert problem.record == "employee 130" and problem.field == "first_name"
    assert len(network.people("brouwers-peeters")) == 9


def test_check_names_missing_options(network):
    from connector.core.errors import ConfigError
    from connector.engine.sync import check

    network.replace(f"  training_type = {TRAINING_TYPE}\n", "")
    network.replace('  company = "brouwerspeeters"\n', "")
    with pytest.raises(ConfigError) as error:
        check(network.config())
    text = "\n".join(error.value.problems)
    assert "give `training_type`" in text


def pulled_titles(network) -> list[tuple[str, float, str | None]]:
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        rows = db.execute(select(TrainingRecord.title, TrainingRecord.hours, TrainingRecord.provider)
                          .where(TrainingRecord.origin != "exchange", TrainingRecord.source == "brouwers-peeters/bamboohr")).all()
    engine.dispose()
    return sorted((title, hours, provider) for title, hours, provider in rows)


def test_training_records_take_their_title_from_the_training_type_and_survive_disabled_fields(network, bamboo):
    """Finding 8: a record's `type` is the type's id (types are an object keyed by id), and
    hours, instructor and credits are null when the company's settings leave them out."""
    bamboo.add_training("105", "2026-03-02", "4", type_id=3)  # no notes, no instructor: its title is the type's name
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert pulled_titles(network) == [("Veiligheid", 4.0, None), ("Veiligheid", 16.0, "Syntra Vlaams-Brabant")]
    bamboo.optional_fields_enabled = False
    network.replace('  api_key = "${ST_TEST_BAMBOOHR_KEY}"\n  entities', '  api_key = "${ST_TEST_BAMBOOHR_KEY}"\n  hours_when_missing = 7.6\n  entities')
    again = run_sync(network.config(), MOMENT)
    assert again.status == "ok", again.errors
    assert pulled_titles(network) == [("Veiligheid", 7.6, None), ("Veiligheid", 7.6, None)]


def test_the_custom_report_asks_for_todays_values(network, bamboo):
    """Finding 9: onlyCurrent=false adds future-dated history values; it never meant inactive employees."""
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert bamboo.only_current and set(bamboo.only_current) == {"true"}
    assert network.people("brouwers-peeters")["oud@brouwers-peeters.be"].active is False  # inactive people are still listed


def test_the_stand_in_answers_as_bamboohr_documents(bamboo):
    """The stand-in itself: documented statuses and shapes, and a request BambooHR would refuse is refused."""
    import requests

    auth = (API_KEY, "x")
    empty = requests.get(f"{bamboo.url}training/record/employee/101", auth=auth, timeout=5)
    assert (empty.status_code, empty.json()) == (200, [])
    types = requests.get(f"{bamboo.url}training/type", auth=auth, timeout=5).json()
    assert types[str(TRAINING_TYPE)]["name"] == "Informeel leren"
    added = requests.post(f"{bamboo.url}training/record/employee/101", auth=auth, timeout=5,
                          json={"completed": "2026-01-05", "type": TRAINING_TYPE, "hours": 7})
    assert added.status_code == 201 and added.json()["type"] == TRAINING_TYPE
    updated = requests.put(f"{bamboo.url}training/record/{added.json()['id']}", auth=auth, timeout=5, json={"completed": "2026-01-06", "hours": 6})
    assert updated.status_code == 201
    refused = requests.put(f"{bamboo.url}training/record/{added.json()['id']}", auth=auth, timeout=5,
                           json={"completed": "2026-01-06", "type": TRAINING_TYPE})
    assert refused.status_code == 400 and "type" in str(refused.json())
    from tests.contracts.checker import ContractViolation

    with pytest.raises(ContractViolation, match="Additional properties"):
        bamboo.contract.assert_clean()


@pytest.mark.parametrize("fault", ["reset", "gateway 502"])
def test_answers_lost_after_the_write_landed_add_nothing_twice(on_either_store, bamboo, fault):
    network = on_either_store
    instead = (lambda: Answer(502, {"error": "Bad Gateway"})) if fault == "gateway 502" else None
    records = lose_answers(bamboo, "POST", r"/training/record/employee/\d+$", times=2, instead=instead)
    files = lose_answers(bamboo, "POST", r"/employees/\d+/files$", times=1, instead=instead)
    summary = run_sync(network.config(), MOMENT)
    assert len(records) == 2 and len(files) == 1  # both records and the file landed, no answer came back
    assert summary.status == "ok", summary.errors  # found again in the same run, not sent twice
    assert len(ours(bamboo)) == 2 and len(bamboo.files[STIJN]) == 2
    assert bamboo.requests["add_training"] == 2 and bamboo.requests["upload"] == 2  # the PDF once, its EDC once
    assert run_sync(network.config(), MOMENT).status == "ok" and bamboo.requests["add_training"] == 2
