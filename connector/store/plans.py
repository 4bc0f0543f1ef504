"""Candidate learning questions as the rest of the connector reads them (status, the cohort
output, the matching step): typed records out of the planned_learning table.

A candidate is a development goal or learning need of an employee that its source's rule
marks for Switching Talent (connector/engine/plans.py makes them during sync). Reading them
needs no configuration: this module only queries the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.store.tables import Person, PlannedLearning


@dataclass(frozen=True)
class CandidateLearningQuestion:
    """One candidate learning question and its origin.

    code            PLAN-XXXXXXXX: what the ST-partner writes in the cohort sheet's Herkomst column
    organisation_id the switcher's organisation
    switcher_id     the store's person id; employee_number and email identify them in sheets
    title, competence, remark  what the plan says (remark: the employer's own words)
    due             the plan's due date (or end of its planned period), if any
    hours           the planned hours, if any
    kind            development_goal | learning_need
    status          open | in_progress (done and dropped items are no candidates)
    source, remote_id  where it came from: "<organisation>/<source name>" and that system's id
    accepted_as     the learning question code once accepted in the cohort sheet, else None
    """

    code: str
    organisation_id: str
    switcher_id: str
    employee_number: str | None
    email: str | None
    switcher_name: str
    title: str
    competence: str | None
    remark: str | None
    due: date | None
    hours: float | None
    kind: str
    status: str
    source: str
    remote_id: str
    accepted_as: str | None


def candidate_learning_questions(
    db: Session, organisation_id: str | None = None, include_accepted: bool = False
) -> list[CandidateLearningQuestion]:
    """The candidate learning questions of active employees, by organisation, switcher and code.

    `organisation_id` limits them to one organisation; `include_accepted` adds those already
    accepted as a learning question (accepted_as set), which are otherwise left out. Items
    their source no longer lists are never candidates.
    """
    query = (select(PlannedLearning, Person).join(Person, Person.id == PlannedLearning.person_id)
             .where(PlannedLearning.candidate_code.is_not(None), PlannedLearning.removed.is_(False), Person.active.is_(True)))
    if organisation_id is not None:
        query = query.where(PlannedLearning.organisation_id == organisation_id)
    found = []
    for planned, person in db.execute(query.order_by(PlannedLearning.organisation_id, Person.last_name, PlannedLearning.candidate_code)):
        accepted = planned.learning_question_code
        if not planned.candidate and accepted is None or accepted is not None and not include_accepted:
            continue
        found.append(CandidateLearningQuestion(
            code=planned.candidate_code or "", organisation_id=planned.organisation_id, switcher_id=person.id,
            employee_number=person.employee_number, email=person.email, switcher_name=person.full_name, title=planned.title,
            competence=planned.competence, remark=planned.remark, due=planned.due, hours=planned.hours, kind=planned.kind,
            status=planned.status, source=planned.source, remote_id=planned.remote_id, accepted_as=accepted))
    return found
