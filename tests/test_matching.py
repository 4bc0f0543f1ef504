"""Matching (issue #14): the optimum equals brute force, every hard constraint removes what it
should and says so, bad cells are named by sheet, row and column, dates avoid holidays and
busy calendars, and a confirmed proposal flows through `match --apply` and `sync` into
invitations, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import bm25s
import pytest
from openpyxl import load_workbook

from connector.core.config import MatchingConfig, MatchingWeights
from connector.matching import service
from connector.matching.constraints import CONSTRAINTS, feasible
from connector.matching.dates import NoCalendars, Planner, is_holiday
from connector.matching.geo import distance_km
from connector.matching.inputs import read_cohort
from connector.matching.model import Cohort, Coach, Fixed, Organisation, Place, Question
from connector.matching.relevance import BM25, tokens
from connector.matching.scoring import score
from connector.matching.solver import assign, brute_force
from tests.fakes.cohorts import generate
from tests.test_cli import cli
from tests.test_sync import sync

ZONE = ZoneInfo("Europe/Brussels")
WEIGHTS = MatchingWeights()


def solve(cohort: Cohort, max_km: float | None = 60.0):  # type: ignore[no-untyped-def]
    allowed = feasible(cohort, max_km)
    scored = score(cohort, allowed, WEIGHTS, max_km)
    owners = {q.code: q.organisation for q in cohort.questions}
    hosts = {code: p.organisation for code, p in cohort.places.items()}
    return allowed, scored, assign(scored, allowed, owners, hosts), brute_force(scored, allowed, owners, hosts)


# -- the optimum -------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(40))
def test_the_optimum_equals_brute_force_on_small_generated_cohorts(seed):
    cohort = generate(5, seed, places=3, organisations=3)
    allowed, scored, found, best = solve(cohort)
    assert found.objective == best
    assert found.points <= found.bound
    # and it is an assignment: no capacity exceeded
    places = [r.candidate.place for r in found.chosen.values()]
    assert all(places.count(p) <= allowed.place_left[p] for p in places)


def test_a_greedy_choice_is_not_the_optimum_and_the_solver_does_better():
    """The brute-force test can tell: taking the best pair first would leave LV-2 without a place."""
    orgs = {o: Organisation(o) for o in ("a", "b", "c")}
    places = {"P1": Place("P1", "b", "Planning", "planning ploegen werf"), "P2": Place("P2", "c", "Onthaal", "onthaal")}
    coaches = [Coach("P1", "c1", languages=frozenset({"nl"})), Coach("P2", "c2", languages=frozenset({"nl"}))]
    questions = [Question("LV-1", "a", "s1", "planning", "planning ploegen werf", languages=frozenset({"nl"})),
                 Question("LV-2", "a", "s2", "planning", "planning", languages=frozenset({"nl"}), preferences=()),
                 ]
    cohort = Cohort(questions, places, coaches, orgs)
    # LV-2 may only go to P1 (P2's coach speaks no French)
    cohort.questions[1] = replace(questions[1], languages=frozenset({"fr", "nl"}))
    cohort.coaches[1] = replace(coaches[1], languages=frozenset({"en"}))
    cohort.questions[0] = replace(questions[0], languages=frozenset({"nl", "en"}))
    allowed, scored, found, best = solve(cohort)
    greedy_first = max((r for rows in scored.values() for r in rows), key=lambda r: r.points)
    assert greedy_first.candidate.question == "LV-1" and greedy_first.candidate.place == "P1"
    assert found.matched == 2 == best[0]
    assert found.chosen["LV-1"].candidate.place == "P2" and found.chosen["LV-2"].candidate.place == "P1"


def test_three_hundred_generated_questions_match_without_breaking_any_capacity():
    cohort = generate(300, 7)
    allowed = feasible(cohort, 60.0)
    scored = score(cohort, allowed, WEIGHTS, 60.0)
    found = assign(scored, allowed, {q.code: q.organisation for q in cohort.questions},
                   {c: p.organisation for c, p in cohort.places.items()})
    from collections import Counter

    per_place = Counter(r.candidate.place for r in found.chosen.values())
    per_coach = Counter((r.candidate.place, r.candidate.coach) for r in found.chosen.values())
    assert all(n <= allowed.place_left[p] for p, n in per_place.items())
    assert all(n <= allowed.coach_left[k] for k, n in per_coach.items())
    for organisation in cohort.organisations.values():
        hosted = sum(1 for r in found.chosen.values() if cohort.places[r.candidate.place].organisation == organisation.id)
        sent = sum(1 for q in found.chosen if next(x for x in cohort.questions if x.code == q).organisation == organisation.id)
        assert organisation.hosts is None or hosted <= organisation.hosts
        assert organisation.sends is None or sent <= organisation.sends


@pytest.mark.parametrize("seed", range(5))
def test_the_fast_candidates_are_exactly_what_the_explained_rules_allow(seed):
    cohort = generate(30, seed)
    allowed = feasible(cohort, 60.0)
    for question in cohort.open_questions:
        removed = {(r.place, r.coach) for r in allowed.removals(question.code)}
        every = {(c.place, c.person) for c in cohort.coaches}
        kept = {(c.place, c.coach) for c in allowed.candidates[question.code]}
        # a pair is kept, or its place (coach None) or the pair itself was removed
        assert all((pair in kept) != ((pair[0], None) in removed or pair in removed) for pair in every)


# -- each hard constraint ----------------------------------------------------------------------

def _tiny(**changes) -> Cohort:  # type: ignore[no-untyped-def]
    """One question of 'home' and one place of 'host' that fit, unless `changes` break it."""
    home = Organisation("home", postcode="9000")
    host = Organisation("host", postcode="9160")
    question = Question("LV-1", "home", "S1", "Planning", "planning van ploegen", languages=frozenset({"nl"}),
                        postcode="9000", department="Productie")
    place = Place("LP-1", "host", "Planning", "planning van ploegen", postcode="9160", languages=frozenset({"nl"}),
                  excluded_departments=frozenset({"financiën"}))
    coach = Coach("LP-1", "C1", languages=frozenset({"nl"}))
    organisations = {"home": changes.pop("home", home), "host": changes.pop("host", host)}
    cohort = Cohort([changes.pop("question", question)], {"LP-1": changes.pop("place", place)},
                    changes.pop("coaches", [coach]), organisations, changes.pop("fixed", []))
    cohort.questions.extend(changes.pop("more_questions", []))
    cohort.rejected = changes.pop("rejected", set())
    cohort.taken = {f.question for f in cohort.fixed}  # a fixed exchange's question is not open
    assert not changes
    return cohort


BREAKS = {
    "send_full": dict(home=Organisation("home", sends=1), fixed=[Fixed("LV-0", "LP-X", (), "cohort")],
                      more_questions=[Question("LV-0", "home", "S0", "x", "x")]),
    "rejected": dict(rejected={("LV-1", "LP-1")}),
    "own_employer": dict(place=Place("LP-1", "home", "Planning", "planning van ploegen", languages=frozenset({"nl"}))),
    "competitor": dict(host=Organisation("host", competitors=frozenset({"home"}))),
    "excluded_department": dict(question=Question("LV-1", "home", "S1", "Planning", "planning", languages=frozenset({"nl"}),
                                                  department="Financiën")),
    "distance": dict(question=Question("LV-1", "home", "S1", "Planning", "planning", languages=frozenset({"nl"}), postcode="8900")),
    "place_full": dict(fixed=[Fixed("LV-9", "LP-1", (), "cohort")]),
    "host_full": dict(host=Organisation("host", hosts=0)),
    "no_coach": dict(coaches=[]),
    "coach_full": dict(coaches=[Coach("LP-1", "C1", capacity=0, languages=frozenset({"nl"}))]),
    "language": dict(coaches=[Coach("LP-1", "C1", languages=frozenset({"fr"}))]),
    "weekdays": dict(coaches=[Coach("LP-1", "C1", languages=frozenset({"nl"}), weekdays=frozenset({5}))]),
}


def test_every_constraint_has_a_case():
    assert set(BREAKS) == set(CONSTRAINTS)


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_each_hard_constraint_removes_its_candidate_and_says_so(constraint):
    fitting = _tiny()
    assert [c.place for c in feasible(fitting, 60.0).candidates["LV-1"]] == ["LP-1"]
    broken = _tiny(**BREAKS[constraint])
    allowed = feasible(broken, 60.0)
    assert allowed.candidates["LV-1"] == []
    removed = allowed.removed_by(constraint)
    assert [q for q, _ in removed] == ["LV-1"]
    assert {r.constraint for r in allowed.removals("LV-1")} == {constraint}
    reading = type("R", (), {"cohort": broken, "problems": []})()
    from connector.core.config import load_config
    from connector.matching.run import solve as run_solve
    from connector.matching.workbook import explain

    config = load_config("config.example.toml")
    result = run_solve(reading, config, date(2027, 1, 4))  # type: ignore[arg-type]
    assert [u.question.code for u in result.unmatched] == ["LV-1"] and not result.proposals
    for language in ("nl", "fr", "en"):
        reasons = explain(result.unmatched[0], language)
        assert reasons and all(reason and "{" not in reason for _, reason in reasons)


def test_distance_is_computed_offline_from_postcodes():
    assert distance_km("9000", "1000") == pytest.approx(49.6, abs=1.5)  # Gent - Brussel as the crow flies
    assert distance_km("9000", "9000") == 0
    assert distance_km("9000", "0000") is None and distance_km(None, "9000") is None


# -- content fit -------------------------------------------------------------------------------

def test_bm25_scores_equal_an_independent_implementation():
    """bm25s's "lucene" method is the same formula, written by others."""
    documents = ["Ploegen aansturen en begeleiden op de werf", "Dagritme, onthaal van nieuwe collega's en ouderbetrokkenheid",
                 "Digitale planning van ploegen, werven en verlof", "Werken in kleine reeksen op maat, met mensen in een maatwerktraject"]
    corpus = [tokens(d, "nl") for d in documents]
    query = sorted(set(tokens("Hoe plan je onderhoudswerven en ploegen met een digitale planning?", "nl")))
    reference = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    reference.index(corpus, show_progress=False)
    assert BM25(corpus).scores(query) == pytest.approx(list(reference.get_scores(query)), rel=1e-5)
    assert max(range(4), key=lambda i: BM25(corpus).scores(query)[i]) == 2


def test_stemming_lets_word_forms_meet_in_each_language():
    assert set(tokens("begeleiding", "nl")) & set(tokens("begeleidingen", "nl"))
    assert set(tokens("parents", "fr")) == set(tokens("parent", "fr"))
    assert set(tokens("planning", "en")) == set(tokens("plans", "en")) or tokens("planning", "en") == ["plan"]


# -- the example network -----------------------------------------------------------------------

def test_the_example_network_proposes_its_open_question_with_reasons(network):
    sync(network)
    outcome = service.propose(network.config(), date(2027, 1, 4), calendars=NoCalendars())
    [proposal] = outcome.result.proposals
    assert (proposal.question.code, proposal.place, proposal.coach) == ("LV-08", "LP-GK-ATELIER", "G102")
    assert proposal.question.department is not None or proposal.question.email  # the store was read
    assert set(proposal.scored.criteria) == set(MatchingWeights.model_fields)
    # the example plans' open candidates join the pool; every place they could go is full or their own
    # LV-10 (its exchange EX-10 cancelled after its first day) is open again and loses the place to LV-08
    assert {u.question.code for u in outcome.result.unmatched if u.question.origin == "cohort"} == {"LV-10"}
    assert all(u.question.code.startswith("PLAN-") and u.removals for u in outcome.result.unmatched if u.question.origin == "training_plan")
    assert outcome.status == "ok"
    # no hard constraint broken: the proposal is among the candidates the rules allow
    assert any(c.place == "LP-GK-ATELIER" for c in outcome.result.feasible.candidates["LV-08"])
    # the full places say why they were not proposed
    removals = {r.place: r.constraint for r in outcome.result.feasible.removals("LV-08")}
    assert removals["LP-ZON-BABY"] == "own_employer" and removals["LP-GK-GROEN"] == "place_full"
    book = load_workbook(outcome.workbook)
    assert book.sheetnames == ["Uitleg", "Voorstellen", "Zonder voorstel"]
    rows = list(book["Voorstellen"].iter_rows(values_only=True))
    assert rows[1][:3] == ("EX-LV-08", "voorgesteld", "LV-08")
    assert rows[0][rows[0].index("Dag 1")] and rows[1][rows[0].index("Dag 2")]


def test_a_confirmed_proposal_flows_through_apply_and_sync_into_invitations(network):
    sync(network)
    config = network.config()
    outcome = service.propose(config, date(2027, 1, 4), calendars=NoCalendars())
    book = load_workbook(outcome.workbook)
    book["Voorstellen"]["B2"] = "bevestigd"
    book.save(outcome.workbook)
    again = service.propose(config, date(2027, 1, 4), calendars=NoCalendars())  # a re-run keeps the confirmed row
    assert again.result.proposals == [] and [r.exchange for r in again.kept] == ["EX-LV-08"]
    applied, problems = service.apply(config)
    assert problems == [] and applied.exchanges == ["EX-LV-08"]
    assert applied.sessions == ["EX-LV-08-INTRO", "EX-LV-08-D1", "EX-LV-08-D2"]
    assert service.apply(config)[0].exchanges == []  # twice adds nothing
    summary = sync(network, as_of="2027-01-05")
    assert not [e for e in summary.errors if not e.warning], summary.errors
    for code in applied.sessions:
        ics = (network.out / "invitations" / f"{code}.ics").read_text(encoding="utf-8")
        assert "METHOD:REQUEST" in ics
    day = (network.out / "invitations" / "EX-LV-08-D1.ics").read_text(encoding="utf-8")
    assert "DTSTART;TZID=Europe/Brussels:20270118T083000" in day
    # matched now: the next run has no open question of the sheet (the plans' candidates stay open)
    later = service.propose(network.config(), date(2027, 1, 6), calendars=NoCalendars())
    assert later.result.proposals == [] and "LV-08" not in {u.question.code for u in later.result.unmatched}


def test_a_candidate_from_a_training_plan_is_proposed_applied_as_a_learning_question_and_accepted(sqlite_network):
    """#13 meets #14: an open candidate learning question from an employer's training plan joins
    the pool; confirmed and applied, it becomes a row of the learning questions sheet whose
    Herkomst is its PLAN- code, so the next sync links the exchange to the plan item."""
    network = sqlite_network
    network.edit_csv("cohort/leerplekken.csv", "Uitgesloten afdelingen\n", "Uitgesloten afdelingen;Capaciteit\n")
    network.edit_csv("cohort/leerplekken.csv", "Financiën, HR\n", "Financiën, HR;3\n")  # LV-08, LV-10 and one more
    network.edit_csv("cohort/leercoaches.csv", "Leerplek;Leercoach\n", "Leerplek;Leercoach;Capaciteit\n")
    network.edit_csv("cohort/leercoaches.csv", "LP-GK-ATELIER;G102\n", "LP-GK-ATELIER;G102;3\n")
    network.edit_csv("cohort/organisaties.csv", "groenkracht;maatwerkbedrijf;gemengd;;3;3\n", "groenkracht;maatwerkbedrijf;gemengd;;3;5\n")
    network.edit_csv("cohort/organisaties.csv", "brouwers-peeters;bouw;arbeiders;;2;2\n", "brouwers-peeters;bouw;arbeiders;;4;2\n")
    sync(network)
    config = network.config()
    outcome = service.propose(config, date(2027, 1, 4), calendars=NoCalendars())
    planned = [p for p in outcome.result.proposals if p.question.origin == "training_plan"]
    assert len(planned) == 1 and planned[0].place == "LP-GK-ATELIER"
    code = planned[0].question.code
    book = load_workbook(outcome.workbook)
    sheet = book["Voorstellen"]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 3).value == code)
    sheet.cell(row, 2).value = "bevestigd"
    book.save(outcome.workbook)
    applied, problems = service.apply(config)
    assert problems == [] and applied.exchanges == [f"EX-{code}"]
    questions = (network.data / "cohort" / "leervragen.csv").read_text(encoding="utf-8-sig")
    assert questions.count(code) == 2  # its code and its origin (Herkomst)
    assert service.apply(config)[0].exchanges == []  # twice adds nothing
    summary = sync(network, as_of="2027-01-05")
    assert not [e for e in summary.errors if not e.warning], summary.errors
    status = cli("status", "--config", str(network.config_path), "--json")
    assert status.returncode == 0 and f'"{code}"' in status.stdout
    assert f"EX-{code}-D1.ics" in {p.name for p in (network.out / "invitations").iterdir()}


def test_match_on_the_command_line_prints_one_json_document(sqlite_network):
    result = cli("match", "--config", str(sqlite_network.config_path), "--as-of", "2027-01-04", "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert [p["question"] for p in document["proposals"]] == ["LV-08"]
    assert document["proposals"][0]["intro"]["start"].startswith("2027-01-11T10:00")
    assert len(document["proposals"][0]["days"]) == 2
    assert {u["question"] for u in document["unmatched"] if not u["question"].startswith("PLAN-")} == {"LV-10"}
    helped = cli("match", "--help")
    assert "--apply" in helped.stdout and "--as-of" in helped.stdout and "proposals.xlsx" in helped.stdout


def test_match_to_a_folder_it_cannot_write_is_a_clear_failure(sqlite_network, tmp_path):
    blocked = tmp_path / "read-only"
    blocked.mkdir()
    blocked.chmod(0o500)
    target = "/proc/proposals.xlsx" if os.geteuid() == 0 else str(blocked / "proposals.xlsx")  # root writes anywhere else
    result = cli("match", "--config", str(sqlite_network.config_path), "--as-of", "2027-01-04", "--output", target, "--json")
    assert result.returncode == 3 and "Traceback" not in result.stderr and "unexpected" not in result.stderr, result.stderr
    (error,) = json.loads(result.stdout)["errors"]
    assert error["message"].startswith("cannot write ") and "proposals.xlsx" in error["message"]
    assert "Not written: cannot write" in result.stderr


# -- bad data ----------------------------------------------------------------------------------

def test_bad_matching_cells_are_problems_naming_sheet_row_and_column(sqlite_network):
    network = sqlite_network
    network.edit_csv("cohort/leervragen.csv", "Gewenst resultaat;Herkomst\n", "Gewenst resultaat;Herkomst;Voorkeur 1;Talen\n")
    network.edit_csv("cohort/leervragen.csv", "Een onthaalplan voor de eerste vier weken;PLAN-1181293D\n",
                     "Een onthaalplan voor de eerste vier weken;PLAN-1181293D;acme;nl\n")
    network.edit_csv("cohort/leervragen.csv", "LV-08;zonneke;Z003;Hoe gaat een maatwerkbedrijf om met diversiteit in het team?;;;\n",
                     "LV-08;zonneke;Z003;Hoe gaat een maatwerkbedrijf om met diversiteit in het team?;;;;;klingon\n")
    network.edit_csv("cohort/leerplekken.csv", "Uitgesloten afdelingen\n", "Uitgesloten afdelingen;Capaciteit\n")
    network.edit_csv("cohort/leerplekken.csv", "Financiën, HR\n", "Financiën, HR;-1\n")
    reading = read_cohort(network.config())
    found = {(p.source, p.record, p.field): p.message for p in reading.problems}
    assert "'acme' is no organisation" in found[("leervragen.csv", "leervragen.csv row 3", "Voorkeur 1")]
    assert "'klingon' is not a language" in found[("leervragen.csv", "leervragen.csv row 9", "Talen")]
    assert "-1 is not a whole number of 0 or more" in found[("leerplekken.csv", "leerplekken.csv row 2", "Capaciteit")]
    assert "LP-GK-ATELIER" not in reading.cohort.places  # the row with the bad capacity is left out
    assert "LV-08" not in {q.code for q in reading.cohort.questions}
    assert next(q for q in reading.cohort.questions if q.code == "LV-02").preferences == ()  # only the name is lost
    result = cli("match", "--config", str(network.config_path), "--as-of", "2027-01-04", "--json")
    assert result.returncode == 1
    errors = json.loads(result.stdout)["errors"]
    assert {(e["source"], e["field"]) for e in errors} >= {("leervragen.csv", "Voorkeur 1"), ("leerplekken.csv", "Capaciteit")}
    checked = cli("check", "--config", str(network.config_path), "--data", "--json")  # before any match or sync
    assert checked.returncode == 1, checked.stderr
    named = {(e["source"], e["record"], e["field"]) for e in json.loads(checked.stdout)["errors"]}
    assert {("leervragen.csv", "leervragen.csv row 9", "Talen"), ("leerplekken.csv", "leerplekken.csv row 2", "Capaciteit")} <= named


def test_the_organisations_sheet_adds_sector_staff_competitors_and_commitments(sqlite_network):
    (sqlite_network.data / "cohort" / "organisaties.csv").write_text(
        "Organisatie;Sector;Personeel;Concurrenten;Stuurt;Ontvangt\n"
        "zonneke;kinderopvang;bedienden;groenkracht;3;2\n"
        "groenkracht;maatwerk;arbeiders;;x;3\n"
        "acme;;;;;\n", encoding="utf-8")
    reading = read_cohort(sqlite_network.config())
    zonneke = reading.cohort.organisations["zonneke"]
    assert (zonneke.sector, zonneke.staff, zonneke.competitors, zonneke.sends, zonneke.hosts) == \
        ("kinderopvang", "white", frozenset({"groenkracht"}), 3, 2)
    fields = {(p.record, p.field) for p in reading.problems}
    assert ("organisaties.csv row 3", "Stuurt") in fields and ("organisaties.csv row 4", "Organisatie") in fields
    allowed = feasible(reading.cohort, 60.0)
    assert allowed.candidates["LV-08"] == []  # groenkracht is zonneke's competitor now
    assert "competitor" in {r.constraint for r in allowed.removals("LV-08")}


# -- dates -------------------------------------------------------------------------------------

def test_days_avoid_public_holidays_and_unhosted_weekdays():
    planner = Planner(MatchingConfig(), ZONE, date(2026, 10, 1))
    plan = planner.plan(["a@x.be", "b@y.be"], frozenset({2}), (date(2026, 11, 9), date(2026, 11, 30)))  # Wednesdays
    assert [d.start.date() for d in plan.days] == [date(2026, 11, 18), date(2026, 11, 25)]  # 11/11 is Armistice Day
    assert is_holiday(date(2026, 11, 11))
    assert all(d.start.weekday() == 2 and d.hours == 7 for d in plan.days)
    assert plan.intro is not None and plan.days[0].start - plan.intro.start >= timedelta(days=7)
    assert plan.intro.end - plan.intro.start == timedelta(minutes=20)
    # a second proposal never gives the same person the same day
    other = planner.plan(["a@x.be"], frozenset({2}), (date(2026, 11, 9), date(2026, 12, 31)))
    assert not {d.start.date() for d in other.days} & {d.start.date() for d in plan.days}


def test_busy_calendars_move_the_days_and_no_free_day_means_no_dates():
    class Busy:
        def busy(self, emails, start, end):  # type: ignore[no-untyped-def]
            day = datetime(2027, 2, 1, 9, 0, tzinfo=ZONE)
            return {"coach@host.be": [(day, day + timedelta(hours=2))]}

    planner = Planner(MatchingConfig(), ZONE, date(2027, 1, 4), Busy())
    planner.load(["coach@host.be", "switcher@home.be"], date(2027, 1, 1), date(2027, 3, 1))
    plan = planner.plan(["coach@host.be", "switcher@home.be"], frozenset(range(5)), (date(2027, 2, 1), date(2027, 2, 28)))
    assert [d.start.date() for d in plan.days] == [date(2027, 2, 2), date(2027, 2, 3)]
    assert not plan.calendars_read  # the switcher's calendar was not readable
    short = planner.plan(["x@y.be"], frozenset({5}), (date(2027, 2, 1), date(2027, 2, 5)))
    assert short.days == () and short.intro is None


def test_free_busy_is_read_with_getschedule_as_microsoft_documents_it():
    from connector.matching.calendars import GraphCalendars
    from connector.plumbing.http import HttpClient
    from tests.contracts.stubs import ContractMock

    graph = "https://graph.test.example/v1.0"
    answer = {"value": [
        {"scheduleId": "coach@host.be", "availabilityView": "0220",
         "scheduleItems": [{"isPrivate": False, "status": "busy", "subject": "Team", "location": "",
                            "start": {"dateTime": "2027-02-01T08:00:00.0000000", "timeZone": "UTC"},
                            "end": {"dateTime": "2027-02-01T10:00:00.0000000", "timeZone": "UTC"}},
                           {"status": "free", "start": {"dateTime": "2027-02-02T08:00:00.0000000", "timeZone": "UTC"},
                            "end": {"dateTime": "2027-02-02T09:00:00.0000000", "timeZone": "UTC"}}],
         "workingHours": {"daysOfWeek": ["monday"], "startTime": "08:00:00.0000000", "endTime": "17:00:00.0000000",
                          "timeZone": {"name": "Romance Standard Time"}}},
        {"scheduleId": "gone@host.be", "error": {"message": "mailbox not found", "responseCode": "ErrorMailRecipientNotFound"}},
    ]}
    client = HttpClient("msgraph:host", graph, sleep=lambda s: None)
    calendars = GraphCalendars(lambda tenant: client, lambda email: "host" if email.endswith("@host.be") else None)
    with ContractMock("msgraph", "graph.test.example") as stubs:
        stubs.post(f"{graph}/users/coach%40host.be/calendar/getSchedule", json=answer)
        found = calendars.busy(["coach@host.be", "gone@host.be", "someone@elsewhere.be"],
                               datetime(2027, 1, 25, tzinfo=ZONE), datetime(2027, 3, 1, tzinfo=ZONE))
        sent = json.loads(stubs.calls[0].request.body)
    assert sent["schedules"] == ["coach@host.be", "gone@host.be"] and sent["startTime"]["timeZone"] == "UTC"
    assert list(found) == ["coach@host.be"] and len(found["coach@host.be"]) == 1
    start, end = found["coach@host.be"][0]
    assert start.astimezone(ZONE).hour == 9 and (end - start) == timedelta(hours=2)


# -- the workbook in other languages ----------------------------------------------------------

def test_the_proposals_workbook_speaks_the_partners_language_and_reads_back(sqlite_network):
    sqlite_network.replace('language = "nl"\nall_day', 'language = "fr"\nall_day')
    config = sqlite_network.config()
    outcome = service.propose(config, date(2027, 1, 4), calendars=NoCalendars())
    book = load_workbook(outcome.workbook)
    assert book.sheetnames == ["Explications", "Propositions", "Sans proposition"]
    header = [c.value for c in book["Propositions"][1]]
    assert header[:3] == ["Échange", "Statut", "Question d'apprentissage"] and "Jour 1" in header
    book["Propositions"]["B2"] = "confirmé"
    book.save(outcome.workbook)
    applied, problems = service.apply(config)
    assert applied.exchanges == ["EX-LV-08"] and problems == []


# -- the template and a cohort workbook ----------------------------------------------------------

def test_the_template_carries_the_matching_columns():
    from tests.test_cli import REPO

    book = load_workbook(REPO / "examples" / "template" / "switching-talent-sjabloon.xlsx")
    assert {"Voorkeur 1", "Voorkeur 3", "Talen", "Gewenst van", "Postcode"} <= {c.value for c in book["Leervragen"][1]}
    assert {"Capaciteit", "Onthaaldagen"} <= {c.value for c in book["Leerplekken"][1]}
    assert [c.value for c in book["Organisaties"][1]] == ["Organisatie", "Sector", "Grootte", "Personeel", "Concurrenten",
                                                          "Stuurt", "Ontvangt"]


def test_a_cohort_workbook_is_matched_and_applied_in_its_own_sheets(sqlite_network):
    """The cohort as one .xlsx (sheets named by the mapping), with matching columns filled in."""
    from openpyxl import Workbook

    from connector.plumbing.tabular import read_table

    network = sqlite_network
    cohort = network.data / "cohort"
    book = Workbook()
    book.remove(book.active)
    for stem, title in (("leerplekken", "Leerplekken"), ("leercoaches", "Leercoaches"), ("leervragen", "Leervragen"),
                        ("uitwisselingen", "Uitwisselingen"), ("sessies", "Sessies"), ("organisaties", "Organisaties")):
        rows = list(read_table(cohort / f"{stem}.csv"))
        sheet = book.create_sheet(title)
        header = list(rows[0].cells)
        extra = {"Leervragen": ["Voorkeur 1", "Langues"], "Leercoaches": ["Capaciteit"]}.get(title, [])
        sheet.append(header + extra)
        for row in rows:
            values = [row.cells[h] for h in header]
            if title == "Leervragen":
                values += ["groenkracht", "néerlandais"] if row.cells["Code"] == "LV-08" else ["", ""]
            if title == "Leercoaches":
                values += [2 if row.cells["Leercoach"] == "G110" else None]
            sheet.append(values)
    book.save(network.root / "cohort.xlsx")
    network.replace('path = "examples/data/cohort"', 'path = "cohort.xlsx"')
    config = network.config()
    reading = read_cohort(config)
    assert reading.problems == []
    question = next(q for q in reading.cohort.questions if q.code == "LV-08")
    assert question.preferences == ("groenkracht",) and question.languages == frozenset({"nl"})
    outcome = service.propose(config, date(2027, 1, 4), calendars=NoCalendars())
    [proposal] = outcome.result.proposals
    assert proposal.scored.criteria["preference"] == 1.0
    book = load_workbook(outcome.workbook)
    book["Voorstellen"]["B2"] = "bevestigd"
    book.save(outcome.workbook)
    applied, _ = service.apply(config)
    assert applied.exchanges == ["EX-LV-08"]
    cohort_book = load_workbook(network.root / "cohort.xlsx")
    exchanges = list(cohort_book["Uitwisselingen"].values)
    assert exchanges[-1] == ("EX-LV-08", "LV-08", proposal.place, proposal.coach, "bevestigd")
    sessions = list(cohort_book["Sessies"].values)
    assert sessions[-1][:3] == ("EX-LV-08-D2", "EX-LV-08", "uitwisselingsdag") and sessions[-1][8] == "7"
    summary = sync(network, as_of="2027-01-05")
    assert (network.out / "invitations" / "EX-LV-08-D2.ics").is_file(), summary.errors


def test_a_rejected_proposal_is_not_proposed_again(sqlite_network):
    config = sqlite_network.config()
    outcome = service.propose(config, date(2027, 1, 4), calendars=NoCalendars())
    assert [p.place for p in outcome.result.proposals] == ["LP-GK-ATELIER"]
    book = load_workbook(outcome.workbook)
    book["Voorstellen"]["B2"] = "afgewezen"
    book.save(outcome.workbook)
    again = service.propose(config, date(2027, 1, 4), calendars=NoCalendars())
    assert "LV-08" not in {p.question.code for p in again.result.proposals}
    [unmatched] = [u for u in again.result.unmatched if u.question.code == "LV-08"]
    assert {r.place: r.constraint for r in unmatched.removals}["LP-GK-ATELIER"] == "rejected"


def test_a_proposal_never_reuses_an_exchange_code_of_the_sheet(sqlite_network):
    """EX-LV-08 is taken by a cancelled exchange: the new proposal gets another code."""
    sqlite_network.edit_csv("cohort/uitwisselingen.csv", "EX-08;LV-08;LP-GK-ATELIER;G102;geannuleerd",
                            "EX-LV-08;LV-08;LP-GK-ATELIER;G102;geannuleerd")
    outcome = service.propose(sqlite_network.config(), date(2027, 1, 4), calendars=NoCalendars())
    assert [p.code for p in outcome.result.proposals] == ["EX-LV-08-2"]


def test_a_wished_period_with_one_end_is_taken_from_or_until_that_day(sqlite_network):
    network = sqlite_network
    network.edit_csv("cohort/leervragen.csv", "Gewenst resultaat;Herkomst\n", "Gewenst resultaat;Herkomst;Gewenst tot\n")
    network.edit_csv("cohort/leervragen.csv", "LV-08;zonneke;Z003;Hoe gaat een maatwerkbedrijf om met diversiteit in het team?;;;\n",
                     "LV-08;zonneke;Z003;Hoe gaat een maatwerkbedrijf om met diversiteit in het team?;;;;31/01/2027\n")
    outcome = service.propose(network.config(), date(2027, 1, 4), calendars=NoCalendars())
    [proposal] = outcome.result.proposals
    assert all(date(2027, 1, 12) <= d.start.date() <= date(2027, 1, 31) for d in proposal.plan.days)
    assert proposal.plan.days[0].start.date() == date(2027, 1, 12)  # the first day an intro call a week before allows


def test_the_status_column_offers_its_words_and_a_typo_is_a_problem_not_a_silent_skip(sqlite_network):
    config = sqlite_network.config()
    outcome = service.propose(config, date(2027, 1, 4), calendars=NoCalendars())
    book = load_workbook(outcome.workbook)
    sheet = book["Voorstellen"]
    (validation,) = sheet.data_validations.dataValidation
    assert validation.type == "list" and validation.formula1 == '"voorgesteld,bevestigd,afgewezen"'
    assert str(validation.sqref) == "B2:B1000" and validation.showErrorMessage
    sheet["B2"] = "bevestigt"  # a typo
    book.save(outcome.workbook)
    applied, problems = service.apply(config)
    assert applied.exchanges == []
    (problem,) = problems
    assert (problem.record, problem.field) == ("proposals.xlsx Voorstellen row 2", "Status")
    assert "'bevestigt' is not a status" in problem.message
