"""Store tables (SQLAlchemy 2.0). The glossary is in connector/model.py.

Three groups:
- canonical records: organisations, people, learning questions and places, coaches,
  exchanges, sessions, training records, leerbewijzen;
- what each source last delivered (source_records, cursors), so a re-run can tell
  created from updated from unchanged, and a person missing from a full pull is noticed;
- the engine's bookkeeping of external writes: outbox and external_refs, plus sync_runs.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; attach a time zone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}

    def assign(self, values: dict[str, Any]) -> bool:
        """Set the columns in `values` ({attribute: value}) that differ; True when one did.
        Only real changes are set, so an unchanged row is not written (nor its run stamp moved)."""
        changed = False
        for column, value in values.items():
            if getattr(self, column) != value:
                setattr(self, column, value)
                changed = True
        return changed


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    enterprise_number: Mapped[str | None] = mapped_column(String(20))
    average_workforce: Mapped[float | None] = mapped_column(Float)
    training_days_override: Mapped[float | None] = mapped_column(Float)
    hours_per_training_day: Mapped[float | None] = mapped_column(Float)
    joint_committee: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(2), default="nl")


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("organisation_id", "employee_number", name="uq_people_org_employee_number"),
        Index("ix_people_org_email", "organisation_id", "email"),
        Index("ix_people_org_lower_employee_number", "organisation_id", func.lower(text("employee_number"))),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    employee_number: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(2), default="nl")
    department: Mapped[str | None] = mapped_column(String(200))
    site: Mapped[str | None] = mapped_column(String(200))
    job_title: Mapped[str | None] = mapped_column(String(200))
    fte: Mapped[float] = mapped_column(Float, default=1.0)
    weekly_hours: Mapped[float | None] = mapped_column(Float)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The line manager: the canonical id of another person of the same organisation (reconcile
    # resolves what the sources name); None when no source names one or it is unknown.
    manager: Mapped[str | None] = mapped_column(String(36))

    organisation: Mapped[Organisation] = relationship()

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class SourceRecord(Base):
    """The last version of one record as one source delivered it, mapped and raw."""

    __tablename__ = "source_records"
    __table_args__ = (
        UniqueConstraint("source", "entity", "remote_id", name="uq_source_records_key"),
        Index("ix_source_records_canonical_id", "canonical_id", "source", "entity"),
        Index("ix_source_records_changed", "changed_run", "entity", "source", "remote_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(130))
    entity: Mapped[str] = mapped_column(String(40))
    remote_id: Mapped[str] = mapped_column(String(300))
    organisation_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_hash: Mapped[str] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(300))
    canonical_id: Mapped[str | None] = mapped_column(String(64))
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_run: Mapped[int] = mapped_column(Integer)
    # sha-256 of the raw record as delivered and of what read it (engine/pull.py): delivered
    # again unchanged, the record is not mapped and validated again. None: not known yet.
    raw_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Cursor(Base):
    __tablename__ = "cursors"

    source: Mapped[str] = mapped_column(String(130), primary_key=True)
    entity: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LearningPlace(Base):
    __tablename__ = "learning_places"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    excluded_departments: Mapped[list[Any]] = mapped_column(JSON, default=list)

    organisation: Mapped[Organisation] = relationship()


class Coach(Base):
    __tablename__ = "coaches"

    learning_place_code: Mapped[str] = mapped_column(ForeignKey("learning_places.code"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"), primary_key=True)

    person: Mapped[Person] = relationship()


class LearningQuestion(Base):
    __tablename__ = "learning_questions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    switcher_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    desired_result: Mapped[str | None] = mapped_column(Text)

    switcher: Mapped[Person] = relationship()
    cohort_code: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the cohort it belongs to
    preference: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the switcher's first preferred host, once stated


class Exchange(Base):
    __tablename__ = "exchanges"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    switcher_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    learning_question_code: Mapped[str] = mapped_column(ForeignKey("learning_questions.code"))
    learning_place_code: Mapped[str] = mapped_column(ForeignKey("learning_places.code"))
    coach_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(20))

    switcher: Mapped[Person] = relationship()
    learning_question: Mapped[LearningQuestion] = relationship()
    learning_place: Mapped[LearningPlace] = relationship()
    cohort_code: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the cohort it belongs to


class Session(Base):
    __tablename__ = "sessions"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    exchange_code: Mapped[str] = mapped_column(ForeignKey("exchanges.code"))
    kind: Mapped[str] = mapped_column(String(20))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(10))
    location: Mapped[str | None] = mapped_column(String(300))
    hours: Mapped[float | None] = mapped_column(Float)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    attendance: Mapped[str | None] = mapped_column(String(10), nullable=True)  # the switcher's: attended | absent | unknown (None: not said)

    exchange: Mapped[Exchange] = relationship()


class TrainingRecord(Base):
    __tablename__ = "training_records"

    id: Mapped[str] = mapped_column(String(300), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    origin: Mapped[str] = mapped_column(String(10))  # pulled | exchange
    kind: Mapped[str] = mapped_column(String(10))  # formal | informal
    date: Mapped[date] = mapped_column(Date)
    hours: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(500))
    provider: Mapped[str | None] = mapped_column(String(200))
    exchange_code: Mapped[str | None] = mapped_column(String(64))
    session_code: Mapped[str | None] = mapped_column(String(64))
    leerbewijs_number: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(130))

    person: Mapped[Person] = relationship()


class Leerbewijs(Base):
    __tablename__ = "leerbewijzen"

    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    # An exchange has one live leerbewijs; a corrected one replaces a revoked one under a new number.
    exchange_code: Mapped[str] = mapped_column(String(64), index=True)
    issued_on: Mapped[date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(2))
    total_hours: Mapped[float] = mapped_column(Float)
    fingerprint: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # frozen at issue: a re-run never alters a proof
    # Revocation sets its bit in the status list; kept here and in issued-values.json (never undone by a restore)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    replaces: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the revoked leerbewijs this one corrects
    replaced_by: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the corrected one issued after revoking this one
    # Whose proof it is: the exchange's switcher, or one of its coaches (`coach_learning`), then
    # `holder_id` is that coach's person id. Each holder has its own leerbewijs, number and code.
    role: Mapped[str] = mapped_column(String(10), default="switcher", server_default="switcher")
    holder_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SyncRun(Base):
    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="running")
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OutboxItem(Base):
    """One intended external write. The idempotency key is derived from what is written
    (target, object and SEQUENCE), never from the time, so planning twice plans once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(400), unique=True)
    target: Mapped[str] = mapped_column(String(130))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(10))  # upsert | cancel
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload_hash: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | done | failed | superseded
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # An earlier write of this object may have reached the target without being booked (a
    # crash after sending): the sink must look before it creates.
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a failing write waits until then
    planned_run: Mapped[int] = mapped_column(Integer)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ExternalRef(Base):
    """What exists where: one canonical object inside one target."""

    __tablename__ = "external_refs"

    target: Mapped[str] = mapped_column(String(130), primary_key=True)
    object_type: Mapped[str] = mapped_column(String(30), primary_key=True)
    object_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    remote_id: Mapped[str | None] = mapped_column(String(500))
    uid: Mapped[str | None] = mapped_column(String(300))
    etag: Mapped[str | None] = mapped_column(String(300))
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    applied_hash: Mapped[str] = mapped_column(String(64))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what the target told us, e.g. a Teams join URL
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Erasure(Base):
    """A person erased on request (`st-connector erase`), logged without what was erased: the
    pseudonym is the id of the person row kept for the training account, the summary holds
    counts and table names only."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    organisation_id: Mapped[str] = mapped_column(String(64))
    pseudonym: Mapped[str] = mapped_column(String(36), unique=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class PlannedLearning(Base):
    """One planned item of an employee (training plan, POP, HR goal), as reconciled from one
    source record (`source`, `remote_id`). `candidate_code` is set while the item is, or was, a
    candidate learning question; `learning_question_code` once the ST-partner accepted it in
    the cohort sheet. A linked item that its source drops is kept, marked `removed`: the link
    to the exchange that answered it outlives the plan."""

    __tablename__ = "planned_learning"
    __table_args__ = (Index("ix_planned_learning_person", "person_id"),)

    id: Mapped[str] = mapped_column(String(440), primary_key=True)  # <source>:<remote id>
    organisation_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id"))
    source: Mapped[str] = mapped_column(String(130))
    remote_id: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))  # course | development_goal | learning_need
    competence: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    start: Mapped[date | None] = mapped_column(Date)
    due: Mapped[date | None] = mapped_column(Date)
    hours: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12))  # open | in_progress | done | dropped
    training_kind: Mapped[str | None] = mapped_column(String(10))  # formal | informal
    remark: Mapped[str | None] = mapped_column(Text)
    marked: Mapped[bool] = mapped_column(Boolean, default=False)
    candidate: Mapped[bool] = mapped_column(Boolean, default=False)  # the source's rule selects it today
    candidate_code: Mapped[str | None] = mapped_column(String(64), unique=True)
    learning_question_code: Mapped[str | None] = mapped_column(String(64))
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()


class Answer(Base):
    """One person's answer behind a personal link (connector/web): an attendance confirmation,
    an evaluation or a day's reflection. One row per subject, exchange, purpose and session:
    sending the form again replaces it. A learning action plan keeps every version, one row
    each (session "v0001", "v0002", ...: store/answers.py). `subject` is a person id or "hr:<organisation>" and
    has no foreign key, so erasing a person deletes their answers without re-keying them."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("subject", "exchange_code", "purpose", "session_code", name="uq_answers_one"),
                      Index("ix_answers_exchange", "exchange_code"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(100))
    exchange_code: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(20))  # attendance | evaluation | reflection | action_plan
    session_code: Mapped[str] = mapped_column(String(64), default="")  # "" for an evaluation; an action plan's version "v0001"
    role: Mapped[str] = mapped_column(String(10))  # switcher | coach | employer | host
    values: Mapped[dict[str, Any]] = mapped_column(JSON)  # question key -> number or text
    consent: Mapped[bool] = mapped_column(Boolean, default=False)  # a reflection's "what I learned" may show on the leerbewijs
    language: Mapped[str] = mapped_column(String(2))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the last save
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Cohort(Base):
    """One yearly cycle of the method (connector/core/model.py, the cohort glossary)."""

    __tablename__ = "cohorts"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    partner: Mapped[str | None] = mapped_column(String(200))
    removed: Mapped[bool] = mapped_column(Boolean, default=False)


class CohortPhase(Base):
    __tablename__ = "cohort_phases"

    cohort_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    phase: Mapped[str] = mapped_column(String(20), primary_key=True)  # questions | places | preferences | matching | exchanges | evaluation
    start: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)


class GroupMoment(Base):
    """A session of the cohort (kick-off, preparatory meeting, terugkommoment). `people` holds
    the person ids of the explicit list, resolved; the audience's groups are resolved when planned."""

    __tablename__ = "group_moments"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    cohort_code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(500))
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(10))
    location: Mapped[str | None] = mapped_column(String(300))
    audience: Mapped[list[Any]] = mapped_column(JSON, default=list)
    people: Mapped[list[Any]] = mapped_column(JSON, default=list)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
