"""The canonical model: one vocabulary for every source and sink.

Glossary (the words of the Switching Talent method, used everywhere in the code)

ORGANISATION     An employer in the ST-partner's network. Usually both a *sending employer*
                 (its employees go learning elsewhere) and a *host employer* (it offers
                 learning places). Described in the configuration.
PERSON           An employee of an organisation, with their current employment (FTE
                 fraction, weekly hours, start and end date). One canonical person per
                 organisation, even when several sources know them (see reconcile.py).
SWITCHER         The person who goes to learn in another organisation (Dutch: switcher,
                 jobshadower).
COACH            A person of the host employer who receives and guides the switcher at a
                 learning place (leercoach, mentor).
LEARNING QUESTION  What the switcher wants to learn (leervraag), ideally SMART.
LEARNING PLACE   A team, department or function (and its site) of a host employer where
                 a switcher can learn (leerplek). Some departments are excluded.
EXCHANGE         One switcher + one learning place + its coach(es), answering one learning
                 question (leeruitwisseling). Status: proposed, confirmed, cancelled,
                 completed.
SESSION          A dated moment of an exchange: the 20-minute online intro call, an
                 exchange day on the work floor, a reflection, an evaluation.
TRAINING RECORD  Hours of training of a person on a date: *pulled* from an HR or learning
                 system (formal or informal), or *written* by us for a past exchange day
                 (always informal training).
PLANNED LEARNING What an employee plans to learn, from the employer's training plan, a
                 personal development plan (POP), an appraisal talk or an HR system's goals:
                 a course, a development goal or a learning need, with its period, hours
                 and status. A development goal or learning need that the source's rule
                 marks for Switching Talent is a CANDIDATE LEARNING QUESTION of that
                 employee, until the ST-partner accepts it in the cohort sheet.
ATTENDANCE       Whether the switcher was there on a session: attended, absent or unknown,
                 from the cohort sheet, or absent when they declined it in their calendar.
                 Which days are written back is the organisation's `writeback_days`.
LEERBEWIJS       The proof of learning the sending employer receives after the last
                 exchange day; it carries a number that every training record of the
                 exchange refers to.
SOURCE           A system we read from (connector/sources/); SINK, a system we write to
                 (connector/sinks/). TARGET is one configured sink instance.
OUTBOX           The list of external writes we intend to make, each with a deterministic
                 idempotency key. Nothing leaves the connector except through it.
EXTERNAL REF     What we know of a canonical record inside one target: its remote id,
                 calendar UID, etag and SEQUENCE, and the hash of what was last applied.

The pydantic models below are what a source record must validate into after its mapping
(mappings/*.toml) has been applied. References between records use the identifiers of
the source data (an employee number or a work e-mail, an exchange code); the engine
resolves them into store rows.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

# A pragmatic syntax check: the HR side only needs to know that a value is an address,
# deliverability is the mail server's business.
_EMAIL = re.compile(r"^[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"'{value}' is not an e-mail address")
    return value.lower()


Email = Annotated[str, AfterValidator(_check_email)]


class Language(StrEnum):
    nl = "nl"
    fr = "fr"
    en = "en"


class Sex(StrEnum):
    """As the social balance sheet splits training: men, women; X where neither applies."""

    male = "M"
    female = "F"
    x = "X"


class ExchangeStatus(StrEnum):
    proposed = "proposed"
    confirmed = "confirmed"
    cancelled = "cancelled"
    completed = "completed"


class SessionKind(StrEnum):
    intro_call = "intro_call"
    exchange_day = "exchange_day"
    reflection = "reflection"
    evaluation = "evaluation"


class SessionMode(StrEnum):
    on_site = "on_site"
    online = "online"


class Attendance(StrEnum):
    """Whether the switcher was there on a session (the cohort sheet's attendance column):
    unknown until someone says; a day known not to have happened never counts."""

    attended = "attended"
    absent = "absent"
    unknown = "unknown"


class TrainingKind(StrEnum):
    formal = "formal"
    informal = "informal"


def number_as_text(value: Any) -> Any:
    """Spreadsheets type identifiers as numbers: the number cell 1001 (or 1001.0 from a
    float) is the employee number "1001", the same as the text cell."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return value
    if isinstance(value, float) and value.is_integer() or isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    return str(value)


@cache
def _text_fields(model: type[BaseModel]) -> frozenset[str]:
    """The text fields of a model, worked out once per model, not once per record."""
    return frozenset(name for name, info in model.model_fields.items() if _is_text(info.annotation))


def _is_text(annotation: Any) -> bool:
    """str, an Annotated str (Email), their Optional and list forms."""
    if annotation is str:
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_text(get_args(annotation)[0])
    if origin in (Union, UnionType, list):
        return any(_is_text(a) for a in get_args(annotation) if a is not type(None))
    return False


# Plausibility limits (the README's table lists every rule). Lengths follow the store's
# columns, so a value that fits the model always fits the store, on PostgreSQL too.
CODE, NAME, TEXT_LINE, ADDRESS, EMAIL, TITLE, LONG_TEXT = 64, 100, 200, 300, 254, 500, 10_000
SESSION_YEARS = (1990, 2100)  # training and sessions: the year 1 or 2999 is a typing mistake
EMPLOYMENT_YEARS = (1900, 2100)  # people hired long ago are still employed
MULTILINE = frozenset({"description", "desired_result", "remark"})  # texts where line breaks and tabs belong
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")


def refuse_control_characters(name: str, value: str) -> str:
    """Control characters (NUL, escape, bell...) are no text a person typed: a file read in
    the wrong format, or pasted from a terminal. Refused rather than removed, so the source is
    fixed; a line break or tab is allowed in multi-line texts only (Alt+Enter in a cell)."""
    match = _CONTROL.search(value) or (None if name in MULTILINE else _LINE_BREAKS.search(value))
    if match is not None:
        character = match.group()
        raise ValueError(f"holds the control character U+{ord(character):04X} at position {match.start() + 1}; "
                         "remove it in the source (a line break belongs only in a description)")
    return value


def _in_years(value: date, years: tuple[int, int]) -> date:
    if not years[0] <= value.year <= years[1]:
        raise ValueError(f"{value.isoformat()} lies outside {years[0]}-{years[1]}: a typing mistake in the year?")
    return value


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _plain_text(cls, value: Any, info: ValidationInfo) -> Any:
        """Every text field, and every text in a list field, without control characters."""
        if isinstance(value, str):
            return refuse_control_characters(info.field_name, value)
        if isinstance(value, list):
            return [refuse_control_characters(info.field_name, v) if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="before")
    @classmethod
    def _numbers_in_text_fields(cls, data: Any) -> Any:
        """A number that arrives in a text field (an id typed as a number) is its text."""
        if not isinstance(data, dict):
            return data
        text_fields = _text_fields(cls)
        return {name: ([number_as_text(v) for v in value] if isinstance(value, list) else number_as_text(value))
                if name in text_fields else value for name, value in data.items()}


class PersonRecord(_Record):
    """An employee with their current employment, as one source knows them."""

    employee_number: str | None = Field(default=None, max_length=CODE)
    email: Email | None = Field(default=None, max_length=EMAIL)
    first_name: str = Field(min_length=1, max_length=NAME)
    last_name: str = Field(min_length=1, max_length=NAME)
    language: Language = Language.nl
    department: str | None = Field(default=None, max_length=TEXT_LINE)
    site: str | None = Field(default=None, max_length=TEXT_LINE)
    job_title: str | None = Field(default=None, max_length=TEXT_LINE)
    fte: float = Field(default=1.0, gt=0, le=1.0)
    weekly_hours: float | None = Field(default=None, gt=0, le=60)
    start_date: date | None = None
    end_date: date | None = None
    sex: Sex | None = None
    active: bool = True
    # The line manager, as this source names them: an employee number or work e-mail (a file's
    # column), or the manager's own record id in the same source (Graph object id, SCIM id,
    # BambooHR/Personio employee id, SuccessFactors userId). Reconcile resolves it within the
    # organisation into the canonical Person.manager; an unknown one is a warning.
    manager: str | None = Field(default=None, max_length=EMAIL)

    @field_validator("start_date", "end_date")
    @classmethod
    def _employment_years(cls, value: date | None) -> date | None:
        return None if value is None else _in_years(value, EMPLOYMENT_YEARS)

    @model_validator(mode="after")
    def _identified_and_consistent(self) -> PersonRecord:
        if not self.employee_number and not self.email:
            raise ValueError("a person needs an employee number or a work e-mail")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(f"end date {self.end_date} lies before start date {self.start_date}")
        return self


class TrainingRecordIn(_Record):
    """Training already recorded in an HR or learning system (pulled)."""

    employee: str = Field(min_length=1, max_length=EMAIL, description="employee number or work e-mail")
    date: date
    hours: float = Field(gt=0)
    title: str = Field(min_length=1, max_length=TITLE)
    provider: str | None = Field(default=None, max_length=TEXT_LINE)
    kind: TrainingKind = TrainingKind.formal

    @field_validator("date")
    @classmethod
    def _sane_year(cls, value: date) -> date:
        return _in_years(value, SESSION_YEARS)

    @field_validator("hours")
    @classmethod
    def _one_day(cls, value: float) -> float:
        if value > 24:
            raise ValueError(f"{value:g} hours on one day: a day has at most 24 (record a longer course as one record per day)")
        return value


class LearningQuestionRecord(_Record):
    code: str = Field(min_length=1, max_length=CODE)
    organisation: str = Field(min_length=1, max_length=CODE, description="the switcher's organisation id")
    switcher: str = Field(min_length=1, max_length=EMAIL, description="employee number or work e-mail")
    title: str = Field(min_length=1, max_length=TITLE)
    description: str | None = Field(default=None, max_length=LONG_TEXT)
    desired_result: str | None = Field(default=None, max_length=LONG_TEXT)
    origin: str | None = Field(default=None, max_length=CODE, description="the candidate code it was accepted from (PLAN-...)")
    cohort: str | None = Field(default=None, max_length=CODE, description="the cohort (empty: the only one)")
    preference: str | None = Field(default=None, max_length=TEXT_LINE, description="the switcher's first preferred host, once stated")


class LearningPlaceRecord(_Record):
    code: str = Field(min_length=1, max_length=CODE)
    organisation: str = Field(min_length=1, max_length=CODE, description="the host organisation id")
    name: str = Field(min_length=1, max_length=TEXT_LINE)
    department: str | None = Field(default=None, max_length=TEXT_LINE)
    address: str | None = Field(default=None, max_length=ADDRESS)
    description: str | None = Field(default=None, max_length=LONG_TEXT)
    excluded_departments: list[str] = Field(default_factory=list)


class CoachRecord(_Record):
    learning_place: str = Field(min_length=1, max_length=CODE)
    person: str = Field(min_length=1, max_length=EMAIL, description="employee number or work e-mail at the host")


class ExchangeRecord(_Record):
    code: str = Field(min_length=1, max_length=CODE)
    learning_question: str = Field(min_length=1, max_length=CODE)
    learning_place: str = Field(min_length=1, max_length=CODE)
    coaches: list[str] = Field(default_factory=list, description="coaches (employee number or e-mail at the host)")
    status: ExchangeStatus = ExchangeStatus.proposed
    cohort: str | None = Field(default=None, max_length=CODE, description="the cohort (empty: the only one)")


class SessionRecord(_Record):
    code: str = Field(min_length=1, max_length=CODE)
    exchange: str = Field(min_length=1, max_length=CODE)
    kind: SessionKind
    start: datetime
    end: datetime
    mode: SessionMode | None = None
    location: str | None = Field(default=None, max_length=ADDRESS)
    hours: float | None = Field(default=None, gt=0, le=24)
    attendance: Attendance | None = Field(default=None, description="attended, absent or unknown (the switcher)")

    @field_validator("start", "end")
    @classmethod
    def _sane_year(cls, value: datetime) -> datetime:
        _in_years(value.date(), SESSION_YEARS)
        return value

    @field_validator("hours")
    @classmethod
    def _within_span(cls, value: float | None, info: ValidationInfo) -> float | None:
        start, end = info.data.get("start"), info.data.get("end")
        if value is None or start is None or end is None or end <= start:
            return value
        span = (end - start).total_seconds() / 3600
        if value > span + 1e-9:
            raise ValueError(f"{value:g} hours booked on a session of {span:g} hours ({start:%H:%M}-{end:%H:%M}): "
                             "hours must fit within its start and end")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> SessionRecord:
        if self.end <= self.start:
            raise ValueError(f"session ends ({self.end:%d/%m/%Y %H:%M}) before it starts ({self.start:%d/%m/%Y %H:%M})")
        if self.mode is None:
            self.mode = SessionMode.on_site if self.kind == SessionKind.exchange_day else SessionMode.online
        return self


class PlanKind(StrEnum):
    """What a planned item is: a course to follow, a development goal, a learning need."""

    course = "course"
    development_goal = "development_goal"
    learning_need = "learning_need"


class PlanStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"
    dropped = "dropped"


class PlannedLearningIn(_Record):
    """One item of an employee's training plan or development plan (pulled). `marked` is a
    yes/no the employer's system keeps for "for Switching Talent" (a custom field); category
    and tags are what a candidate rule can also select on (connector/engine/plans.py)."""

    employee: str = Field(min_length=1, max_length=EMAIL, description="employee number or work e-mail")
    title: str = Field(min_length=1, max_length=TITLE)
    kind: PlanKind = PlanKind.learning_need
    competence: str | None = Field(default=None, max_length=TEXT_LINE, description="competence or topic")
    category: str | None = Field(default=None, max_length=TEXT_LINE)
    tags: list[str] = Field(default_factory=list)
    start: date | None = Field(default=None, description="start of the planned period")
    due: date | None = Field(default=None, description="end of the planned period, or the due date")
    hours: float | None = Field(default=None, gt=0, le=2000, description="planned hours in total")
    status: PlanStatus = PlanStatus.open
    training_kind: TrainingKind | None = None
    remark: str | None = Field(default=None, max_length=LONG_TEXT, description="the employer's remark")
    marked: bool = False

    @field_validator("start", "due")
    @classmethod
    def _sane_year(cls, value: date | None) -> date | None:
        return None if value is None else _in_years(value, SESSION_YEARS)

    @model_validator(mode="after")
    def _ordered(self) -> PlannedLearningIn:
        if self.start and self.due and self.due < self.start:
            raise ValueError(f"due date {self.due} lies before the start {self.start}")
        return self


ENTITY_MODELS: dict[str, type[_Record]] = {
    "people": PersonRecord,
    "training_records": TrainingRecordIn,
    "learning_questions": LearningQuestionRecord,
    "learning_places": LearningPlaceRecord,
    "coaches": CoachRecord,
    "exchanges": ExchangeRecord,
    "sessions": SessionRecord,
    "planned_learning": PlannedLearningIn,
}

# Entities an employer's own systems deliver, and those the ST-partner's cohort delivers.
EMPLOYER_ENTITIES = ("people", "training_records", "planned_learning")
COHORT_ENTITIES = ("learning_places", "coaches", "learning_questions", "exchanges", "sessions")


# -- the cohort around the exchanges ---------------------------------------------------------
# COHORT          One yearly cycle of the method run by an ST-partner (name, year): its
#                 phases with their deadlines, its learning questions and exchanges, and
#                 its group moments.
# PHASE           A stretch of the cycle ending in a deadline: learning questions in, learning
#                 places in, preferences in (the switchers' top three after the kick-off),
#                 matching done, the exchanges, the evaluation. Before the deadlines of the
#                 first three, whoever still owes something gets a reminder.
# GROUP MOMENT    A session of the cohort rather than of one exchange (kick-off, preparatory
#                 meeting, terugkommoment), for an AUDIENCE: all switchers, all coaches, the
#                 HR contacts, the line managers, and/or a list of people.

class PhaseKind(StrEnum):
    questions = "questions"  # learning questions in (organisations owe them)
    places = "places"  # learning places in (organisations owe them)
    preferences = "preferences"  # the switchers' top three in
    matching = "matching"
    exchanges = "exchanges"
    evaluation = "evaluation"


class GroupMomentKind(StrEnum):
    kickoff = "kickoff"
    preparation = "preparation"
    return_moment = "return_moment"  # terugkommoment
    other = "other"


class Audience(StrEnum):
    switchers = "switchers"
    coaches = "coaches"
    hr = "hr"
    managers = "managers"


AUDIENCE_WORDS = {
    "switchers": "switchers", "switcher": "switchers", "alle switchers": "switchers",
    "coaches": "coaches", "leercoaches": "coaches", "coach": "coaches", "leercoach": "coaches",
    "hr": "hr", "rh": "hr", "hr-contacten": "hr", "contacts rh": "hr", "hr contacts": "hr",
    "managers": "managers", "leidinggevenden": "managers", "leidinggevende": "managers", "responsables": "managers",
    "line managers": "managers",
}


class CohortRecord(_Record):
    code: str = Field(min_length=1, max_length=CODE)
    name: str = Field(min_length=1, max_length=TEXT_LINE)
    year: int = Field(ge=SESSION_YEARS[0], le=SESSION_YEARS[1])
    partner: str | None = Field(default=None, max_length=TEXT_LINE, description="the ST-partner that runs it")


class CohortPhaseRecord(_Record):
    cohort: str = Field(min_length=1, max_length=CODE)
    phase: PhaseKind
    start: date | None = Field(default=None, description="first day of the phase")
    deadline: date = Field(description="last day of the phase: what it asks for is due then")

    @field_validator("start", "deadline")
    @classmethod
    def _sane_year(cls, value: date | None) -> date | None:
        return None if value is None else _in_years(value, SESSION_YEARS)

    @model_validator(mode="after")
    def _ordered(self) -> CohortPhaseRecord:
        if self.start and self.start > self.deadline:
            raise ValueError(f"the phase starts ({self.start:%d/%m/%Y}) after its deadline ({self.deadline:%d/%m/%Y})")
        return self


class GroupMomentRecord(_Record):
    code: str = Field(min_length=1, max_length=CODE)
    cohort: str | None = Field(default=None, max_length=CODE, description="the cohort (empty: the only one)")
    kind: GroupMomentKind
    title: str | None = Field(default=None, max_length=TITLE)
    start: datetime
    end: datetime
    mode: SessionMode = SessionMode.on_site
    location: str | None = Field(default=None, max_length=ADDRESS)
    audience: list[Audience] = Field(default_factory=list)
    people: list[str] = Field(default_factory=list, description="also invited: work e-mail, or organisation:employee number")

    @field_validator("audience", mode="before")
    @classmethod
    def _audience_words(cls, value: Any) -> Any:
        """The audience in the sheet's words (nl, fr or en): "leercoaches, HR" is [coaches, hr]."""
        if not isinstance(value, list):
            return value
        words = []
        for word in value:
            key = str(word).strip().lower()
            if key not in AUDIENCE_WORDS:
                raise ValueError(f"'{word}' is no audience; say switchers, coaches (leercoaches), hr or managers (leidinggevenden)")
            words.append(AUDIENCE_WORDS[key])
        return words

    @field_validator("start", "end")
    @classmethod
    def _sane_year(cls, value: datetime) -> datetime:
        _in_years(value.date(), SESSION_YEARS)
        return value

    @model_validator(mode="after")
    def _ordered_and_addressed(self) -> GroupMomentRecord:
        if self.end <= self.start:
            raise ValueError(f"the moment ends ({self.end:%d/%m/%Y %H:%M}) before it starts ({self.start:%d/%m/%Y %H:%M})")
        if not self.audience and not self.people:
            raise ValueError("nobody is invited: name an audience (switchers, coaches, hr, managers) or people")
        return self


ENTITY_MODELS.update({"cohorts": CohortRecord, "cohort_phases": CohortPhaseRecord, "group_moments": GroupMomentRecord})
COHORT_ENTITIES = (*COHORT_ENTITIES, "cohorts", "cohort_phases", "group_moments")
