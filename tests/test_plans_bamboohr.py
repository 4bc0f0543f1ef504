"""BambooHR performance goals as planned learning, end to end against the contract-checked
stand-in (tests/fakes/bamboohr_server.py, tests/contracts/bamboohr.json get_goals)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from connector.engine.plans import candidate_code
from connector.engine.sync import run_sync
from connector.store.db import open_engine, session_factory
from connector.store.plans import candidate_learning_questions
from connector.store.tables import PlannedLearning
import pytest

from tests.fakes.faults import lose_answers
from tests.fakes.loopback import Answer
from tests.test_bamboohr import STIJN, bamboo, network  # noqa: F401  (fixtures)

MOMENT = datetime(2026, 6, 1, tzinfo=ZoneInfo("Europe/Brussels"))


def goals_source(network) -> None:
    """Brouwers & Peeters' plan from BambooHR goals instead of its plan export."""
    network.replace('  api_key = "${ST_TEST_BAMBOOHR_KEY}"\n  entities = ["people", "training_records"]\n',
                    '  api_key = "${ST_TEST_BAMBOOHR_KEY}"\n  entities = ["people", "training_records", "planned_learning"]\n'
                    '  candidates = "tag:switchingtalent"\n')
    text = network.config_path.read_text(encoding="utf-8")
    start = text.index('  [[organisations.sources]]\n  name = "plan"', text.index('id = "brouwers-peeters"'))
    end = text.index("\n\n", start)
    network.config_path.write_text(text[:start] + text[end + 2:], encoding="utf-8")


def stored(network) -> dict[str, PlannedLearning]:
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        rows = {row.remote_id: row for row in db.scalars(select(PlannedLearning).where(PlannedLearning.organisation_id == "brouwers-peeters"))}
        candidates = candidate_learning_questions(db, "brouwers-peeters", include_accepted=True)
        db.expunge_all()
    engine.dispose()
    return rows, candidates


def test_goals_are_pulled_as_development_goals_and_tagged_ones_become_candidates(network, bamboo):  # noqa: F811
    goals_source(network)
    lead = bamboo.add_goal(STIJN, "Een ploeg aansturen met mensen met een afstand tot de arbeidsmarkt",
                           description="Afgesproken in het jaargesprek #SwitchingTalent", dueDate="2026-12-31", percentComplete=20)
    done = bamboo.add_goal("103", "F-gassen certificaat", dueDate="2026-03-31", percentComplete=100, completionDate="2026-02-10")
    plain = bamboo.add_goal("107", "Calculatie met BIM-modellen", dueDate="2027-06-30")
    # the ST-partner accepted Stijn's goal as the learning question of EX-03
    network.edit_csv("cohort/leervragen.csv", "PLAN-E841DC26", candidate_code(f"brouwers-peeters/bamboohr:{lead['id']}"), "utf-8")
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", [str(p) for p in summary.errors]
    assert summary.as_dict()["pulled"]["planned_learning"]["created"] == 14 + 3  # the other employers' plan files, and three goals
    rows, candidates = stored(network)
    assert (rows[lead["id"]].kind, rows[lead["id"]].status, rows[lead["id"]].due.isoformat(), rows[lead["id"]].tags) == (
        "development_goal", "in_progress", "2026-12-31", ["switchingtalent"])
    assert rows[done["id"]].status == "done" and rows[plain["id"]].status == "open"
    assert bamboo.requests["goals"] == 9  # one per employee of the report, the inactive one too
    assert [(c.remote_id, c.source, c.accepted_as) for c in candidates] == [(lead["id"], "brouwers-peeters/bamboohr", "LV-03")]
    bamboo.contract.assert_clean()

    again = run_sync(network.config(), MOMENT)
    assert again.as_dict()["pulled"]["planned_learning"] == {"created": 0, "updated": 0, "unchanged": 17, "failed": 0, "removed": 0}

    bamboo.goals["107"].clear()  # the goal was deleted in BambooHR
    plain_gone = run_sync(network.config(), MOMENT)
    assert plain_gone.as_dict()["pulled"]["planned_learning"]["removed"] == 1
    assert plain["id"] not in stored(network)[0]
    bamboo.contract.assert_clean()


def test_a_goal_without_title_is_reported_by_record_and_field(network, bamboo):  # noqa: F811
    goals_source(network)
    bamboo.add_goal(STIJN, "Goed doel", dueDate="2026-12-31")
    bad = bamboo.add_goal("103", "", dueDate="2026-12-31")
    summary = run_sync(network.config(), MOMENT)
    problems = {(p.source, p.entity, p.record, p.field) for p in summary.errors if not p.warning}
    assert ("brouwers-peeters/bamboohr", "planned_learning", f"goal {bad['id']} of employee 103", "title") in problems
    assert summary.as_dict()["pulled"]["planned_learning"]["created"] == 14 + 1


AFTER_EX03 = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))  # EX-03's two exchange days are behind us


def accepted_goal_with_origin_notes(network, bamboo):  # noqa: F811
    """Stijn's tagged goal, accepted as LV-03 (EX-03), with a target that comments on goals."""
    goals_source(network)
    lead = bamboo.add_goal(STIJN, "Een ploeg aansturen", description="#switchingtalent", dueDate="2026-12-31")
    network.edit_csv("cohort/leervragen.csv", "PLAN-E841DC26", candidate_code(f"brouwers-peeters/bamboohr:{lead['id']}"), "utf-8")
    network.add_to_organisation("brouwers-peeters", f"""
  [[organisations.writeback]]
  kind = "bamboohr_goals"
  company = "brouwerspeeters"
  url = "{bamboo.url}"
  api_key = "${{ST_TEST_BAMBOOHR_KEY}}"
""")
    return lead


def test_a_finished_exchange_notes_its_leerbewijs_on_the_goal_once(network, bamboo):  # noqa: F811
    lead = accepted_goal_with_origin_notes(network, bamboo)
    before = run_sync(network.config(), MOMENT)  # June: EX-03 has not happened yet
    assert before.status == "ok", [str(p) for p in before.errors]
    assert bamboo.comments == {} and before.as_dict()["plan_origins"] == {"written": 0}
    after = run_sync(network.config(), AFTER_EX03)
    assert after.status == "ok", [str(p) for p in after.errors]
    assert after.as_dict()["plan_origins"] == {"written": 1}
    (comment,) = bamboo.comments[lead["id"]]
    number = next(w["id"] for w in after.as_dict()["written"] if w["object"] == "leerbewijs" and w["target"] == "leerbewijs-files")
    assert comment["text"].startswith(f"Switching Talent: beantwoord door leerbewijs {number} (uitwisseling EX-03, leervraag LV-03")
    assert comment["text"].endswith(f"st-ref:brouwers-peeters/bamboohr:{lead['id']}")
    again = run_sync(network.config(), AFTER_EX03)
    assert again.as_dict()["plan_origins"] == {"written": 0} and len(bamboo.comments[lead["id"]]) == 1
    assert bamboo.requests["add_goal_comment"] == 1
    bamboo.contract.assert_clean()


@pytest.mark.parametrize("fault", ["reset", "gateway 502"])
def test_a_lost_answer_to_the_comment_adds_no_second_comment(network, bamboo, fault):  # noqa: F811
    lead = accepted_goal_with_origin_notes(network, bamboo)
    instead = (lambda: Answer(502, {"error": "Bad Gateway"})) if fault == "gateway 502" else None
    lost = lose_answers(bamboo, "POST", r"/goals/\d+/comments$", times=1, instead=instead)
    summary = run_sync(network.config(), AFTER_EX03)
    assert len(lost) == 1 and summary.status == "ok", [str(p) for p in summary.errors]
    assert len(bamboo.comments[lead["id"]]) == 1 and bamboo.requests["add_goal_comment"] == 1
    assert bamboo.requests["goal_comments"] >= 1  # looked before writing again
    assert run_sync(network.config(), AFTER_EX03).as_dict()["plan_origins"] == {"written": 0}
    bamboo.contract.assert_clean()


def test_the_note_names_only_the_leerbewijs_in_force_and_says_when_none_is_left(network, bamboo):  # noqa: F811
    """A day turned absent replaces EX-03's leerbewijs: the goal's comment then names the
    corrected one only; the exchange cancelled revokes it too: the comment says it was revoked."""
    lead = accepted_goal_with_origin_notes(network, bamboo)
    run_sync(network.config(), AFTER_EX03)
    (first,) = bamboo.comments[lead["id"]]
    day = "S-03-D2;EX-03;uitwisselingsdag;26/10/2026;08:00;15:30;ter plaatse;;7;"
    network.edit_csv("cohort/sessies.csv", day, day + "afwezig")
    replaced = run_sync(network.config(), AFTER_EX03)
    (revoked,) = replaced.revoked
    (comment,) = bamboo.comments[lead["id"]]  # the same comment, its text updated
    assert revoked["number"] not in comment["text"] and f"leerbewijs {revoked['replaced_by']} " in comment["text"]
    network.edit_csv("cohort/uitwisselingen.csv", "EX-03;LV-03;LP-GK-GROEN;G110, G106;bevestigd",
                     "EX-03;LV-03;LP-GK-GROEN;G110, G106;geannuleerd", encoding="utf-8")
    cancelled = run_sync(network.config(), AFTER_EX03)
    assert cancelled.as_dict()["plan_origins"] == {"written": 1}
    (comment,) = bamboo.comments[lead["id"]]
    assert f"leerbewijs {revoked['replaced_by']} (uitwisseling EX-03, leervraag LV-03) werd ingetrokken" in comment["text"]
    assert run_sync(network.config(), AFTER_EX03).as_dict()["plan_origins"] == {"written": 0}
    bamboo.contract.assert_clean()
