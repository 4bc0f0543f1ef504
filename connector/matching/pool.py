"""Where learning questions come from besides the cohort sheet: one adapter per origin.

Issue #13 (training plans) adds `candidate_learning_questions(session, ...)`. Wiring it in is
one line in `extra_questions`: map each candidate with `question_from_candidate` and return
them; they then join the pool, are constrained, scored, assigned and explained like the
sheet's questions (their `origin` shows in the proposals workbook's JSON). A candidate whose
code repeats a sheet question is the same question (the sheet's row wins).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session as DbSession

from connector.matching.model import Question


def question_from_candidate(code: str, organisation: str, switcher: str, title: str, description: str | None = None,
                            keywords: Iterable[str] = (), languages: Iterable[str] = (), email: str | None = None,
                            department: str | None = None, origin: str = "training_plan") -> Question:
    """A candidate learning question of another origin as a pool question."""
    return Question(code=code, organisation=organisation, switcher=switcher, title=title,
                    text=" ".join(filter(None, (title, description))), keywords=frozenset(k.casefold() for k in keywords),
                    languages=frozenset(languages), email=email, department=department, origin=origin, location=origin)


def extra_questions(db: DbSession | None) -> list[Question]:
    """Candidate learning questions from the store that join the pool. None yet: the training
    plans of issue #13 plug in here (`candidate_learning_questions(db, ...)`)."""
    return []
