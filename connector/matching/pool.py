"""Where learning questions come from besides the cohort sheet: one adapter per origin.

The training plans (issue #13) give `candidate_learning_questions(session, ...)`:
`extra_questions` maps each open, not yet accepted candidate with `question_from_candidate`;
they then join the pool, are constrained, scored, assigned and explained like the
sheet's questions (their `origin` shows in the proposals workbook's JSON). A candidate whose
code repeats a sheet question is the same question (the sheet's row wins).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session as DbSession

from connector.matching.model import Question
from connector.store.plans import candidate_learning_questions
from connector.store.tables import Person


def question_from_candidate(code: str, organisation: str, switcher: str, title: str, description: str | None = None,
                            keywords: Iterable[str] = (), languages: Iterable[str] = (), email: str | None = None,
                            department: str | None = None, origin: str = "training_plan") -> Question:
    """A candidate learning question of another origin as a pool question."""
    return Question(code=code, organisation=organisation, switcher=switcher, title=title,
                    text=" ".join(filter(None, (title, description))), keywords=frozenset(k.casefold() for k in keywords),
                    languages=frozenset(languages), email=email, department=department, origin=origin, location=origin)


def extra_questions(db: DbSession | None) -> list[Question]:
    """The open candidate learning questions from the employers' training plans (issue #13),
    not yet accepted in the cohort sheet, as pool questions: the plan's competence is a keyword,
    the employer's remark the description, the PLAN- code the question's code. Without a store
    (matching a sheet alone) there are none."""
    if db is None:
        return []
    questions = []
    for candidate in candidate_learning_questions(db):
        person = db.get(Person, candidate.switcher_id)
        questions.append(question_from_candidate(
            code=candidate.code, organisation=candidate.organisation_id,
            switcher=candidate.employee_number or candidate.email or candidate.switcher_id,
            title=candidate.title, description=candidate.remark,
            keywords=[candidate.competence] if candidate.competence else (),
            languages=[person.language] if person else (), email=candidate.email,
            department=person.department if person else None))
    return questions
