"""One matching run: read, constrain, score, assign optimally, plan dates, explain.

`match(config, db, as_of)` is the library call behind `st-connector match`; it writes nothing.
"""

from __future__ import annotations

import time as clock
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session as DbSession

from connector.core.config import Config
from connector.core.errors import Problem
from connector.matching.constraints import Feasible, Removal, feasible
from connector.matching.dates import Calendars, NoCalendars, Plan, Planner
from connector.matching.inputs import Reading, read_cohort
from connector.matching.model import Cohort, Fixed, Question
from connector.matching.scoring import Scored, score
from connector.matching.solver import Assignment, assign


@dataclass(frozen=True)
class Proposal:
    """A proposed exchange: `code` is the exchange code `match --apply` will give it."""

    code: str
    question: Question
    place: str
    place_name: str
    host: str
    coach: str
    coach_name: str | None
    scored: Scored
    plan: Plan


@dataclass(frozen=True)
class Unmatched:
    """An open question without a proposal; `removals` say what ruled out each place (and
    coach); `outbid` lists feasible places that went to other questions."""

    question: Question
    removals: tuple[Removal, ...]
    outbid: tuple[str, ...]


@dataclass
class MatchResult:
    as_of: date
    proposals: list[Proposal]
    unmatched: list[Unmatched]
    fixed: list[Fixed]
    problems: list[Problem]
    feasible: Feasible
    assignment: Assignment
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return "partial" if any(not p.warning for p in self.problems) else "ok"


def match(config: Config, db: DbSession | None, as_of: date, calendars: Calendars | None = None,
          extra_questions: Iterable[Question] = (), confirmed: Iterable[Fixed] = ()) -> MatchResult:
    """Propose exchanges for every open question of the cohort; see the package docstring."""
    reading = read_cohort(config, db, extra_questions, confirmed)
    return solve(reading, config, as_of, calendars)


def solve(reading: Reading, config: Config, as_of: date, calendars: Calendars | None = None) -> MatchResult:
    """The steps after reading, on a cohort already in memory (the benchmark starts here)."""
    cohort = reading.cohort
    settings = config.matching
    started = clock.perf_counter()
    allowed = feasible(cohort, settings.max_distance_km)
    scored = score(cohort, allowed, settings.weights, settings.max_distance_km)
    owners = {q.code: q.organisation for q in cohort.questions}
    hosts = {code: p.organisation for code, p in cohort.places.items()}
    assignment = assign(scored, allowed, owners, hosts)
    seconds = clock.perf_counter() - started
    planner = Planner(settings, config.partner.zone, as_of, calendars or NoCalendars())
    proposals = _proposals(cohort, assignment, planner)
    unmatched = _unmatched(cohort, allowed, assignment)
    stats = {"open_questions": len(cohort.open_questions), "candidates": sum(len(c) for c in allowed.candidates.values()),
             "matched": assignment.matched, "points": assignment.points, "bound": assignment.bound,
             "solve_seconds": round(seconds, 3)}
    return MatchResult(as_of, proposals, unmatched, cohort.fixed, reading.problems, allowed, assignment, seconds, stats)


def _proposals(cohort: Cohort, assignment: Assignment, planner: Planner) -> list[Proposal]:
    questions = {q.code: q for q in cohort.questions}
    coaches = {c.key: c for c in cohort.coaches}
    chosen = sorted(assignment.chosen.items())
    people = [questions[q].email for q, _ in chosen] + [coaches[(s.candidate.place, s.candidate.coach)].email for _, s in chosen]
    if chosen:
        windows = [planner.window(questions[q].period) for q, _ in chosen]
        planner.load([p for p in people if p], min(w[0] for w in windows), max(w[1] for w in windows))
    taken_codes = set(cohort.exchange_codes)
    result = []
    for code, row in chosen:
        question = questions[code]
        place = cohort.places[row.candidate.place]
        coach = coaches[(place.code, row.candidate.coach)]
        plan = planner.plan([question.email, coach.email], place.weekdays & coach.weekdays, question.period)
        exchange, number = f"EX-{code}", 1
        while exchange in taken_codes:  # a code the sheet already uses, even for a cancelled exchange
            number += 1
            exchange = f"EX-{code}-{number}"
        taken_codes.add(exchange)
        result.append(Proposal(exchange, question, place.code, place.name, place.organisation, coach.person, coach.name, row, plan))
    return result


def _unmatched(cohort: Cohort, allowed: Feasible, assignment: Assignment) -> list[Unmatched]:
    result = []
    for question in cohort.open_questions:
        if question.code in assignment.chosen:
            continue
        outbid = tuple(sorted({c.place for c in allowed.candidates.get(question.code, [])}))
        result.append(Unmatched(question, tuple(allowed.removals(question.code)), outbid))
    return result
