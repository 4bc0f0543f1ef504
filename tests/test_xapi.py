"""Exchange days as xAPI statements, and other tools' hours read back, against a real LRS (Ralph)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connector.engine.sync import run_sync
from tests.conftest import dies_after_delivery
from tests.fakes.lrs_server import PASSWORD, USERNAME, Ralph

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"


@pytest.fixture
def lrs():
    server = Ralph().start()
    yield server
    server.stop()


@pytest.fixture
def network(sqlite_network, lrs, monkeypatch):
    from tests.test_successfactors import both_days

    both_days(sqlite_network)  # EX-01's second day is marked absent in the example; here both are written
    monkeypatch.setenv("ST_TEST_LRS_PASSWORD", PASSWORD)
    lrs.account = f"https://hr-{id(sqlite_network)}.zonneke.be"  # one account namespace per test: the LRS is shared
    sqlite_network.add_to_organisation("zonneke", f"""
  [[organisations.writeback]]
  kind = "xapi"
  url = "{lrs.base}"
  username = "{USERNAME}"
  password = "${{ST_TEST_LRS_PASSWORD}}"
  account_home_page = "{lrs.account}"
""")
    return sqlite_network


def ours(lrs) -> list[dict]:
    return [s for s in lrs.statements() if s["actor"].get("account", {}).get("homePage") == lrs.account and s["verb"]["id"] == ATTENDED]


def test_each_past_exchange_day_becomes_one_statement_once(network, lrs):
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    statements = sorted(ours(lrs), key=lambda s: s["timestamp"])
    assert [(s["actor"]["account"]["name"], s["result"]["duration"], s["timestamp"][:10]) for s in statements] == \
        [("Z005", "PT7H", "2025-12-04"), ("Z005", "PT7H", "2025-12-05")]
    context = statements[0]["context"]["extensions"]
    assert context["https://w3id.org/switching-talent/xapi/host-organisation"] == "Crèche Les Petits Pas asbl"
    assert context["https://w3id.org/switching-talent/xapi/leerbewijs"] == "LB-2026-0001"
    again = run_sync(network.config(), MOMENT)
    assert again.training_records["written"] == 0 and "xapi:zonneke/xapi" not in again.requests


def test_a_crash_after_posting_does_not_double_the_hours(network, lrs):
    with dies_after_delivery("zonneke/xapi"):  # the statements reached the LRS; our bookkeeping did not happen
        run_sync(network.config(), MOMENT)
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert len(ours(lrs)) == 2  # the same statement ids again: the LRS took them as the same statements


def test_a_changed_day_voids_the_old_statement(network, lrs):
    run_sync(network.config(), MOMENT)
    first = {s["timestamp"][:10]: s["id"] for s in ours(lrs)}
    network.edit_csv("cohort/sessies.csv", "S-01-D1;EX-01;uitwisselingsdag;04/12/2025;08:30;16:00;ter plaatse;;7",
                     "S-01-D1;EX-01;uitwisselingsdag;04/12/2025;08:30;16:00;ter plaatse;;6,5")
    run_sync(network.config(), MOMENT)
    voids = [s for s in lrs.statements() if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
             and s["object"]["id"] == first["2025-12-04"]]
    assert len(voids) == 1
    current = [s for s in ours(lrs) if s["timestamp"].startswith("2025-12-04") and s["id"] != first["2025-12-04"]]
    assert [s["result"]["duration"] for s in current] == ["PT6H30M"]


def add_lms_source(network, lrs, extra: str = "") -> None:
    """An xapi source on the test's LRS for 't Zonneke."""
    network.add_to_organisation("zonneke", f"""
  [[organisations.sources]]
  name = "lms"
  kind = "xapi"
  url = "{lrs.base}"
  username = "{USERNAME}"
  password = "${{ST_TEST_LRS_PASSWORD}}"
  {extra}
  entities = ["training_records"]
""")


def pulled_from_lms(network) -> list[tuple[str, float, str, str]]:
    from sqlalchemy import select

    from connector.store.db import open_engine, session_factory
    from connector.store.tables import Person, TrainingRecord

    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        rows = db.execute(select(Person.employee_number, TrainingRecord.hours, TrainingRecord.title, TrainingRecord.date)
                          .join(Person, Person.id == TrainingRecord.person_id).where(TrainingRecord.source == "zonneke/lms")).all()
    engine.dispose()
    return [(n, h, t, d.isoformat()) for n, h, t, d in rows]


def test_hours_other_tools_recorded_are_pulled_and_our_own_are_not(sqlite_network, lrs, monkeypatch):
    monkeypatch.setenv("ST_TEST_LRS_PASSWORD", PASSWORD)
    account = f"https://lms-{id(sqlite_network)}.zonneke.be"
    lrs.post(
        {"id": "6a1f2c3d-0000-4000-8000-00000000a001", "actor": {"objectType": "Agent", "name": "Hanne", "account": {"homePage": account, "name": "Z003"}},
         "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
         "object": {"objectType": "Activity", "id": "https://lms.example/courses/veilig-werken",
                    "definition": {"name": {"nl-BE": "E-learning veilig werken"}}},
         "result": {"completion": True, "duration": "PT2H30M"}, "timestamp": "2026-05-04T13:00:00+00:00"},
        {"id": "6a1f2c3d-0000-4000-8000-00000000a002", "actor": {"objectType": "Agent", "name": "Hanne", "account": {"homePage": account, "name": "Z003"}},
         "verb": {"id": "http://adlnet.gov/expapi/verbs/launched", "display": {"en-US": "launched"}},
         "object": {"objectType": "Activity", "id": "https://lms.example/courses/veilig-werken"}, "timestamp": "2026-05-04T10:30:00+00:00"},
    )
    add_lms_source(sqlite_network, lrs)
    summary = run_sync(sqlite_network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert pulled_from_lms(sqlite_network) == [("Z003", 2.5, "E-learning veilig werken", "2026-05-04")]
    assert run_sync(sqlite_network.config(), MOMENT).pulled["training_records"]["created"] == 0  # since the newest stored statement


def test_statements_past_the_first_page_follow_more_from_the_server_root(sqlite_network, lrs, monkeypatch):
    """Finding 1: `more` is a relative IRL with the full path (/xAPI/statements?...); joined onto
    the endpoint it became /xAPI/xAPI/statements (404). Five statements, two a page, real Ralph."""
    monkeypatch.setenv("ST_TEST_LRS_PASSWORD", PASSWORD)
    account = f"https://lms-{id(sqlite_network)}.zonneke.be"
    lrs.post(*[{"id": f"6a1f2c3d-0000-4000-8000-0000000{n:05d}", "actor": {"objectType": "Agent", "account": {"homePage": account, "name": "Z003"}},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
                "object": {"objectType": "Activity", "id": f"https://lms.example/courses/module-{n}",
                           "definition": {"name": {"nl-BE": f"Module {n}"}}},
                "result": {"completion": True, "duration": "PT1H"}, "timestamp": f"2026-05-0{n}T13:00:00+00:00"} for n in range(1, 6)])
    add_lms_source(sqlite_network, lrs, "page_size = 2")
    summary = run_sync(sqlite_network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert summary.requests["xapi:lms"] >= 3, summary.requests  # more than one page of this LRS was read
    assert sorted(title for _, _, title, _ in pulled_from_lms(sqlite_network)) == [f"Module {n}" for n in range(1, 6)]
    # The real LRS agrees with the facts recorded from the specification (tests/contracts/xapi.json).
    import requests

    from tests.contracts import checker

    page = requests.get(lrs.base + "statements", params={"limit": 2}, auth=lrs.auth, headers=lrs.headers, timeout=10).json()
    assert page["more"].startswith("/xAPI/statements")
    contract = checker.load("xapi")
    assert contract.check_response("GET", "/xAPI/statements", 200, page) == []


def test_a_restored_store_voids_what_the_lost_runs_sent_so_the_hours_count_once(network, lrs, tmp_path):
    import shutil
    import sqlite3

    run_sync(network.config(), MOMENT)
    database = network.store_url.removeprefix("sqlite:///")
    backup = sqlite3.connect(tmp_path / "backup.db")
    sqlite3.connect(database).backup(backup)
    backup.close()
    network.edit_csv("cohort/sessies.csv", "S-01-D1;EX-01;uitwisselingsdag;04/12/2025;08:30;16:00;ter plaatse;;7",
                     "S-01-D1;EX-01;uitwisselingsdag;04/12/2025;08:30;16:00;ter plaatse;;6")
    run_sync(network.config(), MOMENT)  # a lost run: 6 hours sent, the 7 voided
    for leftover in ("", "-wal", "-shm"):
        Path(database + leftover).unlink(missing_ok=True)
    shutil.copyfile(tmp_path / "backup.db", database)  # the store knows only the 7 hours
    network.edit_csv("cohort/sessies.csv", "S-01-D1;EX-01;uitwisselingsdag;04/12/2025;08:30;16:00;ter plaatse;;6",
                     "S-01-D1;EX-01;uitwisselingsdag;04/12/2025;08:30;16:00;ter plaatse;;5")
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    voided = {s["object"]["id"] for s in lrs.statements() if s["verb"]["id"].endswith("/voided")}
    counted = sorted((s["timestamp"][:10], s["result"]["duration"]) for s in ours(lrs) if s["id"] not in voided)
    assert counted == [("2025-12-04", "PT5H"), ("2025-12-05", "PT7H")]  # neither the 7 nor the 6 still counts
