"""Planned learning: from what the sources delivered to the store, and from plan to candidate
learning question.

Reconcile (like pulled training records): each live `planned_learning` source record of an
organisation's sources becomes one PlannedLearning row, its employee resolved by employee
number or e-mail; an employee who is not known is a problem naming source, record and field,
and the record is left out. A record its source no longer lists is deleted, unless the
ST-partner accepted it as a learning question: then it is kept, marked removed, so the link
to the exchange that answered it stays.

Candidates: each source says with its `candidates` option which of its development goals and
learning needs are meant for Switching Talent (the rule below). An open or in-progress item
the rule selects is a candidate learning question and gets a code (PLAN-XXXXXXXX, derived from
its source and id, so it never changes). The ST-partner accepts it by naming that code in the
Herkomst column of the cohort's learning questions; from then on the item is linked to that
learning question. The link is dropped again only while no exchange of that question is
finished (completed, or its leerbewijs issued): a finished exchange keeps its origin.

Rule (source option `candidates`):
    "every_open"          every open or in-progress development goal and learning need
    "category:<name>"     ... whose category is <name> (case-insensitive)
    "tag:<name>"          ... that carries the tag <name> (case-insensitive)
    "marked"              ... whose `marked` field (a custom field in the mapping) is yes
Without the option no item of that source is a candidate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.core.config import Config, OrganisationConfig, SourceConfig
from connector.core.errors import Problem
from connector.core.texts import text
from connector.engine.reconcile import COHORT, PersonResolver, source_key
from connector.sinks import PLAN_ORIGIN
from connector.store.outbox import enqueue, utcnow
from connector.store.tables import Exchange, LearningQuestion, Leerbewijs, Person, PlannedLearning, SourceRecord

ENTITY = "planned_learning"
CANDIDATE_KINDS = frozenset({"development_goal", "learning_need"})
CANDIDATE_STATUSES = frozenset({"open", "in_progress"})
RULE_KINDS = ("every_open", "category", "tag", "marked")


@dataclass(frozen=True)
class CandidateRule:
    """Which planned items of one source are candidate learning questions."""

    kind: str  # one of RULE_KINDS
    value: str = ""

    @classmethod
    def parse(cls, text: Any) -> CandidateRule:
        """"every_open", "marked", "category:<name>" or "tag:<name>"; ValueError otherwise."""
        if not isinstance(text, str):
            raise ValueError(f"`candidates` must be text such as \"every_open\" or \"tag:switching talent\", not {text!r}")
        kind, _, value = text.partition(":")
        kind, value = kind.strip().lower(), value.strip()
        if kind not in RULE_KINDS or (kind in ("category", "tag")) != bool(value):
            raise ValueError(f"`candidates = \"{text}\"` is not a rule: use \"every_open\", \"marked\", "
                             "\"category:<name>\" or \"tag:<name>\"")
        return cls(kind, value.lower())

    def selects(self, data: dict[str, Any]) -> bool:
        """Whether a mapped planned_learning record is a candidate under this rule."""
        if data.get("kind") not in CANDIDATE_KINDS or data.get("status", "open") not in CANDIDATE_STATUSES:
            return False
        match self.kind:
            case "every_open":
                return True
            case "marked":
                return bool(data.get("marked"))
            case "category":
                return str(data.get("category") or "").strip().lower() == self.value
            case _:
                return self.value in {str(tag).strip().lower() for tag in data.get("tags") or []}


def candidate_rule(source: SourceConfig) -> CandidateRule | None:
    """The source's rule, or None when it names none (ValueError for a rule that is not one)."""
    text = source.options.get("candidates")
    return None if text is None else CandidateRule.parse(text)


def rule_problems(config: Config) -> list[str]:
    """Every `candidates` option that is not a rule, for build_sources to report with the others."""
    problems = []
    for organisation in config.organisations:
        for source in organisation.sources:
            try:
                candidate_rule(source)
            except ValueError as error:
                problems.append(f"source '{organisation.id}/{source.name}': {error}")
    return problems


def candidate_code(planned_id: str) -> str:
    """A short stable code the ST-partner can type: PLAN- and 8 hex digits of the item's id."""
    return "PLAN-" + hashlib.sha256(planned_id.encode()).hexdigest()[:8].upper()


def reconcile_planned_learning(db: Session, organisation: OrganisationConfig, index: PersonResolver, problems: list[Problem],
                               left_out: list[tuple[str, int, int]] | None = None) -> None:
    """Bring the organisation's PlannedLearning rows in line with its sources' records. A record
    whose employee is unknown is reported, added to `left_out` and its earlier row dropped."""
    rules = {source_key(organisation.id, s.name): candidate_rule(s) for s in organisation.sources if ENTITY in s.entities}
    if not rules:
        return
    existing = {row.id: row for row in db.scalars(select(PlannedLearning).where(PlannedLearning.source.in_(list(rules))))}
    now = utcnow()
    for record in db.scalars(select(SourceRecord).where(SourceRecord.entity == ENTITY, SourceRecord.source.in_(list(rules)))
                             .order_by(SourceRecord.source, SourceRecord.remote_id)):
        planned_id = f"{record.source}:{record.remote_id}"
        row = existing.get(planned_id)
        if record.deleted:
            _drop(db, row, now)
            continue
        data = record.data
        person_id = index.resolve(data["employee"])
        if person_id is None:
            problems.append(Problem(record.source, ENTITY, record.location or record.remote_id, "employee",
                                    f"no employee '{data['employee']}' at {organisation.id}; this planned item was left out"))
            if left_out is not None:
                left_out.append((record.entity, record.id, record.changed_run))  # plain values: the chunk may be expunged
            _drop(db, row, now)  # it no longer belongs to anyone known
            continue
        rule = rules[record.source]
        selected = rule is not None and rule.selects(data)
        values = _values(organisation.id, person_id, record, data, selected)
        if row is None:
            row = PlannedLearning(id=planned_id, updated_at=now, learning_question_code=None, **values)
            db.add(row)
        elif row.assign(values):
            row.updated_at = now
        if selected and row.candidate_code is None:
            row.candidate_code = candidate_code(planned_id)


def _values(organisation_id: str, person_id: str, record: SourceRecord, data: dict[str, Any], selected: bool) -> dict[str, Any]:
    return {
        "organisation_id": organisation_id, "person_id": person_id, "source": record.source, "remote_id": record.remote_id,
        "title": data["title"], "kind": data.get("kind", "learning_need"), "competence": data.get("competence"),
        "category": data.get("category"), "tags": list(data.get("tags") or []),
        "start": _date(data.get("start")), "due": _date(data.get("due")), "hours": data.get("hours"),
        "status": data.get("status", "open"), "training_kind": data.get("training_kind"), "remark": data.get("remark"),
        "marked": bool(data.get("marked")), "candidate": selected, "removed": False,
    }


def _date(value: Any) -> date | None:
    return None if value in (None, "") else date.fromisoformat(str(value))


def _drop(db: Session, row: PlannedLearning | None, now: Any) -> None:
    """Gone from its source: deleted, or kept as removed while it answers a learning question."""
    if row is None:
        return
    if row.learning_question_code is None:
        db.delete(row)
    elif not row.removed or row.candidate:
        row.removed, row.candidate, row.updated_at = True, False, now


def link_accepted(db: Session, config: Config, problems: list[Problem]) -> None:
    """Link each candidate named in the Herkomst (origin) column of a cohort learning question
    to that question; a code nobody has, or a question of another switcher, is a problem."""
    keys = [source_key(COHORT, s.name) for s in config.sources]
    wanted: dict[str, str] = {}  # candidate code -> learning question code
    for record in db.scalars(select(SourceRecord).where(SourceRecord.entity == "learning_questions", SourceRecord.source.in_(keys),
                                                        SourceRecord.deleted.is_(False)).order_by(SourceRecord.remote_id)):
        origin = (record.data or {}).get("origin")
        if not origin:
            continue
        where = record.location or record.remote_id
        code = str(origin).strip().upper()
        planned = db.scalar(select(PlannedLearning).where(PlannedLearning.candidate_code == code))
        question = db.get(LearningQuestion, record.data["code"])
        if planned is None:
            problems.append(Problem(record.source, "learning_questions", where, "origin",
                                    f"no candidate learning question '{origin}' (see st-connector status); the link was not made"))
            continue
        if question is None:
            continue  # the question itself was not taken in: reported by the cohort reconciler
        if question.switcher_id != planned.person_id:
            switcher = db.get(Person, planned.person_id)
            name = switcher.full_name if switcher is not None else planned.person_id
            problems.append(Problem(record.source, "learning_questions", where, "origin",
                                    f"candidate {code} is a plan of {name}, not of this question's switcher; the link was not made"))
            continue
        if code in wanted:
            problems.append(Problem(record.source, "learning_questions", where, "origin",
                                    f"candidate {code} is already accepted as learning question {wanted[code]}; the link was not made"))
            continue
        wanted[code] = question.code
    now = utcnow()
    for row in db.scalars(select(PlannedLearning).where(PlannedLearning.candidate_code.is_not(None))):
        target = wanted.get(row.candidate_code or "")
        if target == row.learning_question_code:
            continue
        if row.learning_question_code is not None and target is None and _answered(db, row.learning_question_code):
            continue  # the exchange is finished: its origin stays, whatever the sheet says now
        row.learning_question_code, row.updated_at = target, now


def _answered(db: Session, question_code: str) -> bool:
    """Whether an exchange of the question is finished: completed, or its leerbewijs issued."""
    finished = select(Exchange.code).where(Exchange.learning_question_code == question_code).where(
        (Exchange.status == "completed") | Exchange.code.in_(select(Leerbewijs.exchange_code).where(Leerbewijs.role == "switcher")))
    return db.scalar(finished.limit(1)) is not None


# -- the origin told which leerbewijs answers it -------------------------------------------

ORIGIN_SINKS = ("bamboohr_goals", "successfactors_goals")  # write-back kinds that take PLAN_ORIGIN, with the source kind
GOAL_SOURCE_KIND = {"bamboohr_goals": "bamboohr", "successfactors_goals": "successfactors"}  # whose goals they note


def plan_origin_notes(db: Session, config: Config, run_id: int, problems: list[Problem]) -> None:
    """For every planned item that was accepted as a learning question now answered by a
    leerbewijs, plan one note on its origin through the outbox (PLAN_ORIGIN, object id = the
    planned item's id), for each write-back target of its organisation that notes that
    source's goals. The payload is derived from the leerbewijs, so a re-run plans nothing."""
    for organisation in config.organisations:
        for target in organisation.writeback:
            if target.kind not in ORIGIN_SINKS:
                continue
            name = f"{organisation.id}/{target.name or target.kind}"
            source = _goal_source(organisation, target.kind, target.options.get("goals_from"))
            if source is None:
                problems.append(Problem(name, PLAN_ORIGIN, "(target)", "goals_from",
                                        f"name the source whose goals this target comments on (organisation '{organisation.id}' has "
                                        f"no single source of kind '{GOAL_SOURCE_KIND[target.kind]}')"))
                continue
            _notes_for(db, run_id, name, source_key(organisation.id, source), organisation.language)


def _goal_source(organisation: OrganisationConfig, kind: str, named: Any) -> str | None:
    if named:
        return str(named) if any(s.name == named for s in organisation.sources) else None
    same_kind = [s.name for s in organisation.sources if s.kind == GOAL_SOURCE_KIND[kind]]
    return same_kind[0] if len(same_kind) == 1 else None


def _notes_for(db: Session, run_id: int, target: str, source: str, language: str) -> None:
    linked = select(PlannedLearning).where(PlannedLearning.source == source, PlannedLearning.learning_question_code.is_not(None))
    for planned in db.scalars(linked.order_by(PlannedLearning.id)):
        answers = list(db.execute(select(Leerbewijs, Exchange).join(Exchange, Exchange.code == Leerbewijs.exchange_code)
                                  .where(Exchange.learning_question_code == planned.learning_question_code,
                                         Leerbewijs.role == "switcher")  # the switcher's answers it, not a coach's own
                                  .order_by(Leerbewijs.number)))
        if not answers:
            continue
        employee = _employee_id(db, source, planned)
        if employee is None:
            continue  # neither the source's people nor the goal's raw payload (retention) name the employee's id
        in_force = [(leerbewijs, exchange) for leerbewijs, exchange in answers if leerbewijs.revoked_at is None]
        # Only what is in force answers the goal; when all were revoked, the note says so instead.
        lines = [text(language, "plan.origin_note", number=leerbewijs.number, exchange=exchange.code,
                      question=planned.learning_question_code, day=leerbewijs.issued_on.strftime("%d/%m/%Y"))
                 for leerbewijs, exchange in in_force] or \
                [text(language, "plan.origin_revoked", number=leerbewijs.number, exchange=exchange.code,
                      question=planned.learning_question_code) for leerbewijs, exchange in answers]
        enqueue(db, run_id, target, PLAN_ORIGIN, planned.id, {"employee": str(employee), "goal": planned.remote_id, "text": "\n".join(lines)})


def _employee_id(db: Session, source: str, planned: PlannedLearning) -> str | None:
    """The employee's id in the goal's system: the remote id of their people record from the
    same source, else the id the goal's raw payload carried (`employee.id`)."""
    person = db.scalar(select(SourceRecord.remote_id).where(SourceRecord.source == source, SourceRecord.entity == "people",
                                                            SourceRecord.canonical_id == planned.person_id,
                                                            SourceRecord.deleted.is_(False)).limit(1))
    if person is not None:
        return str(person)
    record = db.scalar(select(SourceRecord).where(SourceRecord.source == source, SourceRecord.entity == ENTITY,
                                                  SourceRecord.remote_id == planned.remote_id))
    employee = ((record.raw or {}).get("employee") or {}).get("id") if record is not None else None
    return None if employee is None else str(employee)
