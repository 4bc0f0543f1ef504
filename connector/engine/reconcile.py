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
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Column, MetaData, Select, String, Table, func, insert, select
from sqlalchemy.orm import Session

from connector.core.config import Config, OrganisationConfig
from connector.core.errors import Problem
from connector.core.localtime import NonexistentLocalTime, local_instant
from connector.core.model import PersonRecord
from connector.core.suggest import did_you_mean, known, unknown
from connector.store import temporary
from connector.store.bulk import update_rows, wrote
from connector.store.outbox import utcnow
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

CHUNK = 500
PERSON_NAMESPACE = uuid.UUID("0b7a6d0e-8d44-4c41-9b7e-3d2f5a1c6e90")
PERSON_FIELDS = [name for name in PersonRecord.model_fields if name not in ("active", "manager")]  # manager: see resolve_managers
DATE_FIELDS = {"start_date", "end_date"}
COHORT = "cohort"
PERSON_DEFAULTS = {"language": "nl", "fte": 1.0, "active": True}  # the people table's column defaults, for a Core insert
# The people one organisation's reconcile touched, but those it made from one record (see _touch),
# and, for resolve_managers, those still without a manager (store/temporary.py). Ordered as
# sorted() orders str (SQLite's BINARY, PostgreSQL's "C"), so its chunks are those of before.
TOUCHED = Table("reconcile_touched", MetaData(),
                Column("person_id", String().with_variant(String(collation="C"), "postgresql"), primary_key=True),
                prefixes=["TEMPORARY"])


def known_ids(given: str, valid: list[str]) -> str:
    """' (did you mean 'x'?); valid ids: a, b' after an organisation id that is not configured."""
    return did_you_mean(given, valid) + known(valid, "valid ids")


def source_key(owner: str, source_name: str) -> str:
    """Where a record came from: `<organisation id>/<source name>`, or `cohort/<name>`."""
    return f"{owner}/{source_name}"


# -- people ------------------------------------------------------------------------------

class PersonResolver:
    """Finds people of one organisation by employee number or e-mail, asking the store (and
    remembering the answers), so no run holds every employee in memory."""

    def __init__(self, db: Session, organisation_id: str) -> None:
        self.db = db
        self.organisation_id = organisation_id
        self._cache: dict[str, str | None] = {}

    def resolve(self, reference: str) -> str | None:
        """A reference from a spreadsheet: an e-mail if it has an @, else an employee number."""
        reference = reference.strip()
        if reference not in self._cache:
            key = Person.email if "@" in reference else func.lower(Person.employee_number)
            self._cache[reference] = self.db.scalar(
                select(Person.id).where(Person.organisation_id == self.organisation_id, key == reference.lower()).limit(1))
        return self._cache[reference]


class _Keys:
    """An index of the people that the records of one chunk could match."""

    def __init__(self, match_on: list[str]) -> None:
        self.match_on = match_on
        self.keys: dict[tuple[str, str], str] = {}

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


def reconcile_people(db: Session, config: Config, organisation: OrganisationConfig, run_id: int, problems: list[Problem]) -> PersonResolver:
    """Link this run's new and changed records to people, then re-merge only the people
    they touch. Works in chunks: memory stays flat however large the organisation. Reads
    rows, not ORM objects, and writes each chunk with one executemany per kind of change.
    The changed records and the people touched are kept in the store (TOUCHED), not in Python."""
    sources = [s for s in organisation.sources if "people" in s.entities]
    order = [source_key(organisation.id, s.name) for s in sources]
    authoritative = {source_key(organisation.id, s.name) for s in sources if s.authoritative}
    temporary.create(db, TOUCHED)
    touched = False  # anyone at all
    merging = _Merging(organisation, order, authoritative, _precedence(organisation, order))
    linkable = (SourceRecord.id, SourceRecord.source, SourceRecord.remote_id, SourceRecord.data, SourceRecord.deleted,
                SourceRecord.location, SourceRecord.canonical_id)
    for key in order:  # in precedence order: the first source's records found the people
        changed = select(SourceRecord.remote_id, SourceRecord.id).where(SourceRecord.entity == "people", SourceRecord.source == key,
                                                                         SourceRecord.changed_run == run_id)
        for page in _pages(db, changed):
            chunk = list(db.execute(select(*linkable).where(SourceRecord.id.in_([row.id for row in page]))
                                    .order_by(SourceRecord.deleted, SourceRecord.remote_id)))
            people = _link(db, config, organisation, key, chunk, problems, merging)
            touched = touched or bool(people)
            _touch(db, people, merging)
    now = utcnow()
    merged_from = (SourceRecord.canonical_id, SourceRecord.source, SourceRecord.data, SourceRecord.deleted)
    current = [Person.id, *(getattr(Person, name) for name in [*PERSON_FIELDS, "active"])]
    # A person this run made from one record was inserted with that record's merged values:
    # nothing to merge again unless a second record was linked to them since.
    for page in _pages(db, select(TOUCHED.c.person_id)):
        person_ids = [person_id for person_id, in page]
        linked: dict[str, list[Any]] = defaultdict(list)
        for record in db.execute(select(*merged_from).where(SourceRecord.canonical_id.in_(person_ids), SourceRecord.entity == "people",
                                                            SourceRecord.source.in_(order))):
            linked[record.canonical_id or ""].append(record)
        updates = []
        for person in db.execute(select(*current).where(Person.id.in_(person_ids))):
            changes = _changes(person._mapping, merging.merge(linked.get(person.id, [])))
            if changes:
                updates.append({"id": person.id, **changes, "updated_at": now})
        if updates:
            update_rows(db, Person.__table__, updates)
    db.flush()
    db.expire_all()  # what was written above with bulk statements is read afresh
    resolve_managers(db, config, organisation, touched, problems)
    temporary.drop(db, TOUCHED)
    return PersonResolver(db, organisation.id)


def _pages(db: Session, query: Select[Any]) -> Iterator[list[Any]]:
    """The rows of `query`, CHUNK at a time in the order of its first column (unique). Each page
    is read afresh after the last key of the one before, so memory holds one page and no cursor
    stays open while the caller writes."""
    key = query.selected_columns[0]
    page = db.execute(query.order_by(key).limit(CHUNK)).all()
    while page:
        yield page
        page = db.execute(query.where(key > page[-1][0]).order_by(key).limit(CHUNK)).all() if len(page) == CHUNK else []


def _touch(db: Session, people: set[str], merging: _Merging) -> None:
    """Remember in TOUCHED the people a chunk touched, but those it made from one record
    (`merging.fresh`, emptied here): they need no merge (written with their merged values) and
    have no manager yet, so resolve_managers finds them among the people without one. A person
    touched again in a later chunk has a second record, and is remembered then."""
    temporary.add(db, TOUCHED, [(person_id,) for person_id in sorted(people - merging.fresh)], keep_present=True)
    merging.fresh.clear()


class _Merging:
    """What merging a person's records takes, worked out once per organisation and run, and
    the people the current chunk made that have one record only (`fresh`: written with their
    final values at once, so reconcile does not read them back to update them; kept in
    TOUCHED after each chunk)."""

    def __init__(self, organisation: OrganisationConfig, order: list[str], authoritative: set[str],
                 precedence: list[tuple[str, dict[str, int], int]]) -> None:
        self.organisation = organisation
        self.order = order
        self.authoritative = authoritative
        self.precedence = precedence
        self.fresh: set[str] = set()

    def merge(self, records: list[Any]) -> dict[str, Any]:
        """The person's values from these records (rows with source, data and deleted)."""
        return _merge(records, self.organisation, self.order, self.authoritative, self.precedence)

    def new_person(self, person_id: str, record: Any) -> dict[str, Any]:
        """The people row of a person made from this one record: the table's defaults with
        the merged values applied as the merge step would apply them to that row."""
        row: dict[str, Any] = {**{name: None for name in PERSON_FIELDS}, **PERSON_DEFAULTS, "id": person_id,
                               "organisation_id": self.organisation.id, "first_name": "", "last_name": "",
                               "employee_number": record.data.get("employee_number"), "email": record.data.get("email")}
        row.update(_changes(row, self.merge([record])))
        row["updated_at"] = utcnow()
        self.fresh.add(person_id)
        return row


def _link(db: Session, config: Config, organisation: OrganisationConfig, key: str, records: list[Any],
          problems: list[Problem], merging: _Merging) -> set[str]:
    """Give each record its person: the one it had, else one matching its keys that has no
    record of this source yet, else a new person (written with this record's merged values).
    Returns the people touched."""
    match_on = config.reconcile.match_on
    keys = _Keys(match_on)
    numbers = {str(r.data["employee_number"]).lower() for r in records if "employee_number" in match_on and r.data.get("employee_number")}
    emails = {str(r.data["email"]).lower() for r in records if "email" in match_on and r.data.get("email")}
    candidates: dict[str, Any] = {}
    person_keys = (Person.id, Person.employee_number, Person.email)
    if numbers:  # each look-up on its own index: (organisation_id, lower(employee_number)) and (organisation_id, email)
        for person in db.execute(select(*person_keys).where(Person.organisation_id == organisation.id,
                                                            func.lower(Person.employee_number).in_(numbers))):
            candidates.setdefault(person.id, person)
    if emails:
        for person in db.execute(select(*person_keys).where(Person.organisation_id == organisation.id, Person.email.in_(emails))):
            candidates.setdefault(person.id, person)
    for person in candidates.values():
        keys.add(person.id, {"employee_number": person.employee_number, "email": person.email})
    holders: dict[str, int] = {}
    if candidates:
        holders = {person_id: record_id for person_id, record_id in db.execute(
            select(SourceRecord.canonical_id, SourceRecord.id).where(SourceRecord.source == key, SourceRecord.canonical_id.in_(list(candidates))))
            if person_id is not None}
    touched: set[str] = set()
    new_people: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for record in records:
        person_id = record.canonical_id
        if person_id is None:
            candidate = keys.find(record.data)
            if candidate is not None and holders.get(candidate, record.id) != record.id:
                if not record.deleted:
                    problems.append(Problem(key, "people", record.location or record.remote_id, "employee_number",
                                            "matches a person already linked to another record of this source; left out until one of them changes"))
                continue
            person_id = candidate
        if person_id is None:
            if record.deleted:
                continue
            person_id = str(uuid.uuid5(PERSON_NAMESPACE, f"{organisation.id}|{record.source}|{record.remote_id}"))
            # Written with this chunk (so the next source's records in this run find this person by their keys).
            new_people.append(merging.new_person(person_id, record))
        else:
            merging.fresh.discard(person_id)  # a second record: merged from all of them after the links
        if record.canonical_id != person_id:
            links.append({"id": record.id, "canonical_id": person_id})
        holders[person_id] = record.id
        keys.add(person_id, record.data)
        touched.add(person_id)
    if new_people:
        db.execute(insert(Person.__table__), new_people)
        wrote(db, Person.__table__, len(new_people))
    if links:
        update_rows(db, SourceRecord.__table__, links)
    return touched


def _merge(
    records: list[Any], organisation: OrganisationConfig, order: list[str], authoritative: set[str],
    precedence: list[tuple[str, dict[str, int], int]] | None = None,
) -> dict[str, Any]:
    live = [r for r in records if not r.deleted]
    if not live:
        return {"active": False}
    fields = precedence or _precedence(organisation, order)
    if len(live) == 1:  # most people have one record: no ranking, each field is its value
        data = live[0].data
        merged = {field: data.get(field) for field, _, _ in fields}
    else:
        merged = {}
        for field, ranks, last in fields:
            ranked = sorted(live, key=lambda r: ranks.get(r.source, last))
            merged[field] = next((r.data[field] for r in ranked if r.data.get(field) is not None), None)
    for field in DATE_FIELDS:
        if merged.get(field) is not None:
            merged[field] = date.fromisoformat(merged[field])
    merged["active"] = any(r.source in authoritative and r.data.get("active", True) for r in live)
    return merged


def _precedence(organisation: OrganisationConfig, order: list[str]) -> list[tuple[str, dict[str, int], int]]:
    """Per person field, each source's rank in its precedence list (the first source that
    has the field wins) and the rank of a source not in it: worked out once per organisation
    and run, not once per person."""
    default_order = [source_key(organisation.id, n) for n in organisation.precedence.get("default", [])] or order
    ranks = []
    for field in PERSON_FIELDS:
        field_order = [source_key(organisation.id, n) for n in organisation.precedence.get(field, [])] or default_order
        ranks.append((field, {source: field_order.index(source) for source in field_order}, len(field_order)))
    return ranks


def _changes(person: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The merged values that differ from the person's stored ones (`person`: a row mapping)."""
    changes: dict[str, Any] = {}
    for field, value in values.items():
        if field in ("first_name", "last_name") and value is None:
            continue
        if field == "language" and value is None:
            value = "nl"
        if field == "fte" and value is None:
            value = 1.0
        if person[field] != value:
            changes[field] = value
    return changes


# -- line managers -------------------------------------------------------------------------

def manager_sources(config: Config, organisation: OrganisationConfig) -> list[str]:
    """The people sources whose mapping reads a `manager`, in precedence order (source keys)."""
    from connector.core.errors import ConfigError
    from connector.core.mapping import load_mapping

    keys = []
    for source in organisation.sources:
        if "people" not in source.entities:
            continue
        try:
            mapping = load_mapping(source.mapping or source.kind, config.base_dir)
        except ConfigError:
            continue  # reported where the sources are built
        people = mapping.entities.get("people")
        if people is not None and any(rule.name == "manager" for rule in people.rules):
            keys.append(source_key(organisation.id, source.name))
    return keys


def resolve_managers(db: Session, config: Config, organisation: OrganisationConfig, touched: bool, problems: list[Problem]) -> None:
    """Person.manager from what the sources name: for the people this run touched (`touched`: anyone;
    TOUCHED holds them but the new ones, who have no manager yet), and (when anyone changed, so a
    manager may have arrived) for those whose manager is still unknown.
    A reference is first the id of a record of the same source (Graph, SCIM, BambooHR,
    Personio and SuccessFactors name the manager by their own id), else an employee number
    or work e-mail in the organisation. One that names nobody is a warning naming source,
    record and field; the person goes through without a manager."""
    keys = manager_sources(config, organisation)
    if not keys or not touched:
        return
    field_order = [source_key(organisation.id, n) for n in organisation.precedence.get("manager", [])] or \
        [source_key(organisation.id, n) for n in organisation.precedence.get("default", [])] or keys
    unresolved = select(Person.id).where(Person.organisation_id == organisation.id, Person.manager.is_(None))
    db.execute(temporary.insert_new(db, TOUCHED).from_select(["person_id"], unresolved))
    index = PersonResolver(db, organisation.id)
    rank = {key: position for position, key in enumerate(field_order)}
    # Rows, and of each record's data only its manager (->> on PostgreSQL, json_extract on
    # SQLite): a first sync touches every person, and whole records as ORM objects cost more
    # than the rest of this step.
    manager_of = SourceRecord.data["manager"].as_string()
    for page in _pages(db, select(TOUCHED.c.person_id)):
        person_ids = [person_id for person_id, in page]
        named: dict[str, Reference] = {}
        for row in db.execute(select(SourceRecord.canonical_id, SourceRecord.source, SourceRecord.remote_id, SourceRecord.location,
                                     manager_of).where(SourceRecord.canonical_id.in_(person_ids), SourceRecord.entity == "people",
                                                       SourceRecord.source.in_(keys), SourceRecord.deleted.is_(False), manager_of.is_not(None))):
            reference = Reference(*row)
            held = named.get(reference.person)
            if reference.manager and (held is None or reference.rank(rank) < held.rank(rank)):
                named[reference.person] = reference
        by_remote_id = _by_remote_id(db, list(named.values()))
        changes = []
        for person_id, current in db.execute(select(Person.id, Person.manager).where(Person.id.in_(person_ids))):
            record = named.get(person_id)
            manager = None
            if record is not None:
                reference = str(record.manager).strip()
                manager = by_remote_id.get((record.source, reference)) or index.resolve(reference)
                if manager is None:
                    problems.append(Problem(record.source, "people", record.location or record.remote_id, "manager",
                                            f"manager '{reference}' is not a person of {organisation.id}: "
                                            "taken in without a manager, who is therefore not informed", warning=True))
            if manager == person_id:
                manager = None  # the top of a hierarchy sometimes names itself: nobody to inform
            if current != manager:
                changes.append({"id": person_id, "manager": manager})
        update_rows(db, Person.__table__, changes)
        db.expunge_all()  # as before: no Person object of this session may keep a manager the UPDATE changed


class Reference(NamedTuple):
    """A source record's manager reference: the person it belongs to, where it comes from and
    the reference as the source gives it."""
    person: str
    source: str
    remote_id: str
    location: str | None
    manager: str

    def rank(self, ranks: dict[str, int]) -> int:
        """The source's place in the manager's precedence (unlisted sources after the listed)."""
        return ranks.get(self.source, len(ranks))


def _by_remote_id(db: Session, records: list[Reference]) -> dict[tuple[str, str], str]:
    """(source, remote id) -> person, for these manager references (one query per source)."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for record in records:
        wanted[record.source].add(str(record.manager).strip())
    found: dict[tuple[str, str], str] = {}
    for source, references in wanted.items():
        for remote_id, person_id in db.execute(select(SourceRecord.remote_id, SourceRecord.canonical_id).where(
                SourceRecord.source == source, SourceRecord.entity == "people", SourceRecord.remote_id.in_(references),
                SourceRecord.deleted.is_(False))):
            if person_id is not None:
                found[(source, remote_id)] = person_id
    return found


# -- training already recorded -----------------------------------------------------------

def reconcile_pulled_training(
    db: Session, organisation: OrganisationConfig, index: PersonResolver, problems: list[Problem],
    left_out: list[tuple[str, int, int]] | None = None,
) -> None:
    """Pulled training records into TrainingRecord rows; one whose employee is unknown is
    reported and added to `left_out` (the sync counts it as failed)."""
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
            if left_out is not None:
                left_out.append((record.entity, record.id, record.changed_run))  # plain values: the chunk may be expunged
            continue
        values = {
            "person_id": person_id, "origin": "pulled", "kind": data.get("kind", "formal"),
            "date": date.fromisoformat(data["date"]), "hours": float(data["hours"]), "title": data["title"],
            "provider": data.get("provider"), "source": record.source,
        }
        if row is None:
            db.add(TrainingRecord(id=record_id, **values))
        else:
            row.assign(values)


# -- the cohort --------------------------------------------------------------------------

class CohortReconciler:
    def __init__(self, db: Session, config: Config, indexes: dict[str, PersonResolver], problems: list[Problem]) -> None:
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

    def _codes(self, table: type[Any]) -> list[str]:
        """Every code of a cohort table, for naming the valid ones beside a reference that is not."""
        return list(self.db.scalars(select(table.code)))

    def _problem(self, record: SourceRecord, field: str, message: str) -> None:
        self.problems.append(Problem(record.source, record.entity, record.location or record.remote_id, field, message))

    def _person(self, record: SourceRecord, field: str, organisation_id: str, reference: str) -> str | None:
        index = self.indexes.get(organisation_id)
        if index is None:
            self._problem(record, field, f"organisation '{organisation_id}' is not in the configuration"
                                         f"{known_ids(organisation_id, [o.id for o in self.config.organisations])}")
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
                self._problem(record, "organisation", f"organisation '{data['organisation']}' is not in the configuration"
                                                      f"{known_ids(data['organisation'], [o.id for o in self.config.organisations])}")
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
                self._problem(record, "learning_place", unknown("learning place", record.data["learning_place"], self._codes(LearningPlace)))
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
                self._problem(record, "learning_question", unknown("learning question", data["learning_question"],
                                                                   self._codes(LearningQuestion)))
                continue
            if place is None:
                self._problem(record, "learning_place", unknown("learning place", data["learning_place"], self._codes(LearningPlace)))
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
            if self._coaches_themselves(question.switcher_id, coaches):
                self._problem(record, "coaches", "the switcher is named as one of the coaches: nobody coaches their own "
                                                 "exchange; the exchange was not taken in")
                continue
            values = {"switcher_id": question.switcher_id, "learning_question_code": question.code,
                      "learning_place_code": place.code, "coach_ids": coaches, "status": data["status"]}
            self._upsert(Exchange, data["code"], values)

    def sessions(self) -> None:
        taken: dict[str, SourceRecord] = {}
        for record in self._records("sessions"):
            data = record.data
            existing = self.db.get(SessionRow, data["code"])
            if record.deleted:
                if existing is not None and not existing.removed:
                    existing.removed = True
                continue
            exchange = self.db.get(Exchange, data["exchange"])
            if exchange is None:
                self._problem(record, "exchange", unknown("exchange", data["exchange"], self._codes(Exchange)))
                continue
            start, end = self._moment(record, "start"), self._moment(record, "end")
            if start is None or end is None:
                continue  # reported; a session already known keeps its time
            if not self._employed_throughout(record, exchange, start.astimezone(self.zone).date()):
                continue
            taken[data["code"]] = record
            values = {
                "exchange_code": exchange.code, "kind": data["kind"], "start": start,
                "end": end, "mode": data["mode"], "location": data.get("location"),
                "hours": data.get("hours"), "removed": False, "attendance": data.get("attendance"),
            }
            self._upsert(SessionRow, data["code"], values)

        self._schedule_warnings(taken)

    def _coaches_themselves(self, switcher_id: str, coaches: list[str]) -> bool:
        """The switcher among the coaches: the same person, or the same work e-mail at the
        host (someone employed by both organisations)."""
        switcher = self.db.get(Person, switcher_id)
        email = (switcher.email or "").lower() if switcher is not None else ""
        return switcher_id in coaches or bool(email) and any(
            (coach.email or "").lower() == email for coach in (self.db.get(Person, c) for c in coaches) if coach is not None)

    def _employed_throughout(self, record: SourceRecord, exchange: Exchange, day: date) -> bool:
        """A session on a day the switcher or a coach is not employed (HR's start and end
        dates) cannot be a training day of that employer: an error, the session is left out."""
        for role, person_id in [("switcher", exchange.switcher_id), *(("coach", c) for c in exchange.coach_ids or [])]:
            person = self.db.get(Person, person_id)
            if person is None:
                continue
            if person.end_date is not None and day > person.end_date or person.start_date is not None and day < person.start_date:
                span = f"{person.start_date or '...'} to {person.end_date or '...'}"
                self._problem(record, "start", f"session {record.data['code']} on {day.isoformat()}: the {role} "
                                               f"{person.full_name} is employed from {span} only; the session was not taken in")
                return False
        return True

    def _schedule_warnings(self, taken: dict[str, SourceRecord]) -> None:
        """Warnings across sessions: one person in two sessions at once (a switcher in two
        exchanges, a coach in two), and an intro call after the exchange's first day. Both
        are planning mistakes a person must resolve; neither stops the invitations."""
        sessions = [s for s in self.db.scalars(select(SessionRow).where(SessionRow.code.in_(list(taken)))) if not s.removed]
        by_person: dict[str, list[SessionRow]] = defaultdict(list)
        first_day: dict[str, SessionRow] = {}
        for session in sessions:
            exchange = self.db.get(Exchange, session.exchange_code)
            if exchange is None or exchange.status == "cancelled":
                continue
            for person_id in {exchange.switcher_id, *(exchange.coach_ids or [])}:
                by_person[person_id].append(session)
            if session.kind == "exchange_day" and (session.exchange_code not in first_day or session.start < first_day[session.exchange_code].start):
                first_day[session.exchange_code] = session
        for session in sessions:
            day = first_day.get(session.exchange_code)
            if session.kind == "intro_call" and day is not None and session.start > day.start:
                self._warn(taken[session.code], "start", f"intro call {session.code} comes after the first exchange day "
                                                         f"{day.code} ({day.start.astimezone(self.zone):%d/%m/%Y})")
        for person_id, own in by_person.items():
            own.sort(key=lambda s: (s.start, s.code))
            for earlier, later in zip(own, own[1:]):
                if later.start < earlier.end:
                    person = self.db.get(Person, person_id)
                    name = person.full_name if person is not None else person_id
                    self._warn(taken[later.code], "start", f"{name} is in sessions {earlier.code} and {later.code} at the same time "
                                                           f"({later.start.astimezone(self.zone):%d/%m/%Y %H:%M})")

    def _warn(self, record: SourceRecord, field: str, message: str) -> None:
        self.problems.append(Problem(record.source, record.entity, record.location or record.remote_id, field, message, warning=True))

    def _moment(self, record: SourceRecord, field: str) -> datetime | None:
        """The session's wall-clock time as an instant (connector/core/localtime.py's rule)."""
        try:
            instant = local_instant(datetime.fromisoformat(record.data[field]), self.zone)
        except NonexistentLocalTime as error:
            self._problem(record, field, f"session {record.data['code']}: {error}; the session was not taken in")
            return None
        if instant.ambiguous:
            self.problems.append(Problem(record.source, record.entity, record.location or record.remote_id, field,
                                         f"session {record.data['code']}: {instant.moment:%d/%m/%Y %H:%M} exists twice in "
                                         f"{self.zone.key} (the clocks go back that night); taken as summer time "
                                         f"({instant.moment:%H:%M %Z})", warning=True))
        return instant.moment

    def _upsert(self, table: type[Any], code: str, values: dict[str, Any]) -> None:
        row = self.db.get(table, code)
        if row is None:
            self.db.add(table(code=code, **values))
            self.db.flush()
        else:
            row.assign(values)
