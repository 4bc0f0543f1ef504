"""Retraction per sink (issue 16): a written day that no longer counts is taken back in every
target as its API allows: BambooHR deletes the record, the LRS (the real Ralph) voids the
statement, Viva Learning moves the course activity back or deletes it, SuccessFactors Learning
(no way to delete) lists the manual action; a declined Outlook invitation (Graph's
`status.response`) takes the day out; a crash between a retraction and its booking neither loses
nor doubles it; a re-run writes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from connector.engine.sync import run_sync
from tests.conftest import dies_after_delivery
from tests.fakes.graph_server import CLIENT_SECRET
from tests.fakes.lrs_server import PASSWORD
from tests.test_attendance import ABSENT, NOT_SAID, ledger, leerbewijzen, nothing_written
from tests.test_bamboohr import STIJN, bamboo, network, on_either_store, ours  # noqa: F401  (fixtures)
from tests.test_msgraph_e2e import groenkracht_in_graph, invite_through_outlook, live_events
from tests.test_successfactors import sap  # noqa: F401  (fixture)
from tests.test_viva_learning import viva  # noqa: F401  (fixture)
from tests.test_xapi import ATTENDED, lrs  # noqa: F401  (fixture)

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
S03_D2 = "S-03-D2;EX-03;uitwisselingsdag;26/10/2026;08:00;15:30;ter plaatse;;7;"


# -- BambooHR: the record is deleted ------------------------------------------------------

def retracted(summary, target: str) -> list[str]:
    return [item.object_id for item in summary.written.get(target, []) if item.action == "retract"]


def stijn_absent(network) -> None:
    network.edit_csv("cohort/sessies.csv", S03_D2, S03_D2 + "afwezig")


def test_bamboohr_deletes_the_record_of_a_day_that_turned_absent(on_either_store, bamboo):  # noqa: F811
    network = on_either_store
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert sorted(r["completed"] for r in ours(bamboo)) == ["2026-10-23", "2026-10-26"]
    stijn_absent(network)
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert retracted(summary, "brouwers-peeters/bamboohr") == ["exchange:S-03-D2"]
    assert [r["completed"] for r in ours(bamboo)] == ["2026-10-23"]  # deleted, the other day kept (and updated)
    (_, corrected) = leerbewijzen(network, "EX-03")
    assert f"Leerbewijs {corrected.number}" in ours(bamboo)[0]["notes"]
    assert len(bamboo.files[STIJN]) == 4  # the corrected leerbewijs filed beside the revoked one, each with its EDC
    assert nothing_written(run_sync(network.config(), MOMENT))


def test_bamboohr_a_crash_after_the_delete_before_its_booking_neither_loses_nor_doubles_it(network, bamboo):  # noqa: F811
    assert run_sync(network.config(), MOMENT).status == "ok"
    stijn_absent(network)
    with dies_after_delivery("brouwers-peeters/bamboohr"):  # BambooHR deleted it; our books do not know
        run_sync(network.config(), MOMENT)
    assert [r["completed"] for r in ours(bamboo)] == ["2026-10-23"]
    recovered = run_sync(network.config(), MOMENT)
    assert recovered.status == "ok", recovered.errors
    assert [r["completed"] for r in ours(bamboo)] == ["2026-10-23"]  # looked up by st-ref: gone, nothing more to do
    assert nothing_written(run_sync(network.config(), MOMENT))


def test_bamboohr_a_record_deleted_by_hand_is_no_error(network, bamboo):  # noqa: F811
    run_sync(network.config(), MOMENT)
    for record in ours(bamboo):
        if record["completed"] == "2026-10-26":
            del bamboo.trainings[str(record["id"])]
    stijn_absent(network)
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok" and retracted(summary, "brouwers-peeters/bamboohr") == ["exchange:S-03-D2"], summary.errors


# -- xAPI, against Ralph: the statement is voided -------------------------------------------

def test_xapi_voids_the_statement_of_a_day_that_turned_absent(xapi_network, lrs):  # noqa: F811
    network = xapi_network
    network.edit_csv("cohort/sessies.csv", ABSENT, NOT_SAID)
    run_sync(network.config(), MOMENT)
    statements = {s["timestamp"][:10]: s["id"] for s in lrs.statements()
                  if s["actor"].get("account", {}).get("homePage") == lrs.account and s["verb"]["id"] == ATTENDED}
    assert set(statements) == {"2025-12-04", "2025-12-05"}
    network.edit_csv("cohort/sessies.csv", NOT_SAID, ABSENT)
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    voids = [s for s in lrs.statements() if s["verb"]["id"] == VOIDED and s["object"]["id"] == statements["2025-12-05"]]
    assert len(voids) == 1 and voids[0]["object"]["objectType"] == "StatementRef"
    assert voids[0]["actor"]["account"]["name"] == "Z005" and retracted(summary, "zonneke/xapi") == ["exchange:S-01-D2"]
    assert nothing_written(run_sync(network.config(), MOMENT))
    assert len([s for s in lrs.statements() if s["verb"]["id"] == VOIDED and s["object"]["id"] == statements["2025-12-05"]]) == 1


def test_xapi_a_crash_after_voiding_before_its_booking_voids_once(xapi_network, lrs):  # noqa: F811
    network = xapi_network
    network.edit_csv("cohort/sessies.csv", ABSENT, NOT_SAID)
    run_sync(network.config(), MOMENT)
    network.edit_csv("cohort/sessies.csv", NOT_SAID, ABSENT)
    with dies_after_delivery("zonneke/xapi"):
        run_sync(network.config(), MOMENT)
    assert run_sync(network.config(), MOMENT).status == "ok"
    voids = [s for s in lrs.statements() if s["verb"]["id"] == VOIDED and s["actor"].get("account", {}).get("homePage") == lrs.account]
    assert len(voids) == 2  # one for the absent day; one for the first day's statement, replaced (the leerbewijs number changed)
    assert len({v["object"]["id"] for v in voids}) == 2


@pytest.fixture
def xapi_network(sqlite_network, lrs, monkeypatch):
    return _xapi(sqlite_network, lrs, monkeypatch)


def _xapi(network, lrs, monkeypatch):
    from tests.fakes.lrs_server import USERNAME

    monkeypatch.setenv("ST_TEST_LRS_PASSWORD", PASSWORD)
    lrs.account = f"https://hr-{id(network)}.zonneke.be"
    network.add_to_organisation("zonneke", f"""
  [[organisations.writeback]]
  kind = "xapi"
  url = "{lrs.base}"
  username = "{USERNAME}"
  password = "${{ST_TEST_LRS_PASSWORD}}"
  account_home_page = "{lrs.account}"
""")
    return network


# -- SuccessFactors Learning: a manual action, listed with the event's reference ------------

def test_successfactors_lists_the_manual_action_with_the_events_reference(sf_network, sap):  # noqa: F811
    network = sf_network  # both of EX-01's days not said (the fixture), so both are recorded
    run_sync(network.config(), MOMENT)
    assert len(sap.events) == 2
    network.edit_csv("cohort/sessies.csv", NOT_SAID, ABSENT)
    summary = run_sync(network.config(), MOMENT)
    manual = [m for m in summary.manual if m["target"] == "zonneke/successfactors"]
    assert len(manual) == 1 and manual[0]["record"] == "exchange:S-01-D2"
    assert manual[0]["remote_id"] == "st-ref:exchange:S-01-D2, sequence 0"
    assert "delete the external learning event 'st-ref:exchange:S-01-D2, sequence 0'" in manual[0]["action"]
    assert "marked absent" in manual[0]["action"]
    assert summary.as_dict()["manual_actions"] == summary.manual
    assert len(sap.events) == 2  # nothing posted: a second event would count the day again
    assert not run_sync(network.config(), MOMENT).manual  # listed once in the summary; the report keeps it
    from connector.reports.training import build_report
    from tests.test_attendance import store

    engine, db = store(network)
    with db:
        kept = build_report(db, 2026).manual
    engine.dispose()
    assert [(m.target, m.record, m.remote_id) for m in kept] == [("zonneke/successfactors", "exchange:S-01-D2",
                                                                  "st-ref:exchange:S-01-D2, sequence 0")]


# -- Viva Learning: the activity keeps the last day that still counts, or goes -------------

def test_viva_learning_moves_the_activity_back_then_deletes_it(viva_sink, viva):  # noqa: F811
    from tests.test_viva_learning import day

    assert all(o.ok for o in viva_sink.deliver([day("2026-03-27"), day("2026-03-30")], {}))
    [activity] = viva.activities.values()
    second = day("2026-03-30")
    second.action, second.payload = "retract", {**second.payload, "exchange_last_date": "2026-03-27", "reason": "marked absent"}
    assert viva_sink.deliver([second], {})[0].ok
    assert activity["completedDateTime"] == "2026-03-27T17:00:00Z" and activity["status"] == "completed"
    first = day("2026-03-27")
    first.action, first.payload = "retract", {**first.payload, "exchange_last_date": None, "reason": "the exchange was cancelled"}
    assert viva_sink.deliver([first], {})[0].ok and viva.activities == {}
    assert viva_sink.deliver([first], {})[0].ok  # again (after a crash): it is gone, nothing to do
    assert viva.requests["delete"] == 1


# -- Outlook: a declined day is absent unless the sheet says attended ------------------------

def test_a_day_the_switcher_declined_in_outlook_is_not_written(graph_network, graph):  # noqa: F811
    network = graph_network
    run_sync(network.config(), MOMENT)
    day = live_events(graph)["leren-switchen/S-06-D1"]
    graph.respond(day["id"], "koen.vermeulen@groenkracht.be", "declined")  # EX-06's switcher
    assert run_sync(network.config(), MOMENT).declined  # read back, kept on the event's reference
    after = run_sync(network.config(), datetime(2028, 7, 1, tzinfo=ZoneInfo("Europe/Brussels")))
    assert {d["session"]: d["reason"] for d in after.not_counted}["S-06-D1"] == "declined in the calendar"
    rows = ledger(network, "groenkracht")
    assert "exchange:S-06-D1" not in rows and rows["exchange:S-06-D2"]["status"] == "recorded"
    (issued,) = leerbewijzen(network, "EX-06")
    assert [d["session"] for d in issued.content["days"]] == ["S-06-D2"]
    # the sheet wins: marked attended, the day counts after all, and the leerbewijs is corrected
    network.edit_csv("cohort/sessies.csv", "S-06-D1;EX-06;uitwisselingsdag;13/06/2028;08:00;15:30;ter plaatse;;7;",
                     "S-06-D1;EX-06;uitwisselingsdag;13/06/2028;08:00;15:30;ter plaatse;;7;aanwezig")
    attended = run_sync(network.config(), datetime(2028, 7, 1, tzinfo=ZoneInfo("Europe/Brussels")))
    assert ledger(network, "groenkracht")["exchange:S-06-D1"]["status"] == "recorded"
    revoked, corrected = leerbewijzen(network, "EX-06")
    assert corrected.replaces == revoked.number and len(corrected.content["days"]) == 2
    assert attended.revoked and attended.revoked[0]["replaced_by"] == corrected.number


def test_under_the_planned_policy_a_declined_day_still_counts(graph_network, graph):  # noqa: F811
    network = graph_network
    network.replace('id = "groenkracht"', 'id = "groenkracht"\nwriteback_days = "planned"')
    run_sync(network.config(), MOMENT)
    graph.respond(live_events(graph)["leren-switchen/S-06-D1"]["id"], "koen.vermeulen@groenkracht.be", "declined")
    run_sync(network.config(), MOMENT)
    run_sync(network.config(), datetime(2028, 7, 1, tzinfo=ZoneInfo("Europe/Brussels")))
    assert ledger(network, "groenkracht")["exchange:S-06-D1"]["status"] == "recorded"


# -- fixtures borrowed from the sinks' own tests ----------------------------------------------

# bamboo, network, on_either_store (tests/test_bamboohr.py), lrs (tests/test_xapi.py), sap
# (tests/test_successfactors.py) and viva (tests/test_viva_learning.py) are imported above.

@pytest.fixture
def sf_network(sqlite_network, sap, monkeypatch):  # noqa: F811
    from tests.test_successfactors import network as make

    return make.__wrapped__(sqlite_network, sap, monkeypatch)


@pytest.fixture
def viva_sink(sqlite_network, viva, monkeypatch):
    from tests.test_viva_learning import sink as make

    return make.__wrapped__(sqlite_network, viva, monkeypatch)


@pytest.fixture
def graph():
    fake = groenkracht_in_graph()
    yield fake
    fake.stop()


@pytest.fixture
def graph_network(sqlite_network, graph, monkeypatch):
    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", CLIENT_SECRET)
    return invite_through_outlook(sqlite_network, graph)
