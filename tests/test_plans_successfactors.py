"""SAP SuccessFactors development goals (DevGoal_<template>) as planned learning, end to end
against the contract-checked stand-in (tests/contracts/successfactors.json development_goals)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from connector.engine.sync import run_sync
from connector.store.db import open_engine, session_factory
from connector.store.plans import candidate_learning_questions
from connector.store.tables import Leerbewijs, PlannedLearning
from tests.fakes.successfactors_server import DEVGOAL_TEMPLATE, odata_date
from tests.test_successfactors import network, sap  # noqa: F401  (fixtures)

MOMENT = datetime(2026, 6, 1, tzinfo=ZoneInfo("Europe/Brussels"))


def goals_from_successfactors(network, incremental: bool = False) -> None:
    """Zonneke's plan from SuccessFactors development goals instead of its plan export."""
    network.replace('  page_size = 5\n  entities = ["people"]\n',
                    f'  page_size = 5\n  entities = ["people", "planned_learning"]\n  devgoal_template = {DEVGOAL_TEMPLATE}\n'
                    f'  candidates = "category:Switching Talent"\n  incremental = {str(incremental).lower()}\n')
    text = network.config_path.read_text(encoding="utf-8")
    start = text.index('  [[organisations.sources]]\n  name = "plan"', text.index('id = "zonneke"'))
    network.config_path.write_text(text[:start] + text[text.index("\n\n", start) + 2:], encoding="utf-8")


def stored(network):
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        rows = {row.remote_id: row for row in db.scalars(select(PlannedLearning).where(PlannedLearning.organisation_id == "zonneke"))}
        candidates = candidate_learning_questions(db, "zonneke", include_accepted=True)
        db.expunge_all()
    engine.dispose()
    return rows, candidates


def test_development_goals_in_pages_with_their_owner_and_candidates_by_category(network, sap):  # noqa: F811
    goals_from_successfactors(network)
    network.edit_csv("cohort/leervragen.csv", "portioneringslijst;PLAN-BE71045B", "portioneringslijst;")
    food = sap.add_dev_goal("Z005", "Minder voedselverspilling in de keuken", category="Switching Talent", state="On Track",
                            stateLabel="On Track", due=odata_date("2026-06-30"), purpose="Uit het functioneringsgesprek")
    for number in range(1, 7):  # more than one page of five
        sap.add_dev_goal("Z001", f"Doel {number}", due=odata_date("2026-12-31"), stateLabel="Completed", state="Completed")
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", [str(p) for p in summary.errors]
    assert sap.requests["dev_goals"] == 2  # followed d.__next
    rows, candidates = stored(network)
    assert len(rows) == 7
    row = rows[food["id"]]
    assert (row.kind, row.status, row.due.isoformat(), row.remark, row.category) == (
        "development_goal", "in_progress", "2026-06-30", "Uit het functioneringsgesprek", "Switching Talent")
    assert [(c.remote_id, c.employee_number, c.source) for c in candidates] == [(food["id"], "Z005", "zonneke/successfactors")]
    assert rows[next(iter(g["id"] for g in sap.dev_goals if g["userId"] == "Z001"))].status == "done"
    sap.contract.assert_clean()

    again = run_sync(network.config(), MOMENT)
    assert again.as_dict()["pulled"]["planned_learning"]["unchanged"] == 7 + 13  # and the other employers' plan files


def test_incremental_runs_ask_for_goals_changed_since_and_unknown_states_are_reported(network, sap):  # noqa: F811
    goals_from_successfactors(network, incremental=True)
    sap.add_dev_goal("Z003", "Diversiteit in het team", modified="/Date(1760000000000)/")
    run_sync(network.config(), MOMENT)
    assert len(stored(network)[0]) == 1
    later = sap.add_dev_goal("Z006", "Communiceren met ouders", stateLabel="Half af", state="Half af",
                             modified=f"/Date({int(datetime(2026, 6, 5).timestamp() * 1000)})/")
    summary = run_sync(network.config(), datetime(2026, 6, 10, tzinfo=ZoneInfo("Europe/Brussels")))
    assert summary.as_dict()["pulled"]["planned_learning"]["unchanged"] == 13  # Z003's goal was not asked again
    problems = {(p.source, p.record, p.field) for p in summary.errors if not p.warning}
    assert ("zonneke/successfactors", f"development goal {later['id']} of user Z006", "status") in problems
    sap.contract.assert_clean()


def test_an_incremental_run_sees_a_deleted_goal_through_the_id_listing(network, sap):  # noqa: F811
    """OData v2 has no deletion feed: after the changed-since page, the ids of every live goal
    (`$select=id`) are listed, and a stored goal no longer among them is removed."""
    goals_from_successfactors(network, incremental=True)
    kept = sap.add_dev_goal("Z003", "Diversiteit in het team")
    gone = sap.add_dev_goal("Z006", "Communiceren met ouders")
    run_sync(network.config(), MOMENT)
    assert set(stored(network)[0]) == {kept["id"], gone["id"]}
    sap.dev_goals.remove(gone)
    before = sap.requests["dev_goals"]
    summary = run_sync(network.config(), datetime(2026, 6, 10, tzinfo=ZoneInfo("Europe/Brussels")))
    assert summary.as_dict()["pulled"]["planned_learning"]["removed"] == 1, summary.errors
    assert set(stored(network)[0]) == {kept["id"]}
    assert sap.requests["dev_goals"] - before == 2  # the changed goals (none), then the ids
    sap.contract.assert_clean()


def goal_notes_target(network, sap) -> dict:  # noqa: F811
    """Z005's development goal, accepted as LV-01 (EX-01, whose days are past), and a target
    that notes the answering leerbewijs in the goal's text field stLeerbewijs."""
    from connector.engine.plans import candidate_code
    from tests.fakes.successfactors_server import CLIENT_ID, COMPANY

    goals_from_successfactors(network)
    food = sap.add_dev_goal("Z005", "Minder voedselverspilling in de keuken", category="Switching Talent", stLeerbewijs=None)
    code = candidate_code(f"zonneke/successfactors:{food['id']}")
    network.edit_csv("cohort/leervragen.csv", "portioneringslijst;PLAN-BE71045B", f"portioneringslijst;{code}")
    network.add_to_organisation("zonneke", f"""
  [[organisations.writeback]]
  kind = "successfactors_goals"
  url = "{sap.base}"
  company_id = "{COMPANY}"
  client_id = "{CLIENT_ID}"
  user_id = "st_connector"
  private_key = "${{ST_TEST_SF_KEY}}"
  devgoal_template = {DEVGOAL_TEMPLATE}
  note_field = "stLeerbewijs"
""")
    return food


def test_a_finished_exchange_notes_its_leerbewijs_in_the_development_goal_once(network, sap):  # noqa: F811
    food = goal_notes_target(network, sap)
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", [str(p) for p in summary.errors]
    assert summary.as_dict()["plan_origins"] == {"written": 1}
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        number = db.scalar(select(Leerbewijs.number).where(Leerbewijs.exchange_code == "EX-01"))
    engine.dispose()
    ((goal_id, changes),) = sap.goal_updates
    assert goal_id == food["id"] and set(changes) == {"stLeerbewijs"}
    assert "uitwisseling EX-01, leervraag LV-01" in changes["stLeerbewijs"]
    assert changes["stLeerbewijs"].endswith(f"st-ref:zonneke/successfactors:{food['id']}")
    assert changes["stLeerbewijs"].startswith(f"Switching Talent: beantwoord door leerbewijs {number} ")
    assert food["name"] == "Minder voedselverspilling in de keuken"  # MERGE: nothing else changed
    again = run_sync(network.config(), MOMENT)
    assert again.as_dict()["plan_origins"] == {"written": 0} and len(sap.goal_updates) == 1
    sap.contract.assert_clean()


def test_a_lost_answer_to_the_goal_update_sends_the_same_merge_again_harmlessly(network, sap):  # noqa: F811
    from tests.fakes.faults import lose_answers

    food = goal_notes_target(network, sap)
    lost = lose_answers(sap, "POST", r"/odata/v2/DevGoal_\d+\(\d+L\)$", times=1)
    summary = run_sync(network.config(), MOMENT)
    assert len(lost) == 1 and summary.status == "ok", [str(p) for p in summary.errors]
    assert [goal for goal, _ in sap.goal_updates] == [food["id"], food["id"]]  # the same text twice is one text
    assert sap.goal_updates[0][1] == sap.goal_updates[1][1]
    assert run_sync(network.config(), MOMENT).as_dict()["plan_origins"] == {"written": 0}
    sap.contract.assert_clean()
