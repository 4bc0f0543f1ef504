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


def both_days(network) -> None:
    """EX-01's second day is marked absent in the example; these tests write both of its days."""
    network.edit_csv("cohort/sessies.csv", "S-01-D2;EX-01;uitwisselingsdag;05/12/2025;08:30;16:00;ter plaatse;;7;afwezig",
                     "S-01-D2;EX-01;uitwisselingsdag;05/12/2025;08:30;16:00;ter plaatse;;7;")


@pytest.fixture
def network(sqlite_network, sap, monkeypatch):
    monkeypatch.setenv("ST_TEST_SF_KEY", PRIVATE_KEY)
    monkeypatch.setenv("ST_TEST_SF_LEARNING_SECRET", LEARNING_SECRET)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    both_days(sqlite_network)
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


def test_users_past_the_first_page_are_read_in_server_pages_not_cut_off_by_top(network, sap):
    """Finding 4: `$top` caps the whole result, so a page size sent as $top ended the pull after
    one page without __next and everyone after it looked removed; customPageSize pages."""
    assert len(sap.users) > 5
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert len(network.people("zonneke")) == len(sap.users) and summary.pulled["people"]["removed"] == 0
    asked = [target for method, target in sap.log if target.startswith("/odata/v2/User")]
    assert "customPageSize=5" in asked[0] and not any("%24top" in t or "$top" in t for t in asked)
    assert len(asked) == -(-len(sap.users) // 5)


def test_learning_events_are_posted_as_documented_ten_at_most(sap, sqlite_network, monkeypatch):
    """Finding 2: the body is {"externalLearningEvents": [...]} (SAP KBA 2421887), up to 10 a call."""
    from connector.plumbing.runtime import Runtime
    from connector.sinks import SinkContext
    from connector.sinks.successfactors import LearningEvents
    from connector.store.tables import OutboxItem

    monkeypatch.setattr("time.sleep", lambda seconds: None)
    runtime = Runtime(sqlite_network.config(), MOMENT)
    context = SinkContext(config=runtime.config, output_dir=sqlite_network.out, now=runtime.now, runtime=runtime)
    sink = LearningEvents("zonneke/successfactors", {"learning_url": sap.base, "company_id": COMPANY, "client_id": CLIENT_ID,
                                                     "client_secret": LEARNING_SECRET, "user_id": "st_connector"}, context)
    days = [OutboxItem(id=n, object_id=f"exchange:S-{n:02d}-D1", object_type="training_record", sequence=0, uncertain=False, payload={
        "employee_id": "Z005", "first_name": "Els", "last_name": "Vandenbroeck", "date": f"2026-03-{n:02d}", "hours": 7.0,
        "title": "Leeruitwisseling", "learning_question": "Onthaal", "provider": "Crèche Les Petits Pas asbl"}) for n in range(1, 13)]
    outcomes = sink.deliver(days, {})
    assert all(o.ok for o in outcomes), outcomes
    assert sap.calls == [10, 2]
    first = sap.events[0]
    assert first["completionDate"] == int(datetime(2026, 3, 1, 17, tzinfo=ZoneInfo("Europe/Brussels")).timestamp() * 1000)
    assert first["description"].endswith("(st-ref:exchange:S-01-D1, sequence 0)") and outcomes[0].remote_id == "st-ref:exchange:S-01-D1, sequence 0"


def test_a_day_that_may_have_reached_learning_waits_until_someone_looked(network, sap):
    """Finding 3: Learning documents no way to read events back, so after a crash the days are
    not sent again on their own; `recorded` books them, `resend` sends them once more."""
    with dies_after_delivery("zonneke/successfactors"):
        run_sync(network.config(), MOMENT)
    assert len(sap.events) == 2
    held = run_sync(network.config(), MOMENT)
    messages = [e.message for e in held.errors if e.source == "zonneke/successfactors"]
    assert len(messages) == 2 and all("may already be recorded in SuccessFactors Learning" in m for m in messages)
    assert any("'st-ref:exchange:S-01-D1, sequence 0'" in m and "`recorded`" in m for m in messages)
    assert len(sap.events) == 2 and sap.requests["post_events"] == 1
    network.replace('  client_secret = "${ST_TEST_SF_LEARNING_SECRET}"\n',
                    '  client_secret = "${ST_TEST_SF_LEARNING_SECRET}"\n  recorded = ["exchange:S-01-D1", "exchange:S-01-D2"]\n')
    booked = run_sync(network.config(), MOMENT)
    assert booked.status == "ok", booked.errors
    assert len(sap.events) == 2 and sap.requests["post_events"] == 1


def test_a_day_that_did_not_reach_learning_is_sent_again_when_asked(network, sap):
    with dies_after_delivery("zonneke/successfactors"):
        run_sync(network.config(), MOMENT)
    sap.events.clear()  # the answer was lost on its way: Learning never recorded them
    assert run_sync(network.config(), MOMENT).status == "partial"
    assert sap.events == []
    text = network.config_path.read_text()
    network.config_path.write_text(text.replace('  client_secret = "${ST_TEST_SF_LEARNING_SECRET}"\n',
                                                '  client_secret = "${ST_TEST_SF_LEARNING_SECRET}"\n  resend = ["exchange:S-01-D1", "exchange:S-01-D2"]\n'))
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert len(sap.events) == 2 and sap.calls == [2, 2]


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


def test_events_whose_answer_is_lost_are_held_for_a_person_not_posted_again(network, sap):
    """Learning cannot be asked what it holds (SAP documents no read-back): a day whose answer
    was lost is neither posted again nor forgotten, it waits until a person says."""
    lost = lose_answers(sap, "POST", EVENTS + "$", instead=lambda: Answer(504, {"error": "Gateway Timeout"}))
    summary = run_sync(network.config(), MOMENT)
    assert lost and summary.status == "partial"
    assert len(sap.events) == 2 and sap.requests["post_events"] == 1  # the first post landed; nothing posted twice
    held = [e.message for e in summary.errors if "may already be recorded" in e.message]
    assert len(held) == 2
