"""What matching works on: immutable records built once from the cohort sheet and the store.

Every record keeps `location` (the sheet and row it came from, "leervragen.csv row 4") so a
reason or a problem can send the partner back to the cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

WEEKDAYS = frozenset(range(5))  # Monday (0) .. Friday (4): the default working week
STAFF = ("white", "blue", "mixed")  # staff composition: white-collar, blue-collar, both


@dataclass(frozen=True)
class Question:
    """An open learning question of one switcher.

    `text` joins title, description and desired result (BM25 reads it); `preferences` are
    organisation ids in the switcher's order (rank 1 first, at most three); `period` is the
    wished (first, last) day or None; `languages` the languages the switcher works in
    ("nl", "fr", "en"); `origin` says where it came from ("cohort", "training_plan")."""

    code: str
    organisation: str
    switcher: str  # employee number or work e-mail, as in the sheet
    title: str
    text: str
    keywords: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    preferences: tuple[str, ...] = ()
    period: tuple[date, date] | None = None
    postcode: str | None = None
    department: str | None = None  # the switcher's department (store), for excluded departments
    email: str | None = None  # the switcher's work e-mail (store), for free/busy
    name: str | None = None
    origin: str = "cohort"
    location: str = ""


@dataclass(frozen=True)
class Coach:
    """A coach at one learning place; `capacity` switchers per matching round."""

    place: str
    person: str  # employee number or work e-mail at the host, as in the sheet
    capacity: int = 1
    languages: frozenset[str] = frozenset()
    weekdays: frozenset[int] = WEEKDAYS
    email: str | None = None
    name: str | None = None
    location: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.place, self.person)


@dataclass(frozen=True)
class Place:
    """A learning place; `capacity` switchers per matching round, `weekdays` 0=Monday."""

    code: str
    organisation: str
    name: str
    text: str
    department: str | None = None
    address: str | None = None
    keywords: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    weekdays: frozenset[int] = WEEKDAYS
    capacity: int = 1
    postcode: str | None = None
    excluded_departments: frozenset[str] = frozenset()  # casefolded
    location: str = ""


@dataclass(frozen=True)
class Organisation:
    """What matching knows of an employer: `size` in average workers, `sends`/`hosts` the
    number of switchers it commits to send and to host (None: no commitment given)."""

    id: str
    language: str = "nl"
    sector: str | None = None
    size: float | None = None
    staff: str | None = None  # one of STAFF
    competitors: frozenset[str] = frozenset()
    sends: int | None = None
    hosts: int | None = None
    postcode: str | None = None  # from the configured address: where the switcher works


@dataclass(frozen=True)
class Fixed:
    """A match that stays: a confirmed exchange of the cohort, or a confirmed proposal."""

    question: str
    place: str
    coaches: tuple[str, ...]
    origin: str  # "cohort" or "proposals"


@dataclass
class Cohort:
    """Everything one matching run reads. `open_questions` are the pool the solver assigns."""

    questions: list[Question]
    places: dict[str, Place]
    coaches: list[Coach]
    organisations: dict[str, Organisation]
    fixed: list[Fixed] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)  # question codes with an exchange (not cancelled)
    rejected: set[tuple[str, str]] = field(default_factory=set)  # (question, place) the partner turned down
    exchange_codes: set[str] = field(default_factory=set)  # every code in the exchanges sheet, cancelled ones too

    @property
    def open_questions(self) -> list[Question]:
        return [q for q in self.questions if q.code not in self.taken]
