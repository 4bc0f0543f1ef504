"""Reconcile: from what the sources delivered (source_records) to the canonical records.

People: one canonical person per organisation however many sources know them, matched on
the configured keys (employee number, then work e-mail, case-insensitive). Each field is
taken from the first source in its precedence list that has a value. A person whom no
authoritative source lists any more becomes inactive; nobody is ever deleted.

Cohort: learning places, coaches, learning questions, exchanges and sessions from the
ST-partner's sources, with their references (organisation, employee number or e-mail,
codes) resolved. A record whose reference does not resolve is reported and left out.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.config import Config, OrganisationConfig
from connector.errors import Problem
from connector.model import PersonRecord
from connector.outbox import utcnow
from connector.store.tables import (
    Coach,
    Exchange,
    LearningPlace,
    LearningQuestion,
    Person,
    SourceRecord,
    TrainingRecord,
)
from connector.store.tables import Session as SessionRow

PERSON_NAMESPACE = uuid.UUID("0b7a6d0e-8d44-4c41-9b7e-3d2f5a1c6e90")
PERSON_FIELDS = [name for name in PersonRecord.model_fields if name != "active"]
DATE_FIELDS = {"start_date", "end_date"}
COHORT = "cohort"


def source_key(owner: str, source_name: str) -> str:
    """Where a record came from: `<organisation id>/<source name>`, or `cohort/<name>`."""
    return f"{owner}/{source_name}"


# -- people ------------------------------------------------------------------------------

class PersonIndex:
    """Finds a person of one organisation by employee number or e-mail."""

    def __init__(self, match_on: list[str], people: Iterable[Person]) -> None:
        self.match_on = match_on
        self.keys: dict[tuple[str, str], str] = {}
        for person in people:
            self.add(person.id, {"employee_number": person.employee_number, "email": person.email})

    def add(self, person_id: str, data: dict[str, Any]) -> None:
        for key in self.match_on:
            value = data.get(key)
            if value:
                self.keys.setdefault((key, str(value).lower()), person_id)

    def find(self, data: dict[str, Any]) -> str | None:
        for key in self.match_on:
            value = data.get(key)
            if value and (key, str(value).lower()) in self.keys:
                return self.keys[(key, str(value).lower())]
        return None

    def resolve(self, reference: str) -> str | None:
        """A reference from a spreadsheet: an e-mail if it has an @, else an employee number."""
        reference = reference.strip()
        key = "email" if "@" in reference else "employee_number"
        return self.keys.get((key, reference.lower()))


def reconcile_people(db: Session, config: Config, organisation: OrganisationConfig) -> PersonIndex:
    sources = [s for s in organisation.sources if "people" in s.entities]
    order = [source_key(organisation.id, s.name) for s in sources]
    authoritative = {source_key(organisation.id, s.name) for s in sources if s.authoritative}
    people = {p.id: p for p in db.scalars(select(Person).where(Person.organisation_id == organisation.id))}
    index = PersonIndex(config.reconcile.match_on, people.values())
    found = db.scalars(select(SourceRecord).where(SourceRecord.entity == "people", SourceRecord.source.in_(order)))
    records = sorted(found, key=lambda r: (order.index(r.source), r.deleted, r.remote_id))
    groups: dict[str, list[SourceRecord]] = defaultdict(list)
    for record in records:
        person_id = record.canonical_id if record.canonical_id in people else None
        if person_id is None:
            candidate = index.find(record.data)
            taken = candidate is not None and any(r.source == record.source for r in groups.get(candidate, []))
            person_id = None if taken else candidate
        if person_id is None:
            if record.deleted:
                continue
            person_id = str(uuid.uuid5(PERSON_NAMESPACE, f"{organisation.id}|{record.source}|{record.remote_id}"))
            people[person_id] = Person(id=person_id, organisation_id=organisation.id, first_name="", last_name="")
            db.add(people[person_id])
        if record.canonical_id != person_id:
            record.canonical_id = person_id
        groups[person_id].append(record)
        index.add(person_id, record.data)
    now = utcnow()
    for person_id, person in people.items():
        merged = _merge(groups.get(person_id, []), organisation, order, authoritative)
        if _apply(person, merged):
            person.updated_at = now
    return PersonIndex(config.reconcile.match_on, people.values())


def _merge(
    records: list[SourceRecord], organisation: OrganisationConfig, order: list[str], authoritative: set[str]
) -> dict[str, Any]:
    live = [r for r in records if not r.deleted]
    if not live:
        return {"active": False}
    merged: dict[str, Any] = {}
    default_order = [source_key(organisation.id, n) for n in organisation.precedence.get("default", [])] or order
    for field in PERSON_FIELDS:
        field_order = [source_key(organisation.id, n) for n in organisation.precedence.get(field, [])] or default_order
        ranked = sorted(live, key=lambda r: field_order.index(r.source) if r.source in field_order else len(field_order))
        value = next((r.data[field] for r in ranked if r.data.get(field) is not None), None)
        if field in DATE_FIELDS and value is not None:
            value = date.fromisoformat(value)
        merged[field] = value
    merged["active"] = any(r.source in authoritative and r.data.get("active", True) for r in live)
    return merged


def _apply(person: Person, values: dict[str, Any]) -> bool:
    changed = False
    for field, value in values.items():
        if field in ("first_name", "last_name") and value is None:
            continue
        if field == "language" and value is None:
            value = "nl"
        if field == "fte" and value is None:
            value = 1.0
        if getattr(person, field) != value:
            setattr(person, field, value)
            changed = True
    return changed


# -- training already recorded -----------------------------------------------------------

def reconcile_pulled_training(
    db: Session, organisation: OrganisationConfig, index: PersonIndex, problems: list[Problem]
) -> None:
    keys = [source_key(organisation.id, s.name) for s in organisation.sources if "training_records" in s.entities]
    existing = {
        r.id: r for r in db.scalars(select(TrainingRecord).where(TrainingRecord.origin == "pulled", TrainingRecord.source.in_(keys)))
    }
    for record in db.scalars(select(SourceRecord).where(SourceRecord.entity == "training_records", SourceRecord.source.in_(keys))):
        record_id = f"{record.source}:{record.remote_id}"
        row = existing.get(record_id)
        if record.deleted:
            if row is not None:
                db.delete(row)
            continue
        data = record.data
        person_id = index.resolve(data["employee"])
        if person_id is None:
            problems.append(Problem(record.source, "training_records", record.location or record.remote_id, "employee",
                                    f"no employee '{data['employee']}' at {organisation.id}"))
            continue
        values = {
            "person_id": person_id, "origin": "pulled", "kind": data.get("kind", "formal"),
            "date": date.fromisoformat(data["date"]), "hours": float(data["hours"]), "title": data["title"],
            "provider": data.get("provider"), "source": record.source,
        }
        if row is None:
            db.add(TrainingRecord(id=record_id, **values))
        else:
            _update(row, values)


def _update(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for field, value in values.items():
        if getattr(row, field) != value:
            setattr(row, field, value)
            changed = True
    return changed


# -- the cohort --------------------------------------------------------------------------

class CohortReconciler:
    def __init__(self, db: Session, config: Config, indexes: dict[str, PersonIndex], problems: list[Problem]) -> None:
        self.db = db
        self.config = config
        self.indexes = indexes
        self.problems = problems
        self.zone = ZoneInfo(config.partner.timezone)
        self.keys = [source_key(COHORT, s.name) for s in config.sources]

    def run(self) -> None:
        self.places()
        self.coaches()
        self.questions()
        self.exchanges()
        self.sessions()

    def _records(self, entity: str) -> list[SourceRecord]:
        rows = self.db.scalars(
            select(SourceRecord).where(SourceRecord.entity == entity, SourceRecord.source.in_(self.keys)).order_by(SourceRecord.remote_id)
        )
        return list(rows)

    def _problem(self, record: SourceRecord, field: str, message: str) -> None:
        self.problems.append(Problem(record.source, record.entity, record.location or record.remote_id, field, message))

    def _person(self, record: SourceRecord, field: str, organisation_id: str, reference: str) -> str | None:
        index = self.indexes.get(organisation_id)
        if index is None:
            self._problem(record, field, f"organisation '{organisation_id}' is not in the configuration")
            return None
        person_id = index.resolve(reference)
        if person_id is None:
            self._problem(record, field, f"no employee '{reference}' at {organisation_id}")
        return person_id

    def places(self) -> None:
        for record in self._records("learning_places"):
            if record.deleted:
                continue
            data = record.data
            if self.config.organisation(data["organisation"]) is None:
                self._problem(record, "organisation", f"organisation '{data['organisation']}' is not in the configuration")
                continue
            values = {
                "organisation_id": data["organisation"], "name": data["name"], "department": data.get("department"),
                "address": data.get("address"), "description": data.get("description"),
                "excluded_departments": data.get("excluded_departments", []),
            }
            self._upsert(LearningPlace, data["code"], values)

    def coaches(self) -> None:
        wanted: set[tuple[str, str]] = set()
        for record in self._records("coaches"):
            if record.deleted:
                continue
            place = self.db.get(LearningPlace, record.data["learning_place"])
            if place is None:
                self._problem(record, "learning_place", f"no learning place '{record.data['learning_place']}'")
                continue
            person_id = self._person(record, "person", place.organisation_id, record.data["person"])
            if person_id is None:
                continue
            person = self.db.get(Person, person_id)
            if person is not None and person.department and person.department in (place.excluded_departments or []):
                self._problem(record, "person", f"{person.full_name} works in {person.department}, excluded at this learning place")
                continue
            wanted.add((place.code, person_id))
        existing = {(c.learning_place_code, c.person_id): c for c in self.db.scalars(select(Coach))}
        for key in wanted - existing.keys():
            self.db.add(Coach(learning_place_code=key[0], person_id=key[1]))
        for key in existing.keys() - wanted:
            self.db.delete(existing[key])

    def questions(self) -> None:
        for record in self._records("learning_questions"):
            if record.deleted:
                continue
            data = record.data
            switcher = self._person(record, "switcher", data["organisation"], data["switcher"])
            if switcher is None:
                continue
            values = {"switcher_id": switcher, "title": data["title"], "description": data.get("description"),
                      "desired_result": data.get("desired_result")}
            self._upsert(LearningQuestion, data["code"], values)

    def exchanges(self) -> None:
        for record in self._records("exchanges"):
            data = record.data
            existing = self.db.get(Exchange, data["code"])
            if record.deleted:
                if existing is not None and existing.status != "cancelled":
                    existing.status = "cancelled"  # gone from the cohort sheet: it will not happen
                continue
            question = self.db.get(LearningQuestion, data["learning_question"])
            place = self.db.get(LearningPlace, data["learning_place"])
            if question is None:
                self._problem(record, "learning_question", f"no learning question '{data['learning_question']}'")
                continue
            if place is None:
                self._problem(record, "learning_place", f"no learning place '{data['learning_place']}'")
                continue
            switcher = self.db.get(Person, question.switcher_id)
            if switcher is not None and switcher.organisation_id == place.organisation_id:
                self._problem(record, "learning_place", "the learning place belongs to the switcher's own organisation")
                continue
            coaches = [c for c in (self._person(record, "coaches", place.organisation_id, ref) for ref in data.get("coaches", [])) if c]
            if not data.get("coaches"):
                coaches = sorted(c.person_id for c in self.db.scalars(select(Coach).where(Coach.learning_place_code == place.code)))
            if not coaches:
                self._problem(record, "coaches", "no coach: name one here or on the learning place")
            values = {"switcher_id": question.switcher_id, "learning_question_code": question.code,
                      "learning_place_code": place.code, "coach_ids": coaches, "status": data["status"]}
            self._upsert(Exchange, data["code"], values)

    def sessions(self) -> None:
        for record in self._records("sessions"):
            data = record.data
            existing = self.db.get(SessionRow, data["code"])
            if record.deleted:
                if existing is not None and not existing.removed:
                    existing.removed = True
                continue
            exchange = self.db.get(Exchange, data["exchange"])
            if exchange is None:
                self._problem(record, "exchange", f"no exchange '{data['exchange']}'")
                continue
            values = {
                "exchange_code": exchange.code, "kind": data["kind"], "start": self._moment(data["start"]),
                "end": self._moment(data["end"]), "mode": data["mode"], "location": data.get("location"),
                "hours": data.get("hours"), "removed": False,
            }
            self._upsert(SessionRow, data["code"], values)

    def _moment(self, text: str) -> datetime:
        moment = datetime.fromisoformat(text)
        return moment if moment.tzinfo else moment.replace(tzinfo=self.zone)

    def _upsert(self, table: type[Any], code: str, values: dict[str, Any]) -> None:
        row = self.db.get(table, code)
        if row is None:
            self.db.add(table(code=code, **values))
            self.db.flush()
        else:
            _update(row, values)
