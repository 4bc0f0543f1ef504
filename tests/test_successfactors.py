"""SAP SuccessFactors as the HR system of one employer: users in through OData v2 server
paging, exchange days out as external learning events in Learning, against a loopback
stand-in with the documented shapes (tests/fakes/successfactors_server.py)."""

from __future__ import annotations

import csv
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from connector.engine.sync import run_sync
from tests.conftest import dies_after_delivery
from tests.fakes.faults import lose_answers
from tests.fakes.loopback import Answer
from tests.fakes.successfactors_server import (
    CLIENT_ID,
    COMPANY,
    EVENTS,
    LEARNING_SECRET,
    PRIVATE_KEY,
    FakeSuccessFactors,
)

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
HR = """  path = "examples/data/zonneke"    # medewerkers.csv (UTF-8 with BOM, ;) and opleidingen.csv
  entities = ["people", "training_records"]
"""


@pytest.fixture
def sap(sqlite_network):
    fake = FakeSuccessFactors().start()
    with open(sqlite_network.data / "zonneke" / "medewerkers.csv", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            day, month, year = row["In dienst"].split("/")
            fake.add_user(row["Personeelsnummer"], row["Voornaam"], row["Familienaam"], row["E-mail werk"],
                          department=row["Afdeling"], location=row["Vestiging"], title=row["Functie"], hire_date=f"{year}-{month}-{day}")
    fake.add_user("Z090", "Vroeger", "Hier", "vroeger@zonneke.be", status="f")
    yield fake
    fake.stop()


@pytest.fixture
def network(sqlite_network, sap, monkeypatch):
    monkeypatch.setenv("ST_TEST_SF_KEY", PRIVATE_KEY)
    monkeypatch.setenv("ST_TEST_SF_LEARNING_SECRET", LEARNING_SECRET)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    sqlite_network.replace(HR, HR.replace('["people", "training_records"]', '["training_records"]') + f"""
  [[organisations.sources]]
  name = "successfactors"
  kind = "successfactors"
  url = "{sap.base}"
  company_id = "{COMPANY}"
  client_id = "{CLIENT_ID}"
  user_id = "st_connector"
  private_key = "${{ST_TEST_SF_KEY}}"
  page_size = 5
  entities = ["people"]

  [[organisations.writeback]]
  kind = "successfactors"
  learning_url = "{sap.base}"
  company_id = "{COMPANY}"
  client_id = "{CLIENT_ID}"
  client_secret = "${{ST_TEST_SF_LEARNING_SECRET}}"
  user_id = "st_connector"
""")
    return sqlite_network


def test_users_in_by_server_paging_and_exchange_days_out_once(network, sap):
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok", first.errors
    people = network.people("zonneke")
    assert len(people) == len(sap.users) and people["vroeger@zonneke.be"].active is False
    assert people["els.vandenbroeck@zonneke.be"].start_date.isoformat() == "2015-09-01"
    assert sap.requests["users"] == -(-len(sap.users) // 5)  # followed d.__next to the end
    events = sorted(sap.events, key=lambda e: e["completionDate"])
    assert [e["studentID"] for e in events] == ["Z005", "Z005"] and [e["totalHours"] for e in events] == [7.0, 7.0]
    assert events[0]["completionTimeZoneID"] == "Europe/Brussels" and "st-ref:exchange:S-01-D1" in events[0]["description"]
    assert (sap.requests["idp"], sap.requests["token"], sap.requests["learning_token"]) == (1, 1, 1)
    second = run_sync(network.config(), MOMENT)
    assert second.status == "ok", second.errors
    assert len(sap.events) == 2 and sap.requests["post_events"] == 1


def test_incremental_asks_only_for_changed_users(network, sap):
    network.replace('  page_size = 5\n', '  page_size = 5\n  incremental = true\n')
    assert run_sync(network.config(), MOMENT).status == "ok"
    before = sap.requests["users"]
    sap.users[1].update(title="Directeur", lastModifiedDateTime=f"/Date({int(MOMENT.timestamp() * 1000) + 1000})/")  # after the cursor
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert sap.requests["users"] - before == 1
    assert network.people("zonneke")["sofie.desmet@zonneke.be"].job_title == "Directeur"
    assert summary.pulled["people"]["updated"] == 1


def test_a_crash_after_posting_records_each_day_once(network, sap):
    with dies_after_delivery("zonneke/successfactors"):
        run_sync(network.config(), MOMENT)
    assert len(sap.events) == 2
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert len(sap.events) == 2 and sap.requests["events"] == 2  # looked for each uncertain day first


def test_a_refused_key_and_transient_faults(network, sap, monkeypatch):
    monkeypatch.setenv("ST_TEST_SF_KEY", "wrong-key")
    refused = run_sync(network.config(), MOMENT)
    problem = next(e for e in refused.errors if e.source == "zonneke/successfactors")
    assert "SuccessFactors refused the OAuth client" in problem.message and "wrong-key" not in str(refused.as_dict())
    monkeypatch.setenv("ST_TEST_SF_KEY", PRIVATE_KEY)
    sap.fail(1, 429, {"Retry-After": "3"})
    sap.fail(1, 503)
    sap.drop(1)
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert len(sap.events) == 2


def test_a_changed_day_is_not_sent_twice_but_reported(network, sap):
    assert run_sync(network.config(), MOMENT).status == "ok"
    network.edit_csv("cohort/sessies.csv", "S-01-D2;EX-01;uitwisselingsdag;05/12/2025;08:30;16:00;ter plaatse;;7",
                     "S-01-D2;EX-01;uitwisselingsdag;05/12/2025;08:30;16:00;ter plaatse;;6", encoding="utf-8")
    summary = run_sync(network.config(), MOMENT)
    assert any("correct that event there by hand" in e.message for e in summary.errors)
    assert len(sap.events) == 2


def test_events_whose_answer_is_lost_are_looked_up_not_posted_again(network, sap):
    lost = lose_answers(sap, "POST", EVENTS + "$", instead=lambda: Answer(504, {"error": "Gateway Timeout"}))
    summary = run_sync(network.config(), MOMENT)
    assert lost and summary.status == "ok", summary.errors  # both days found by their st-ref in the same run
    assert len(sap.events) == 2 and sap.requests["post_events"] == 1
