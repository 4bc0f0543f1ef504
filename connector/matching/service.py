"""What `st-connector match` does, as library calls the command line only prints.

`propose(config, as_of, output_dir)`: keep the confirmed rows of the last proposals workbook
that are not yet in the cohort, match the rest, write the new workbook; `apply(config,
output_dir)`: carry the confirmed rows into the cohort's sheets. `as_json` is the --json
document.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from connector.core.config import Config
from connector.core.errors import Problem
from connector.core.texts import format_number, text
from connector.matching.apply import Applied, apply_confirmed
from connector.matching.calendars import graph_calendars
from connector.matching.dates import Calendars, Slot
from connector.matching.inputs import read_cohort
from connector.matching.model import Fixed
from connector.matching.pool import extra_questions
from connector.store.plans import candidate_learning_questions
from connector.matching.run import MatchResult, solve
from connector.matching.workbook import (
    FILE_NAME,
    ConfirmedRow,
    breakdown,
    confirmed_rows,
    explain,
    rejected_pairs,
    write_workbook,
)
from connector.plumbing.runtime import Runtime
from connector.store.db import migrate, open_engine, session_factory
from connector.store.tables import Person


@dataclass
class Outcome:
    result: MatchResult
    workbook: Path
    kept: list[ConfirmedRow]
    problems: list[Problem] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "partial" if any(not p.warning for p in self.problems) else "ok"


def workbook_path(config: Config, output_dir: Path | None) -> Path:
    return (output_dir or config.output_dir / "matching") / FILE_NAME


def propose(config: Config, as_of: date, output_dir: Path | None = None, calendars: Calendars | None = None) -> Outcome:
    """Match the open questions and write the proposals workbook (the store is only read).
    Rows marked confirmed stay (and keep their place); rows marked rejected are not proposed again."""
    path = workbook_path(config, output_dir)
    kept, unreadable = confirmed_rows(path, config.partner.zone)
    engine = open_engine(config.store_url)
    try:
        migrate(engine)
        with session_factory(engine)() as db:
            emails = {p.email.casefold(): p.organisation_id for p in db.scalars(select(Person)) if p.email}
            if calendars is None:
                calendars = graph_calendars(config, Runtime(config, datetime.now(UTC)), emails)
            reading = read_cohort(config, db, extra_questions(db),
                                  [Fixed(r.question, r.place, (r.coach,), "proposals") for r in kept], rejected_pairs(path))
    finally:
        engine.dispose()
    kept = [r for r in kept if not any(f.question == r.question and f.origin == "cohort" for f in reading.cohort.fixed)]
    reading.cohort.exchange_codes |= {r.exchange for r in kept}  # new proposals never reuse a kept row's code
    result = solve(reading, config, as_of, calendars)
    problems = list(reading.problems) + [Problem(path.name, "proposals", where, column, message) for where, column, message in unreadable]
    write_workbook(path, result, config.partner.language.value, kept)
    return Outcome(result, path, kept, problems)


def apply(config: Config, output_dir: Path | None = None) -> tuple[Applied, list[Problem]]:
    """Carry the confirmed proposals of the workbook into the cohort sheets."""
    path = workbook_path(config, output_dir)
    rows, unreadable = confirmed_rows(path, config.partner.zone)
    problems = [Problem(path.name, "proposals", where, column, message) for where, column, message in unreadable]
    candidates = {}
    if any(row.question.startswith("PLAN-") for row in rows):
        engine = open_engine(config.store_url)
        try:
            migrate(engine)
            with session_factory(engine)() as db:
                candidates = {c.code: c for c in candidate_learning_questions(db)}
        finally:
            engine.dispose()
    return apply_confirmed(config, rows, candidates), problems


def _slot(slot: Slot | None) -> dict[str, Any] | None:
    if slot is None:
        return None
    found: dict[str, Any] = {"start": slot.start.isoformat(), "end": slot.end.isoformat()}
    if slot.hours is not None:
        found["hours"] = slot.hours
    return found


def as_json(outcome: Outcome, language: str) -> dict[str, Any]:
    """The --json document: proposals with scores and dates, unmatched questions with reasons."""
    result = outcome.result
    return {
        "status": outcome.status,
        "as_of": result.as_of.isoformat(),
        "workbook": str(outcome.workbook),
        "proposals": [{
            "exchange": p.code, "question": p.question.code, "origin": p.question.origin, "title": p.question.title,
            "organisation": p.question.organisation, "switcher": p.question.switcher, "switcher_name": p.question.name,
            "place": p.place, "host": p.host, "coach": p.coach, "coach_name": p.coach_name, "score": round(p.scored.total, 3), "criteria": p.scored.shown(),
            "distance_km": None if p.scored.candidate.distance is None else round(p.scored.candidate.distance, 1),
            "intro": _slot(p.plan.intro), "days": [_slot(d) for d in p.plan.days], "calendars_read": p.plan.calendars_read,
            "reasons": breakdown(p, language),
        } for p in result.proposals],
        "confirmed_kept": [r.exchange for r in outcome.kept],
        "unmatched": [{
            "question": u.question.code, "title": u.question.title, "organisation": u.question.organisation,
            "reasons": [{"candidate": c, "reason": r} for c, r in explain(u, language)],
            "removed_by": sorted({r.constraint for r in u.removals} | ({"outbid"} if u.outbid else set())),
        } for u in result.unmatched],
        "fixed": len(result.fixed),
        "stats": result.stats,
        "errors": [p.as_dict() for p in outcome.problems if not p.warning],
        "warnings": [p.as_dict() for p in outcome.problems if p.warning],
    }


def summary_lines(outcome: Outcome, language: str) -> list[str]:
    """What the command prints without --json, in the partner's language, people by name."""
    result = outcome.result
    lines = [text(language, "match.summary.head", proposals=len(result.proposals), open=result.stats["open_questions"],
                  kept=len(result.fixed), path=outcome.workbook)]
    for p in result.proposals:
        days = ", ".join(f"{d.start:%d/%m}" for d in p.plan.days) or text(language, "match.no_dates")
        lines.append("  " + text(language, "match.summary.proposal", code=p.code, question=p.question.code,
                                 switcher=p.question.name or p.question.switcher, place=p.place, host=p.host,
                                 coach=p.coach_name or p.coach, score=format_number(language, round(p.scored.total, 2)), days=days))
    for u in result.unmatched:
        lines.append("  " + text(language, "match.summary.unmatched", question=u.question.code,
                                 switcher=u.question.name or u.question.switcher))
        lines.extend(f"      {candidate}: {reason}" for candidate, reason in explain(u, language))
    for problem in outcome.problems:
        lines.append(f"{text(language, 'match.summary.warning' if problem.warning else 'match.summary.problem')}: {problem}")
    return lines
