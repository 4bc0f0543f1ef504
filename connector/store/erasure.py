"""Erasing one person on request (GDPR article 17), and the hook each kind of personal data
plugs into.

`erase_person(db, config, reference)` finds the person (employee number, work e-mail or
store id, in one organisation or every one), then runs every registered eraser in order.
Each eraser handles one kind of data and reports what it removed, what it kept in
pseudonymised form and which copies outside the store it cannot reach:

    @eraser("learning questions")
    def _questions(job: ErasureJob) -> None:
        ...                                  # change rows through job.db
        job.removed("learning question texts", count)

A new kind of personal data (answers, managers) adds one such function in its own module
and imports it from `connector.store.erasers`; nothing else changes. Erasers run in the
registration order; `people` runs last, because it re-keys the person row the others find.

What stays, pseudonymised: the person row (organisation, FTE, weekly hours, employment dates;
no name, e-mail, number, department, site, title or sex) under a new random id, with the
training records the legal training account counts (hours per year per organisation), and
the leerbewijs register (number, exchange code, date, hours, fingerprint). Everything else
naming them goes: source records with their raw payloads, outbox payloads, attendee answers,
learning question texts, coach links, problems in earlier run summaries.

The erasure is logged in `erasures` by pseudonym and counts only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from connector.core.config import Config
from connector.core.errors import ConfigError
from connector.store.tables import (
    Coach,
    Erasure,
    Exchange,
    LearningPlace,
    LearningQuestion,
    Person,
    TrainingRecord,
)

ERASED_NAME = "(erased)"


@dataclass
class Subject:
    """Whom one job erases: one canonical person of one organisation and how they are named."""

    person_id: str
    organisation_id: str
    pseudonym: str  # the id of the person row that stays, random: not derived from anything erased
    emails: frozenset[str]
    numbers: frozenset[str]
    names: frozenset[str]

    def names_them(self, value: Any, with_numbers: bool) -> bool:
        """Whether a JSON value holds one of the person's identifiers as a whole value (an
        employee number only where the record is of their organisation: numbers repeat)."""
        if isinstance(value, dict):
            return any(self.names_them(v, with_numbers) for v in value.values()) or any(
                self.names_them(k, with_numbers) for k in value)
        if isinstance(value, list):
            return any(self.names_them(v, with_numbers) for v in value)
        if not isinstance(value, str):
            return False
        text = value.strip().casefold()
        if text in self.emails or text in self.names:
            return True
        if text.startswith("mailto:") and text[7:] in self.emails:
            return True
        return with_numbers and (text in self.numbers or any(part.strip() in self.numbers for part in text.split(",")))


@dataclass(frozen=True)
class ExternalCopy:
    """A copy outside the store: where, what, and whether this erasure removed it."""

    where: str
    what: str
    removed: bool
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {"where": self.where, "what": self.what, "removed": self.removed, "note": self.note}


@dataclass
class ErasureJob:
    db: Session
    config: Config
    subject: Subject
    counts: dict[str, int] = field(default_factory=dict)  # "removed: source records" -> n
    external: list[ExternalCopy] = field(default_factory=list)
    # (target, object id) of every write that named the person (the outbox eraser fills it):
    # the copies those targets hold are listed, whatever kind of object they are
    named: set[tuple[str, str]] = field(default_factory=set)

    def removed(self, what: str, count: int) -> None:
        if count:
            self.counts[f"removed: {what}"] = self.counts.get(f"removed: {what}", 0) + count

    def kept(self, what: str, count: int) -> None:
        if count:
            self.counts[f"pseudonymised: {what}"] = self.counts.get(f"pseudonymised: {what}", 0) + count

    def outside(self, where: str, what: str, note: str, removed: bool = False) -> None:
        self.external.append(ExternalCopy(where, what, removed, note))


Eraser = Callable[[ErasureJob], None]
ERASERS: list[tuple[str, Eraser]] = []


def eraser(name: str) -> Callable[[Eraser], Eraser]:
    """Register an eraser for one kind of personal data (see the module docstring)."""

    def register(function: Eraser) -> Eraser:
        ERASERS.append((name, function))
        return function

    return register


@dataclass
class ErasureReport:
    dry_run: bool
    people: list[dict[str, Any]]  # per person erased: organisation, pseudonym, counts, external copies

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "people": self.people}


def find_people(db: Session, reference: str, organisation_id: str | None = None) -> list[Person]:
    """The people a reference names: a work e-mail (any case), an employee number, or a
    store id; in one organisation, or in every one. An employee number that several
    organisations use needs `organisation_id`: raises ConfigError rather than guess."""
    reference = reference.strip()
    if not reference:
        raise ConfigError(["--person is empty: give an employee number or a work e-mail"])
    key = Person.email if "@" in reference else Person.employee_number
    value = reference.lower() if "@" in reference else reference
    query = select(Person).where(or_(key == value, Person.id == reference))
    if organisation_id is not None:
        query = query.where(Person.organisation_id == organisation_id)
    found = list(db.scalars(query))
    organisations = sorted({p.organisation_id for p in found})
    if "@" not in reference and len(organisations) > 1:
        raise ConfigError([f"employee number '{reference}' is used in {', '.join(organisations)}: add --organisation ID"])
    return found


def erase_person(db: Session, config: Config, reference: str, organisation_id: str | None, now: datetime,
                 dry_run: bool = False) -> ErasureReport:
    """Erase everyone `reference` names (see the module docstring); the caller commits, or
    rolls back for a dry run. Returns what was done per person, without their data."""
    from connector.store import erasers  # noqa: F401  (registers the erasers of each kind)

    people = find_people(db, reference, organisation_id)
    if not people:
        raise ConfigError([f"nobody in the store is known as '{reference}'"
                           + (f" at {organisation_id}" if organisation_id else "") + " (was the person erased already?)"])
    report = ErasureReport(dry_run, [])
    for person in people:
        subject = Subject(
            person_id=person.id, organisation_id=person.organisation_id, pseudonym=str(uuid.uuid4()),
            emails=frozenset(e.casefold() for e in (person.email,) if e),
            numbers=frozenset(n.casefold() for n in (person.employee_number,) if n),
            names=frozenset(n.casefold() for n in (person.full_name,) if n.strip() and person.first_name and person.last_name),
        )
        job = ErasureJob(db, config, subject)
        for _, function in ERASERS:
            function(job)
        db.flush()
        summary = {"counts": dict(sorted(job.counts.items())), "external": [c.as_dict() for c in job.external]}
        if not dry_run:
            db.add(Erasure(erased_at=now, organisation_id=subject.organisation_id, pseudonym=subject.pseudonym, summary=summary))
        report.people.append({"organisation": subject.organisation_id, "pseudonym": subject.pseudonym, **summary})
    return report


def erased_people(db: Session) -> set[str]:
    """The pseudonyms of erased people: nothing more is planned about them."""
    return set(db.scalars(select(Erasure.pseudonym)))


def rekey_people(db: Session, old: str, new: str) -> None:
    """Point every row that refers to person `old` at person `new` (foreign keys first)."""
    db.execute(update(TrainingRecord).where(TrainingRecord.person_id == old).values(person_id=new))
    db.execute(update(LearningQuestion).where(LearningQuestion.switcher_id == old).values(switcher_id=new))
    db.execute(update(Exchange).where(Exchange.switcher_id == old).values(switcher_id=new))
    for exchange in db.scalars(select(Exchange)):
        if old in (exchange.coach_ids or []):
            exchange.coach_ids = [new if c == old else c for c in exchange.coach_ids]
    db.execute(delete(Coach).where(Coach.person_id == old))


def json_rows(rows: Iterable[Any], column: str, subject: Subject, with_numbers: bool) -> list[Any]:
    return [row for row in rows if subject.names_them(getattr(row, column), with_numbers)]


def exchanges_of(db: Session, person_id: str) -> list[Exchange]:
    """Exchanges where the person is the switcher or a coach."""
    return [e for e in db.scalars(select(Exchange)) if e.switcher_id == person_id or person_id in (e.coach_ids or [])]


def place_organisation(db: Session, code: Any) -> str | None:
    place = db.get(LearningPlace, str(code)) if code else None
    return place.organisation_id if place is not None else None

