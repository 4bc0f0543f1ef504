"""One sync: pull → reconcile → plan → deliver, under the store's lock.

Pulling, reconciling and planning happen in one transaction that is committed before any
external write, so the outbox is durable first. Each delivered batch is booked in its own
transaction. A crash anywhere leaves either planned work in the outbox (delivered next
run) or nothing at all (planned again next run, to the same idempotency keys).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from connector.core.config import Config, OrganisationConfig, SourceConfig
from connector.core.errors import AuthenticationFailed, ConfigError, Problem
from connector.core.mapping import Mapping, load_mapping
from connector.core.model import COHORT_ENTITIES, EMPLOYER_ENTITIES
from connector.core.texts import load_overrides, overriding
from connector.engine.plans import link_accepted, plan_origin_notes, reconcile_planned_learning, rule_problems
from connector.engine.plan import CalendarTarget, Planner, Targets, sync_organisations
from connector.engine.cohort import CohortYear, plan_cohort
from connector.engine.prefetch import Prefetched, Prefetcher
from connector.engine.pull import CHUNK as PULL_CHUNK
from connector.engine.pull import COUNT_KEYS, RemovalGuard, pull_entity, stored_cursor
from connector.engine.reconcile import (
    COHORT,
    CohortReconciler,
    PersonResolver,
    reconcile_people,
    reconcile_pulled_training,
    source_key,
)
from connector.engine.safety import claimed_twice, shared_files
from connector.engine.status import describe_written, left_proposed
from connector.leerbewijs.edc import check_seal
from connector.leerbewijs.issuer import KeyStore, ensure_keys
from connector.leerbewijs.revocation import republish, revoked_indices
from connector.plumbing.access import make_private
from connector.plumbing.http import HttpError
from connector.plumbing.iterate import batched
from connector.plumbing.killpoint import reached
from connector.plumbing.runtime import Runtime
from connector.sinks import (
    CALENDAR,
    LEERBEWIJS,
    LINK_NOTE,
    MANAGER_NOTE,
    PLAN_ORIGIN,
    TRAINING_RECORD,
    YEARLY_HOURS,
    Response,
    Sink,
    SinkContext,
    sink_class,
)
from connector.sources import Source, SourceContext, source_class
from connector.store.db import migrate, open_engine, require_privileges, session_factory, sync_lock
from connector.store.outbox import (
    Delivered,
    Outcome,
    by_target,
    claim,
    pending_items,
    record_outcome,
    utcnow,
)
from connector.store.retention import apply_retention
from connector.store.tables import Cursor, ExternalRef, OutboxItem, SourceRecord, SyncRun
from connector.store.witness import FILE_NAME as WITNESS_FILE
from connector.store.witness import STORE_BEHIND, IssuedValues, continue_above, witness_of

log = logging.getLogger("connector.engine.sync")

CALENDAR_FILES = "calendar-files"
LEERBEWIJS_FILES = "leerbewijs-files"
INVITATIONS_MSGRAPH = "invitations-msgraph"
INVITATIONS_IMIP = "invitations-imip"
MANAGER_FILES = "manager-notes"  # manager notes as .eml files (connector/sinks/message_files.py)
LINK_FILES = "link-notes"  # personal links of people on a shared Microsoft 365 event, as .eml files (same sink)
CALENDAR_CALDAV = "calendar-caldav"


@dataclass
class Summary:
    status: str = "ok"
    dry_run: bool = False
    as_of: str = ""
    pulled: dict[str, Counter[str]] = field(default_factory=dict)
    invites: Counter[str] = field(default_factory=lambda: Counter({"created": 0, "updated": 0, "cancelled": 0}))
    training_records: Counter[str] = field(default_factory=lambda: Counter({"written": 0, "retracted": 0, "yearly totals written": 0}))
    leerbewijzen: Counter[str] = field(default_factory=lambda: Counter({"issued": 0}))
    plan_origins: Counter[str] = field(default_factory=lambda: Counter({"written": 0}))  # origin notes on HR goals
    errors: list[Problem] = field(default_factory=list)
    planned: list[dict[str, Any]] = field(default_factory=list)
    stopped: bool = False
    pulls: int = 0
    unavailable_pulls: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    declined: list[dict[str, str]] = field(default_factory=list)
    manual: list[dict[str, str]] = field(default_factory=list)  # retractions a target's API cannot make: for a person
    not_counted: list[dict[str, str]] = field(default_factory=list)  # past exchange days that are no training, and why
    revoked: list[dict[str, str]] = field(default_factory=list)  # leerbewijzen revoked by this run (days no longer true)
    conflicts: list[dict[str, str]] = field(default_factory=list)
    written: dict[str, list[OutboxItem]] = field(default_factory=dict)  # per target, this run's successful writes
    written_files: list[dict[str, Any]] = field(default_factory=list)  # the same, described (engine/status.py)
    created_key: str | None = None  # signing keys made on first use this run
    witness: IssuedValues | None = None  # the values handed out, to remember outside the store

    def as_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "status": self.status,
            "dry_run": self.dry_run,
            "as_of": self.as_of,
            "pulled": {entity: dict(counts) for entity, counts in sorted(self.pulled.items())},
            "invites": dict(self.invites),
            "training_records": dict(self.training_records),
            "leerbewijzen": dict(self.leerbewijzen),
            "plan_origins": dict(self.plan_origins),
            "not_counted": self.not_counted,
            "revoked": self.revoked,
            "requests": self.requests,
            "declined": self.declined,
            "manual_actions": self.manual,
            "conflicts": self.conflicts,
            "written": self.written_files,
            "errors": [p.as_dict() for p in self.errors if not p.warning],
            "warnings": [p.as_dict() for p in self.errors if p.warning],
        }
        if self.created_key:
            document["signing_key_created"] = self.created_key
        if self.dry_run:
            document["planned"] = self.planned
        return document

    def count_pull(self, entity: str, counts: Counter[str]) -> None:
        self.pulls += 1
        self.unavailable_pulls += counts.pop("unavailable", 0) > 0
        self.pulled.setdefault(entity, Counter({k: 0 for k in COUNT_KEYS})).update(counts)

    def count_left_out(self, records: list[tuple[str, int, int]], run_id: int, watermark: int) -> None:
        """Records the pull took in but reconcile left out (their employee is unknown): counted
        as failed, as long as they are reported, not as created, updated or unchanged. A record
        stored above `watermark` was created in this run; one not changed in it was counted
        unchanged when the pull listed it (an incremental pull may not have: then not counted)."""
        for entity, record_id, changed_run in records:  # (entity, SourceRecord.id, its changed_run)
            counts = self.pulled.get(entity)
            if counts is None:
                continue
            bucket = ("created" if record_id > watermark else "updated") if changed_run == run_id else "unchanged"
            if counts[bucket] > 0:
                counts[bucket] -= 1
                counts["failed"] += 1

    def count_delivery(self, delivered: Delivered) -> None:
        if not delivered.ok:
            return
        if delivered.object_type == CALENDAR:
            key = "cancelled" if delivered.action == "cancel" else ("created" if delivered.created else "updated")
            self.invites[key] += 1
        elif delivered.object_type == TRAINING_RECORD:
            self.training_records["retracted" if delivered.action == "retract" else "written"] += 1
        elif delivered.object_type == YEARLY_HOURS:
            self.training_records["yearly totals written"] += 1
        elif delivered.object_type == LEERBEWIJS and delivered.created:
            self.leerbewijzen["issued"] += 1
        elif delivered.object_type == PLAN_ORIGIN:
            self.plan_origins["written"] += 1


@dataclass(frozen=True)
class BoundSource:
    key: str
    organisation_id: str | None
    source: Source
    mapping: Mapping
    entities: list[str]


def build_sources(runtime: Runtime) -> list[BoundSource]:
    """Every configured source with its mapping loaded; all problems reported together."""
    config = runtime.config
    problems: list[str] = []
    bound: list[BoundSource] = []
    context = SourceContext(base_dir=config.base_dir, as_of=runtime.now, runtime=runtime)
    owners: list[tuple[str, str | None, SourceConfig, tuple[str, ...]]] = [(COHORT, None, s, COHORT_ENTITIES) for s in config.sources]
    owners += [(o.id, o.id, s, EMPLOYER_ENTITIES) for o in config.organisations for s in o.sources]
    problems.extend(shared_files(config))
    problems.extend(rule_problems(config))
    for owner, organisation_id, source_config, allowed in owners:
        where = f"source '{owner}/{source_config.name}'"
        wrong = [e for e in source_config.entities if e not in allowed]
        if wrong:
            problems.append(f"{where}: entities {wrong} do not belong here (allowed: {', '.join(allowed)})")
        if not source_config.entities:
            problems.append(f"{where}: `entities` is empty: say what this source delivers ({', '.join(allowed)})")
        try:
            source = source_class(source_config.kind)(source_config, context)
            mapping = load_mapping(source_config.mapping or source_config.kind, config.base_dir)
        except ConfigError as error:
            problems.extend(f"{where}: {p}" for p in error.problems)
            continue
        problems.extend(f"{where}: {p}" for p in source.problems())
        missing = [e for e in source_config.entities if e not in mapping.entities]
        if missing:
            problems.append(f"{where}: mapping {mapping.path} has no [{'], ['.join(missing)}]")
        bound.append(BoundSource(source_key(owner, source_config.name), organisation_id, source, mapping,
                                 [e for e in allowed if e in source_config.entities]))
    if problems:
        raise ConfigError(problems)
    return bound


def build_targets(runtime: Runtime) -> tuple[Targets, dict[str, Sink]]:
    config = runtime.config
    context = SinkContext(config=config, output_dir=config.output_dir, now=runtime.now, runtime=runtime)
    problems: list[str] = []
    sinks: dict[str, Sink] = {}

    def add(name: str, kind: str, options: dict[str, Any], *object_types: str) -> Sink | None:
        try:
            sink = sink_class(kind)(name, options, context)
        except ConfigError as error:
            problems.extend(f"target '{name}': {p}" for p in error.problems)
            return None
        if not sink.object_types.intersection(object_types):
            wanted = " or ".join(f"{t.replace('_', ' ')}s" for t in object_types)
            problems.append(f"target '{name}': a {kind} sink cannot take {wanted}")
            return None
        problems.extend(f"target '{name}': {p}" for p in sink.problems())
        sinks[name] = sink
        return sink

    add(CALENDAR_FILES, "ics_files", {}, CALENDAR)
    calendars = [CalendarTarget(CALENDAR_FILES, uninvites=True)]
    graph_channel = config.channels.msgraph
    if graph_channel is not None:
        options = {"tenant": graph_channel.tenant, "mailbox": graph_channel.mailbox or config.partner.organiser_email}
        add(INVITATIONS_MSGRAPH, "msgraph", options, CALENDAR)
        calendars.append(CalendarTarget(INVITATIONS_MSGRAPH, channel="msgraph", invite_hr=graph_channel.invite_hr))
    if config.caldav is not None:
        add(CALENDAR_CALDAV, "caldav", {**config.caldav.model_dump(), "password": config.caldav.password}, CALENDAR)
        calendars.append(CalendarTarget(CALENDAR_CALDAV))  # a copy with everyone on it, like the .ics files
    mail_channel = config.channels.imip
    if mail_channel is not None:
        add(INVITATIONS_IMIP, "imip", {**mail_channel.model_dump(), "password": mail_channel.password}, CALENDAR)
        calendars.append(CalendarTarget(INVITATIONS_IMIP, channel="imip", per_recipient=True))
    add(LEERBEWIJS_FILES, "leerbewijs_files", {}, LEERBEWIJS)
    # Manager notes go where the manager's invitations go: e-mail for "imip"; a file to send for
    # "files", and for "msgraph" too (Graph mail is not built: sendMail cannot be looked up after
    # a lost answer, so a note could go twice; the README says so).
    manager_notes: dict[str, str] = {}
    if any(o.manager_policy == "inform" for o in config.organisations):
        add(MANAGER_FILES, "message_files", {}, MANAGER_NOTE)
        manager_notes.update({"files": MANAGER_FILES, "msgraph": MANAGER_FILES})
        if mail_channel is not None:
            manager_notes["imip"] = INVITATIONS_IMIP
    # A personal link cannot go in a Graph event several people share: each of them gets it in a
    # note of their own, a file to send (Graph mail is not built, as for manager notes).
    link_notes = None
    web = config.web
    if graph_channel is not None and web is not None and web.base_url and web.link_keys:
        add(LINK_FILES, "message_files", {"directory": "links"}, LINK_NOTE)
        link_notes = LINK_FILES
    writeback: dict[str, list[str]] = {}
    documents: dict[str, list[str]] = {}
    employee_sources: dict[str, str] = {}
    with_learning_place: set[str] = set()
    yearly_hours: dict[str, list[str]] = {}
    for organisation in config.organisations:
        for target in organisation.writeback:
            name = f"{organisation.id}/{target.name or target.kind}"
            sink = add(name, target.kind, target.options, TRAINING_RECORD, LEERBEWIJS, PLAN_ORIGIN)
            if sink is None:
                continue
            if TRAINING_RECORD in sink.takes():
                writeback.setdefault(organisation.id, []).append(name)
            if LEERBEWIJS in sink.takes():
                documents.setdefault(organisation.id, []).append(name)
            if YEARLY_HOURS in sink.takes():
                yearly_hours.setdefault(organisation.id, []).append(name)
            if sink.needs_learning_place:
                with_learning_place.add(name)
            if sink.needs_employee_id:
                source = _employee_source(organisation, target.kind, target.options.get("employees_from"))
                if source is None:
                    problems.append(f"target '{name}': name the source that holds its employees with `employees_from` "
                                    f"(organisation '{organisation.id}' has no single source of kind '{target.kind}')")
                else:
                    employee_sources[name] = source_key(organisation.id, source)
    if problems:
        raise ConfigError(problems)
    return Targets(calendars=calendars, writeback=writeback, leerbewijs=[LEERBEWIJS_FILES], documents=documents,
                   employee_sources=employee_sources, with_learning_place=frozenset(with_learning_place), yearly_hours=yearly_hours,
                   manager_notes=manager_notes, link_notes=link_notes), sinks


def _employee_source(organisation: OrganisationConfig, kind: str, named: Any) -> str | None:
    """The source whose records carry the ids a write-back target addresses employees by."""
    if named:
        return str(named) if any(s.name == named for s in organisation.sources) else None
    same_kind = [s.name for s in organisation.sources if s.kind == kind]
    return same_kind[0] if len(same_kind) == 1 else None


def check(config: Config) -> list[str]:
    """Everything that can be checked without writing anywhere; raises ConfigError for the
    problems and returns the warnings. Only the targets' probes contact a system (today the
    CalDAV calendar: two PROPFINDs, see CaldavCalendar.probe; the iMIP answers' mailbox: one
    IMAP login and a read-only SELECT, see ImipMail.probe)."""
    problems: list[str] = []
    runtime = Runtime(config, utcnow())
    keys = KeyStore.of(config)
    sinks: dict[str, Sink] = {}

    def targets() -> None:
        sinks.update(build_targets(runtime)[1])

    steps = (lambda: build_sources(runtime), targets, lambda: keys.exists() and keys.current(),
             lambda: config.catalog_dir and load_overrides(config.catalog_dir), lambda: check_seal(config))
    for step in steps:
        try:
            step()
        except ConfigError as error:
            problems.extend(error.problems)
    if problems:
        raise ConfigError(problems)
    return [warning for sink in sinks.values() for warning in sink.probe()]


Progress = Callable[[str], None]


def run_sync(
    config: Config,
    as_of: datetime | None = None,
    dry_run: bool = False,
    progress: Progress = lambda message: None,
    should_stop: Callable[[], bool] = lambda: False,
    accept_removals: bool = False,
) -> Summary:
    """One sync. `accept_removals`: take a pull's removals even when [guards] would refuse them."""
    # The partner's wording is read and checked first: a bad catalog stops the run before anything is made or written.
    with overriding(config.catalog_dir):
        now = as_of or utcnow()
        guard = RemovalGuard(config.guards.max_removed_share, config.guards.always_allowed_removals, accept_removals)
        runtime = Runtime(config, now, load_signing_keys=lambda: ensure_keys(config, now), should_stop=should_stop)
        sources = build_sources(runtime)
        targets, sinks = build_targets(runtime)
        if not dry_run:
            make_private(config, ("store", "keys"))  # owner-only from their first byte; outputs when delivering
        engine = open_engine(config.store_url)
        try:
            # The lock first: a second sync started at the same moment must neither migrate the
            # store nor make signing keys while this one does, but say that another sync runs.
            with sync_lock(engine):
                require_privileges(engine)
                migrate(engine)
                if not dry_run:
                    runtime.signing_keys()  # unreadable keys stop the run here, before anything is written
                    if runtime.created_key:
                        progress(f"created signing keys {runtime.created_key} in {config.path(config.signing.keys_dir)}: back this folder up")
                summary = _run_locked(config, engine, now, sources, targets, sinks, dry_run, progress, should_stop, guard)
                summary.requests = runtime.stats.as_dict()
                summary.created_key = runtime.created_key
                return summary
        finally:
            engine.dispose()


StopCheck = Callable[[], bool]


def _run_locked(config: Config, engine: Engine, now: datetime, sources: list[BoundSource], targets: Targets,
                sinks: dict[str, Sink], dry_run: bool, progress: Progress, should_stop: StopCheck, guard: RemovalGuard) -> Summary:
    summary = Summary(dry_run=dry_run, as_of=now.isoformat())
    factory = session_factory(engine)
    _refuse_going_back(factory, now)
    _close_killed_runs(factory)
    with factory() as db:
        run = SyncRun(started_at=utcnow(), as_of=now, dry_run=dry_run, status="running")
        db.add(run)
        db.flush()
        run_id = run.id
        _prepare(db, config, run_id, now, sources, targets, summary, progress, should_stop, guard)
        if dry_run:
            summary.planned = [_describe(item) for item in pending_items(db)]
            _count_planned(db, summary)
            db.rollback()
            summary.status = _status(summary)
            return summary
        db.commit()
    if summary.witness is not None:  # before anything leaves: what was handed out is remembered outside the store
        summary.witness.save(config.path(config.signing.keys_dir))
        with factory() as db:  # the revocation list covers every index handed out, before any credential leaves
            republish(config, summary.witness, revoked_indices(db, summary.witness), now)
    if not summary.stopped:
        make_private(config, ("outputs",))
        _deliver(factory, sinks, summary, progress, should_stop)
    if not summary.stopped:
        _read_back(factory, sinks, summary, progress)
    with factory() as db:
        summary.written_files = describe_written(db, summary.written, config.output_dir)
    summary.status = _status(summary)
    with factory.begin() as db:
        deleted = apply_retention(db, config.retention, now, {b.key for b in sources if b.source.merges_raw})
        if deleted:
            progress("retention: deleted " + ", ".join(f"{n} {what}" for what, n in deleted.items()))
        finished = db.get(SyncRun, run_id)
        assert finished is not None
        finished.finished_at = utcnow()
        finished.status = summary.status
        finished.summary = summary.as_dict()
    return summary


CLOCK_SLACK = timedelta(minutes=10)  # a server clock corrected by NTP may step back a little


def _refuse_going_back(factory: sessionmaker[Session], now: datetime) -> None:
    """A sync dated before the last one that wrote would take days that happened for days still
    ahead (retracting them, revoking their leerbewijzen): refused, before anything is read.
    Raises ConfigError naming both moments."""
    with factory() as db:
        last = db.scalar(select(func.max(SyncRun.as_of)).where(SyncRun.dry_run.is_(False), SyncRun.status.in_(("ok", "partial"))))
    if last is not None and now < last - CLOCK_SLACK:
        raise ConfigError([f"as of {now:%Y-%m-%d %H:%M} UTC lies before the last sync (as of {last:%Y-%m-%d %H:%M} UTC): "
                           "a sync cannot go back in time (days that happened would be taken for days still ahead, and "
                           "their leerbewijzen revoked); sync as of that moment or later, or try other dates on a copy "
                           "of the store"])


def _close_killed_runs(factory: sessionmaker[Session]) -> None:
    """Runs still `running` belong to a process that died (we hold the lock, so none is alive):
    close them as `killed`. What they left in the outbox is delivered by this run."""
    with factory.begin() as db:
        for run in db.scalars(select(SyncRun).where(SyncRun.status == "running")):
            run.status = "killed"
            run.finished_at = utcnow()


def _prepare(db: Session, config: Config, run_id: int, now: datetime, sources: list[BoundSource], targets: Targets,
             summary: Summary, progress: Progress, should_stop: StopCheck, guard: RemovalGuard) -> None:
    sync_organisations(db, config)
    watermark = db.scalar(select(func.max(SourceRecord.id))) or 0  # records above it are new in this run
    reading = _read_ahead(db, config, sources)
    try:
        for bound in sources:
            if should_stop():
                summary.stopped = True
                return
            for entity in bound.entities:
                progress(f"pull {bound.key}: {entity}")
                counts = pull_entity(db, run_id, bound.key, bound.source, bound.mapping.entity(entity), bound.organisation_id, summary.errors,
                                     guard, reading[1].get((bound.key, entity)) if reading else None)
                summary.count_pull(entity, counts)
    finally:
        if reading:
            reading[0].close()
    db.flush()
    progress("reconcile people and the cohort")
    indexes: dict[str, PersonResolver] = {}
    left_out: list[tuple[str, int, int]] = []
    for organisation in config.organisations:
        indexes[organisation.id] = reconcile_people(db, config, organisation, run_id, summary.errors)
        db.flush()
        reconcile_pulled_training(db, organisation, indexes[organisation.id], summary.errors, left_out)
        reconcile_planned_learning(db, organisation, indexes[organisation.id], summary.errors, left_out)
    summary.count_left_out(left_out, run_id, watermark)
    summary.errors.extend(claimed_twice(db))
    CohortReconciler(db, config, indexes, summary.errors).run()
    db.flush()
    CohortYear(db, config, indexes, summary.errors).run()  # cohorts, phases, group moments
    db.flush()
    link_accepted(db, config, summary.errors)
    db.flush()
    summary.errors.extend(left_proposed(db, ZoneInfo(config.partner.timezone)))
    if should_stop():
        summary.stopped = True
        return
    progress("plan invitations, training records and leerbewijzen")
    witness = IssuedValues.load(config.path(config.signing.keys_dir))
    continue_above(db, witness)
    if db.info.get(STORE_BEHIND):  # found behind in this run, not merely a floor kept from an earlier one
        summary.errors.append(Problem("store", "(store)", "(store)", "", "the store is behind the values it already handed out "
                                      f"(restored from a backup, or new): numbering continues above them, in "
                                      f"{config.path(config.signing.keys_dir) / WITNESS_FILE}", warning=True))
    planner = Planner(db, config, run_id, now, targets, summary.errors, witness)
    planner.run()
    plan_cohort(planner)  # group moments and deadline reminders, through the same targets
    summary.not_counted, summary.revoked = planner.not_counted, planner.revoked
    db.flush()
    plan_origin_notes(db, config, run_id, summary.errors)
    db.flush()
    summary.witness = witness_of(db, witness)


def _read_ahead(db: Session, config: Config, sources: list[BoundSource]) -> tuple[Prefetcher, dict[tuple[str, str], Prefetched]] | None:
    """With `[sync] concurrency` above 1, every source's pulls start in threads, in the
    order they will be stored, at most that many at a time (engine/prefetch.py)."""
    if config.sync.concurrency <= 1:
        return None
    prefetcher = Prefetcher(config.sync.concurrency, PULL_CHUNK)
    started: dict[tuple[str, str], Prefetched] = {}
    try:
        for bound in sources:
            for entity in bound.entities:
                mapping, cursor = bound.mapping.entity(entity), stored_cursor(db, bound.key, entity)
                started[(bound.key, entity)] = prefetcher.add(lambda s=bound.source, m=mapping, c=cursor: s.pull(m, c))
    except BaseException:
        prefetcher.close()  # no thread may be left waiting to hand over what nobody will take
        raise
    return prefetcher, started


def _deliver(factory: sessionmaker[Session], sinks: dict[str, Sink], summary: Summary, progress: Progress, should_stop: StopCheck) -> None:
    with factory() as db:
        groups = by_target(pending_items(db, utcnow()))
        for target, items in groups:
            sink = sinks.get(target)
            if sink is None:
                summary.errors.append(Problem("outbox", items[0].object_type, target, "target",
                                              f"{len(items)} write(s) wait for a target that is no longer configured"))
                continue
            for start in range(0, len(items), sink.batch_size):
                if should_stop():
                    summary.stopped = True
                    return
                batch = items[start:start + sink.batch_size]
                progress(f"write {target}: {start + len(batch)}/{len(items)}")
                lost = _send(db, target, sink, batch, summary, last_try=False)
                if lost and not should_stop():
                    # Answers lost after the writes may have landed: the items are uncertain now,
                    # so the sink looks for each before creating it again, in this run.
                    progress(f"write {target}: looking for {len(lost)} write(s) whose answer was lost")
                    _send(db, target, sink, lost, summary, last_try=True)


def _send(db: Session, target: str, sink: Sink, batch: list[OutboxItem], summary: Summary, last_try: bool) -> list[OutboxItem]:
    """Claim, deliver and book one batch; returns the items whose answer was lost (not yet
    reported as errors unless this is the `last_try`)."""
    claim(batch)
    db.commit()
    known = {ref.object_id: ref for ref in db.scalars(select(ExternalRef).where(
        ExternalRef.target == target, ExternalRef.object_id.in_([item.object_id for item in batch])))}
    lost: list[OutboxItem] = []
    for item, outcome in zip(batch, _deliver_batch(sink, batch, known), strict=True):
        delivered = record_outcome(db, item, outcome, utcnow())
        summary.count_delivery(delivered)
        if delivered.ok:
            summary.written.setdefault(target, []).append(item)
            if outcome.details and outcome.details.get("manual"):
                summary.manual.append({"target": target, "record": item.object_id, "remote_id": outcome.remote_id or "",
                                       "action": str(outcome.details["manual"])})
        elif outcome.uncertain and not last_try:
            lost.append(item)
        else:
            summary.errors.append(Problem(target, item.object_type, item.object_id, "", f"not written: {outcome.error}"))
        if sink.books_each:
            db.commit()
            reached("commit")
    if not sink.books_each:
        db.commit()
        reached("commit")
    return lost


def _read_back(factory: sessionmaker[Session], sinks: dict[str, Sink], summary: Summary, progress: Progress) -> None:
    """What targets tell us afterwards: attendee answers (a decline is flagged) and, for the
    sessions just written, overlaps in the attendees' own calendars."""
    for target, sink in sinks.items():
        try:
            if sink.reads_responses:
                progress(f"read answers from {target}")
                _book_responses(factory, target, sink, summary)
            if sink.checks_availability and summary.written.get(target):
                progress(f"check free/busy for {len(summary.written[target])} session(s) in {target}")
                for conflict in sink.find_conflicts(summary.written[target]):
                    summary.conflicts.append({"target": target, "session": conflict.object_id, "attendee": conflict.attendee,
                                              "start": conflict.start.isoformat(), "end": conflict.end.isoformat(), "status": conflict.status})
        except (HttpError, AuthenticationFailed) as error:
            summary.errors.append(Problem(target, "responses", "(target)", "", f"could not be read back: {error}"))


def _book_responses(factory: sessionmaker[Session], target: str, sink: Sink, summary: Summary) -> None:
    key = f"target/{target}"
    with factory.begin() as db:
        cursor = db.get(Cursor, (key, "responses"))
        answers, new_cursor = sink.read_responses(cursor.value if cursor else None)
        by_remote: dict[str, list[Response]] = {}
        for answer in answers:
            if answer.remote_id or not answer.uid:
                by_remote.setdefault(answer.remote_id, []).append(answer)
        for ids in batched(list(by_remote), 500):
            for ref in db.scalars(select(ExternalRef).where(ExternalRef.target == target, ExternalRef.remote_id.in_(ids))):
                _note_answers(ref, by_remote[ref.remote_id or ""], target, summary)
        _book_by_uid(db, target, [answer for answer in answers if answer.uid and not answer.remote_id], summary)
        if new_cursor is not None:
            if cursor is None:
                db.add(Cursor(source=key, entity="responses", value=new_cursor, updated_at=utcnow()))
            elif cursor.value != new_cursor:
                cursor.value, cursor.updated_at = new_cursor, utcnow()
    summary.errors.extend(sink.read_problems())


def _note_answers(ref: ExternalRef, answers: list[Response], target: str, summary: Summary) -> None:
    """Keep the attendees' answers on the object's ref (details["responses"], by address); a
    new decline of a live session is listed in the summary."""
    details = dict(ref.details or {})
    known = dict(details.get("responses", {}))
    for answer in answers:
        if answer.response == "declined" and known.get(answer.attendee) != "declined" and not ref.cancelled:
            # per-recipient objects are "<session>|<address>": the summary names the session
            summary.declined.append({"target": target, "session": ref.object_id.split("|", 1)[0], "attendee": answer.attendee})
        known[answer.attendee] = answer.response
    if known != details.get("responses"):
        details["responses"] = known
        ref.details = details


def _book_by_uid(db: Session, target: str, answers: list[Response], summary: Summary) -> None:
    """Answers known by the event's UID only (iTIP REPLYs by e-mail, RFC 5546 section 3.2.3):
    kept on the attendee's own message's ref ("<session>|<address>") when there is one, else on
    the first ref with that UID. An answer to a UID we never wrote is a warning naming where it
    came from; nothing is kept of it."""
    refs: dict[str, list[ExternalRef]] = {}
    for uids in batched(sorted({answer.uid for answer in answers}), 500):
        for ref in db.scalars(select(ExternalRef).where(ExternalRef.target == target, ExternalRef.object_type == CALENDAR,
                                                        ExternalRef.uid.in_(uids)).order_by(ExternalRef.object_id)):
            refs.setdefault(ref.uid or "", []).append(ref)
    for answer in answers:
        candidates = refs.get(answer.uid, [])
        if not candidates:
            summary.errors.append(Problem(target, "responses", answer.about or answer.uid, "UID",
                                          f"answers an event the connector did not send (UID {answer.uid}): left alone", warning=True))
            continue
        own = [ref for ref in candidates if ref.object_id.lower().endswith(f"|{answer.attendee.lower()}")]
        _note_answers((own or candidates)[0], [answer], target, summary)


def _deliver_batch(sink: Sink, batch: list[OutboxItem], known: dict[str, ExternalRef]) -> Iterator[Outcome]:
    """One Outcome per item of `batch`, in order, as the sink gives them (one at a time from
    a sink that books each write). What stops the whole target fails the items not yet answered."""
    given = 0
    try:
        for outcome in sink.deliver(batch, known):
            given += 1
            yield outcome
    except OSError as error:
        # A full disk or an unreachable share stops this target, not the run; retried next run.
        yield from (Outcome(ok=False, error=f"{type(error).__name__}: {error.strerror or error}") for _ in batch[given:])
    except HttpError as error:  # e.g. a lost answer to a whole Graph $batch: all of it may have landed
        yield from (Outcome(ok=False, error=str(error), uncertain=error.uncertain) for _ in batch[given:])
    except AuthenticationFailed as error:
        yield from (Outcome(ok=False, error=str(error)) for _ in batch[given:])
    except ConfigError as error:  # e.g. the signing keys cannot be read: retried once fixed
        yield from (Outcome(ok=False, error="; ".join(error.problems)) for _ in batch[given:])
    else:
        if given != len(batch):
            raise RuntimeError(f"sink {sink.kind} answered {given} outcomes for {len(batch)} items")


def _describe(item: OutboxItem) -> dict[str, Any]:
    return {"target": item.target, "object": item.object_type, "id": item.object_id, "action": item.action, "sequence": item.sequence}


def _count_planned(db: Session, summary: Summary) -> None:
    """In a dry run, count what would be delivered as if it were."""
    for item in pending_items(db):
        ref = db.get(ExternalRef, (item.target, item.object_type, item.object_id))
        summary.count_delivery(Delivered(item.id, item.target, item.object_type, item.object_id, item.action,
                                         ref is None or ref.cancelled, True))


def _status(summary: Summary) -> str:
    if summary.pulls and summary.unavailable_pulls == summary.pulls:
        return "failed"  # not one source could be read: the store was left as it was
    if any(not p.warning for p in summary.errors) or summary.stopped:
        return "partial"
    return "ok"


def last_runs(db: Session, limit: int = 10) -> list[SyncRun]:
    return list(db.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)))
