"""Planned learning (#13) on the example network, SQLite and PostgreSQL: pulled from each
employer's training plan, counted under its own entity, bad rows reported and skipped,
candidate learning questions with their origin, accepted through the cohort sheet, the
training account with planned days, and a re-run that writes nothing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from connector.core.errors import ConfigError
from connector.engine.plans import CandidateRule, candidate_code
from connector.engine.sync import run_sync
from connector.reports.training import build_report
from connector.store.db import open_engine, session_factory
from connector.store.plans import candidate_learning_questions
from connector.store.tables import PlannedLearning

AS_OF = "2026-06-01"


def sync(network, as_of: str = AS_OF, **options):
    return run_sync(network.config(), datetime.fromisoformat(as_of).replace(tzinfo=ZoneInfo("Europe/Brussels")), **options)


def in_store(network, work):
    engine = open_engine(network.store_url)
    try:
        with session_factory(engine)() as db:
            return work(db)
    finally:
        engine.dispose()


def planned(network) -> dict[str, PlannedLearning]:
    def rows(db):
        found = {row.remote_id: row for row in db.scalars(select(PlannedLearning))}
        db.expunge_all()
        return found
    return in_store(network, rows)


def test_every_employer_plan_is_pulled_and_counted_under_its_own_entity(network):
    summary = sync(network)
    assert summary.status == "ok", [str(p) for p in summary.errors]
    assert summary.as_dict()["pulled"]["planned_learning"] == {"created": 18, "updated": 0, "unchanged": 0, "failed": 0, "removed": 0}
    rows = planned(network)
    assert {row.organisation_id for row in rows.values()} == {"zonneke", "groenkracht", "brouwers-peeters", "petits-pas"}
    food = rows["Z005|Minder voedselverspilling in de keuken"]
    assert (food.kind, food.status, food.hours, food.due.isoformat(), food.training_kind, food.marked) == (
        "learning_need", "open", 15.2, "2026-06-30", "informal", True)  # 15,2 and 30/06/2026: Belgian conventions
    french = rows["P01|Impliquer les parents au quotidien"]  # Windows-1252, French headers and words
    assert (french.kind, french.status, french.hours) == ("development_goal", "in_progress", 7.5)
    tagged = rows["B07|Calculatie met BIM-modellen"]  # comma-separated, ISO dates, a list of labels
    assert tagged.tags == ["switching talent", "digitaal"] and tagged.candidate
    assert rows["G104|Nieuwe medewerkers begeleiden in hun eerste weken"].due.isoformat() == "2026-12-31"  # a date cell


def test_a_re_run_changes_nothing(network):
    sync(network)
    before = {key: (row.updated_at, row.candidate_code, row.learning_question_code) for key, row in planned(network).items()}
    again = sync(network)
    assert again.as_dict()["pulled"]["planned_learning"]["unchanged"] == 18
    assert sum(again.invites.values()) + again.training_records["written"] + again.leerbewijzen["issued"] == 0
    assert {key: (row.updated_at, row.candidate_code, row.learning_question_code) for key, row in planned(network).items()} == before


def test_bad_rows_are_reported_by_source_record_and_field_and_skipped(network):
    plan = "zonneke/opleidingsplan.csv"
    network.edit_csv(plan, "Z004;EHBO", "Z999;EHBO")  # an employee who does not exist
    network.edit_csv(plan, ";31/12/2027;22,8;open", ";31/13/2027;22,8;open")  # a due date that is not a date
    network.edit_csv(plan, "7,6;open;informeel;Graag", "7,6;half af;informeel;Graag")  # a status nobody knows
    summary = sync(network)
    problems = {(p.source, p.entity, p.record, p.field) for p in summary.errors if not p.warning}
    assert ("zonneke/plan", "planned_learning", "opleidingsplan.csv row 3", "employee") in problems
    assert ("zonneke/plan", "planned_learning", "opleidingsplan.csv row 6", "due") in problems
    assert ("zonneke/plan", "planned_learning", "opleidingsplan.csv row 5", "status") in problems
    messages = " ".join(p.message for p in summary.errors)
    assert "Z999" in messages and "31/13/2027" in messages and "half af" in messages
    rows = planned(network)
    assert {r.remote_id.split("|")[0] for r in rows.values() if r.organisation_id == "zonneke"} == {"Z003", "Z005"}
    assert len(rows) == 15  # the others went through
    counted = summary.as_dict()["pulled"]["planned_learning"]
    assert (counted["created"], counted["failed"]) == (15, 3)  # a row left out is not counted as new


def test_a_row_whose_employee_becomes_unknown_counts_as_failed_not_changed(sqlite_network):
    network = sqlite_network
    sync(network)
    network.edit_csv("zonneke/opleidingsplan.csv", "Z004;EHBO", "Z999;EHBO")
    summary = sync(network)
    counted = summary.as_dict()["pulled"]["planned_learning"]
    assert (counted["created"], counted["updated"], counted["failed"]) == (0, 0, 1), counted
    assert not [r for r in planned(network).values() if r.remote_id.startswith("Z004")]  # no longer anyone's plan
    assert any(p.record == "opleidingsplan.csv row 3" and p.field == "employee" for p in summary.errors)


def test_a_plan_that_loses_most_rows_is_refused_by_the_removal_guard(network):
    sync(network)
    path = network.data / "groenkracht" / "opleidingsplan.xlsx"
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    sheet = workbook.active
    sheet.delete_rows(3, sheet.max_row)  # keep the header and G104 only: four of five gone
    workbook.save(path)
    summary = sync(network)
    assert any(p.source == "groenkracht/plan" and p.entity == "planned_learning" and "would remove 4 of 5" in p.message
               for p in summary.errors)
    assert len([r for r in planned(network).values() if r.organisation_id == "groenkracht"]) == 5
    accepted = sync(network, accept_removals=True)
    assert accepted.as_dict()["pulled"]["planned_learning"]["removed"] == 4
    left = [r for r in planned(network).values() if r.organisation_id == "groenkracht"]
    assert [r.remote_id for r in left] == ["G104|Nieuwe medewerkers begeleiden in hun eerste weken"]


def test_candidates_appear_with_their_origin_and_accepted_ones_link_to_the_exchange(network):
    sync(network)
    candidates = in_store(network, lambda db: candidate_learning_questions(db))
    by_code = {c.code: c for c in candidates}
    lotte = by_code[candidate_code("zonneke/plan:Z006|Communiceren met ouders over de ontwikkeling van hun kind")]
    assert (lotte.organisation_id, lotte.employee_number, lotte.kind, lotte.status, lotte.source, lotte.accepted_as) == (
        "zonneke", "Z006", "learning_need", "open", "zonneke/plan", None)
    # not marked for Switching Talent, a course, or accepted already: no candidates
    assert all(c.employee_number not in ("Z004", "Z002", "Z005", "G109", "G105", "B03", "B08", "P03", "P06") for c in candidates)
    assert len(candidates) == 6
    accepted = in_store(network, lambda db: candidate_learning_questions(db, "zonneke", include_accepted=True))
    fatima = next(c for c in accepted if c.employee_number == "Z005")
    assert fatima.accepted_as == "LV-01" and fatima.code == "PLAN-BE71045B"
    status = in_store(network, lambda db: __import__("connector.engine.status", fromlist=["build_status"]).build_status(db, network.config()))
    zonneke = next(o for o in status["organisations"] if o["id"] == "zonneke")
    assert next(e for e in zonneke["exchanges"] if e["code"] == "EX-01")["origin"] == "PLAN-BE71045B"
    assert {c["code"] for c in zonneke["candidate_learning_questions"]} == {lotte.code, candidate_code("zonneke/plan:Z003|Omgaan met diversiteit in het team")}


def test_accepting_a_candidate_of_another_switcher_or_an_unknown_code_is_a_problem(network):
    network.edit_csv("cohort/leervragen.csv", "Een keuze voor een planningstool;", "Een keuze voor een planningstool;PLAN-5065D11C")
    network.edit_csv("cohort/leervragen.csv", "Een werkwijze voor klantcommunicatie;", "Een werkwijze voor klantcommunicatie;PLAN-00000000")
    summary = sync(network)
    found = {(p.record, p.field): p.message for p in summary.errors if p.entity == "learning_questions" and p.field == "origin"}
    assert "not of this question's switcher" in found[("leervragen.csv row 6", "origin")]
    assert "no candidate learning question 'PLAN-00000000'" in found[("leervragen.csv row 7", "origin")]


def test_the_link_is_kept_once_the_exchange_is_finished_and_the_item_leaves_the_plan(network):
    sync(network)  # EX-01's leerbewijs was issued in February 2026
    network.edit_csv("cohort/leervragen.csv", "portioneringslijst;PLAN-BE71045B", "portioneringslijst;")
    network.edit_csv("zonneke/opleidingsplan.csv", "Z005;Minder voedselverspilling", "Z005;Minder voedselverspilling (afgerond)")
    summary = sync(network)
    assert summary.as_dict()["pulled"]["planned_learning"]["removed"] == 1
    kept = planned(network)["Z005|Minder voedselverspilling in de keuken"]
    assert (kept.learning_question_code, kept.removed, kept.candidate) == ("LV-01", True, False)
    # an accepted item whose exchange is not finished loses its link when the sheet drops it
    network.edit_csv("cohort/leervragen.csv", "toepas;PLAN-E841DC26", "toepas;")
    sync(network)
    assert planned(network)["B04|Een ploeg aansturen met mensen met een afstand tot de arbeidsmarkt"].learning_question_code is None


def test_the_training_account_shows_planned_days_next_to_followed(network):
    sync(network)
    report = in_store(network, lambda db: build_report(db, 2026))
    lines = {line.employee_number: line for line in report.employees}
    fatima = lines["Z005"]  # 15,2 planned hours, in her own hours per day (part-time: 6,08)
    assert (fatima.hours_per_day, fatima.planned_days, fatima.planned_items) == (6.08, 2.5, 1)
    assert lines["Z002"].planned_days == 0.0  # her goal is due at the end of 2027
    assert next(o for o in report.organisations if o.organisation == "zonneke").planned_days == round(
        sum(line.planned_days for line in report.employees if line.organisation == "zonneke"), 2)


@pytest.mark.parametrize("text, data, selected", [
    ("every_open", {"kind": "development_goal", "status": "in_progress"}, True),
    ("every_open", {"kind": "course", "status": "open"}, False),
    ("every_open", {"kind": "learning_need", "status": "done"}, False),
    ("category:Switching Talent", {"kind": "learning_need", "category": "switching talent"}, True),
    ("tag:ST", {"kind": "learning_need", "tags": ["x", " st "]}, True),
    ("marked", {"kind": "learning_need", "marked": False}, False),
])
def test_candidate_rules(text, data, selected):
    assert CandidateRule.parse(text).selects(data) is selected


def test_a_rule_that_is_not_one_stops_the_configuration(network):
    network.replace('candidates = "marked"', 'candidates = "colour:blue"')
    with pytest.raises(ConfigError) as error:
        sync(network)
    assert any("zonneke/plan" in p and "colour:blue" in p for p in error.value.problems)
