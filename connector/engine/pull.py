"""Pull: run one source for one entity into source_records, the same way for every adapter.

For each remote record: map, validate, identify, compare with what this source delivered
last time, and count it as created, updated, unchanged or failed. After a complete pull a
record the source no longer lists is marked removed (never deleted), so reconcile can make
the person inactive. A bad record is reported with source, entity, where, field and reason;
the others go through. A failing source keeps everything it delivered before.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from itertools import islice
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, exists, func, literal, select
from sqlalchemy.orm import Session

from connector.core.errors import (
    AuthenticationFailed,
    Problem,
    RecordError,
    SourceUnavailable,
)
from connector.core.mapping import EntityMapping
from connector.core.model import ENTITY_MODELS
from connector.engine.prefetch import Prefetched
from connector.plumbing.http import HttpError
from connector.plumbing.iterate import batched
from connector.sources import Pull, RemoteRecord, Source
from connector.store import temporary
from connector.store.bulk import JSONText, update_rows, upsert_statement, wrote
from connector.store.outbox import content_hash, utcnow
from connector.store.tables import Cursor, SourceRecord

COUNT_KEYS = ("created", "updated", "unchanged", "failed", "removed")
UPSERT_COLUMNS = ("data", "raw", "data_hash", "raw_hash", "location", "deleted", "changed_run")
try:
    VERSION = package_version("switching-talent-connector")
except PackageNotFoundError:  # a source checkout that was never installed
    VERSION = "0"


def jsonable(value: Any) -> Any:
    """Raw records are kept for debugging; spreadsheet cells become JSON-friendly text."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


CHUNK = 500  # records mapped and stored per round trip; memory stays flat in the source's size

# The remote ids this pull has seen, and where each was seen first (store/temporary.py): what a
# complete pull did not list is marked removed, a duplicate is reported with the first place.
SEEN = Table("pull_seen", MetaData(), Column("remote_id", String, primary_key=True), Column("location", String, nullable=False),
             prefixes=["TEMPORARY"])


def pull_entity(
    db: Session,
    run_id: int,
    source_key: str,
    source: Source,
    mapping: EntityMapping,
    organisation_id: str | None,
    problems: list[Problem],
    guard: RemovalGuard | None = None,
    prefetched: Prefetched | None = None,
) -> Counter[str]:
    """`prefetched`: the same pull, being read ahead by a thread (engine/prefetch.py)."""
    temporary.create(db, SEEN)
    counts = _pull(db, run_id, source_key, source, mapping, organisation_id, problems, guard, prefetched)
    temporary.drop(db, SEEN)
    return counts


def _pull(db: Session, run_id: int, source_key: str, source: Source, mapping: EntityMapping, organisation_id: str | None,
          problems: list[Problem], guard: RemovalGuard | None, prefetched: Prefetched | None) -> Counter[str]:
    counts: Counter[str] = Counter({k: 0 for k in COUNT_KEYS})
    entity = mapping.entity
    chunk = _Chunk(db, run_id, source_key, mapping, organisation_id, problems, counts)
    try:
        if prefetched is not None:
            result, chunks = prefetched.open()
        else:
            result = source.pull(mapping, stored_cursor(db, source_key, entity))
            chunks = batched(result.records, CHUNK)
        vanished = _vanished_columns(db, source_key, entity, result)
        if vanished:
            raise SourceUnavailable(f"{vanished}; the last export had that column, so this is taken for a renamed or "
                                    "dropped header: nothing was taken in (earlier values would be emptied)")
        for records in chunks:
            chunk.take(list(records), result.partial)
            db.flush()
            db.expunge_all()  # what is stored need not stay in memory
    except (SourceUnavailable, HttpError, AuthenticationFailed) as error:
        problems.append(Problem(source_key, entity, "(source)", "", f"could not be read: {error}; kept what it delivered before"))
        counts["failed"] += 1
        counts["unavailable"] += 1  # not a record count: the sync uses it to tell partial from failed
        return counts
    finally:
        if prefetched is not None:
            prefetched.done()  # its thread may read the next source now
    for warning in result.warnings:
        problems.append(Problem(source_key, entity, "(source)", "", warning, warning=True))
    if result.complete and chunk.unreadable:
        # A consequence of problems already listed (and counted as failed), not another one.
        problems.append(Problem(source_key, entity, "(source)", "", f"{chunk.unreadable} record(s) could not be read, so "
                                "nobody missing from this pull is marked removed until they can", warning=True))
    elif result.complete:
        known = _mark_missing(db, run_id, source_key, entity, counts, guard, problems)
        if chunk.rows == 0 and known == 0:  # with records known before, the guard has already spoken
            _report_empty(source_key, entity, counts, problems)
    elif result.live_ids is not None:
        try:
            _see_live(db, result.live_ids())
        except (SourceUnavailable, HttpError, AuthenticationFailed) as error:
            problems.append(Problem(source_key, entity, "(source)", "", f"the list of live records could not be read: {error}; "
                                    "nothing was marked removed", warning=True))
        else:
            _mark_missing(db, run_id, source_key, entity, counts, guard, problems)
    if result.cursor is not None:
        _save_cursor(db, source_key, entity, result.cursor)
    return counts


def stored_cursor(db: Session, source_key: str, entity: str) -> str | None:
    return db.scalar(select(Cursor.value).where(Cursor.source == source_key, Cursor.entity == entity))


class _Known:
    """What the store holds of one record, as far as change detection needs it."""

    __slots__ = ("id", "raw", "raw_hash", "data_hash", "deleted", "location")

    def __init__(self, id: int | None, raw: dict[str, Any] | None, raw_hash: str | None, data_hash: str, deleted: bool,
                 location: str | None) -> None:
        self.id, self.raw, self.raw_hash, self.data_hash = id, raw, raw_hash, data_hash
        self.deleted, self.location = deleted, location


def _json_default(value: Any) -> Any:
    """What json.dumps cannot write, as `jsonable` writes it (spreadsheet dates, decimals, error cells)."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return str(value)


def raw_text(raw: dict[str, Any]) -> str:
    """The raw record as the JSON text that is stored: json.dumps(jsonable(raw)), in C."""
    try:
        return json.dumps(raw, default=_json_default)
    except (TypeError, ValueError):  # a key json cannot write (a tuple): the slow, general way
        return json.dumps(jsonable(raw))


def reader_fingerprint(mapping: EntityMapping) -> bytes:
    """What turns a raw record into stored data: the mapping and the canonical model (its JSON
    schema, and the connector's version for its validators). Part of each raw hash, so that a
    changed mapping file or model reads every record again."""
    model = ENTITY_MODELS[mapping.entity].model_json_schema()
    text = repr(mapping) + json.dumps(model, sort_keys=True, default=str) + VERSION
    return hashlib.sha256(text.encode()).digest()


class _Chunk:
    """Maps, validates and stores one chunk of remote records against what is stored.

    Set-based: one query reads what the store knows of the chunk's records, one upsert
    (INSERT ... ON CONFLICT, executemany) writes the new and changed ones, one executemany
    UPDATE the few columns of the others. A record whose raw hash (raw text and reader) equals
    the stored one is unchanged without being mapped and validated again."""

    def __init__(self, db: Session, run_id: int, source_key: str, mapping: EntityMapping, organisation_id: str | None,
                 problems: list[Problem], counts: Counter[str]) -> None:
        self.db, self.run_id, self.source_key, self.mapping = db, run_id, source_key, mapping
        self.organisation_id, self.problems, self.counts = organisation_id, problems, counts
        self.seen: dict[str, str] = {}  # this chunk's remote ids -> where each was first seen this run (all: SEEN)
        self.unreadable = 0  # records that came without content: whose they were is unknown
        self.rows = 0  # every record the source yielded, readable or not
        self.partial = False  # the pull delivers changed fields only (a delta), merged onto the stored raw
        self.fingerprint = reader_fingerprint(mapping)
        self.upsert = upsert_statement(db, SourceRecord.__table__, ("source", "entity", "remote_id"), UPSERT_COLUMNS)

    def problem(self, location: str, field: str, message: str) -> None:
        self.counts["failed"] += 1
        self.problems.append(Problem(self.source_key, self.mapping.entity, location, field, message))

    def take(self, records: list[RemoteRecord], partial: bool) -> None:
        self.rows += len(records)
        self.partial = partial
        unreadable = [record for record in records if record.problem is not None]
        for record in unreadable:
            self.unreadable += 1
            self.problem(record.location, "", str(record.problem))
        if unreadable:
            records = [record for record in records if record.problem is None]
        identified = [(record, self._identify(record)) for record in records]
        remote_ids = [remote_id for _, remote_id in identified if remote_id]
        existing = self._existing(remote_ids, partial)
        self.seen = self._seen_before(remote_ids)
        earlier = len(self.seen)
        writes: dict[str, dict[str, Any]] = {}  # remote id -> the row to upsert
        touches: dict[int, dict[str, Any]] = {}  # stored id -> the columns to update
        for record, remote_id in identified:
            if record.deleted:
                known = existing.get(remote_id) if remote_id else None
                if known is not None and not known.deleted:
                    known.deleted = True
                    self._touch(touches, writes, remote_id, known, deleted=True, changed_run=self.run_id)
                    self.counts["removed"] += 1
                continue
            if remote_id is None:
                continue  # reported by _identify
            known = existing.get(remote_id)
            raw = {**(known.raw or {}), **record.raw} if partial and known is not None else record.raw
            text = raw_text(raw)
            digest = hashlib.sha256(self.fingerprint + text.encode()).hexdigest()
            if known is not None and not known.deleted and known.raw_hash == digest:
                if remote_id in self.seen:
                    self._duplicate(record, remote_id)
                    continue
                self.seen[remote_id] = record.location
                self.counts["unchanged"] += 1
                if known.location != record.location:
                    known.location = record.location
                    self._touch(touches, writes, remote_id, known, location=record.location)
                continue
            try:
                data = self.mapping.validate(self.mapping.apply(raw))
            except RecordError as error:
                self.seen.setdefault(remote_id, record.location)  # a bad version is not a removal
                self.problem(record.location, error.field, error.message)
                continue
            if remote_id in self.seen:
                self._duplicate(record, remote_id)
                continue
            self.seen[remote_id] = record.location
            self._store(writes, touches, known, existing, remote_id, data, text, digest, record.location)
        self._write(writes, touches)
        self._remember_seen(earlier)

    def _seen_before(self, remote_ids: list[str]) -> dict[str, str]:
        """Where earlier chunks of this pull saw any of these remote ids first."""
        if not remote_ids:
            return {}
        return {remote_id: location for remote_id, location in self.db.execute(
            select(SEEN.c.remote_id, SEEN.c.location).where(temporary.one_of(self.db, SEEN.c.remote_id, set(remote_ids))))}

    def _remember_seen(self, earlier: int) -> None:
        """Add the remote ids this chunk saw first to SEEN: those after the `earlier` entries of
        `seen` (a dict keeps its order, and an entry is only ever added, never replaced)."""
        temporary.add(self.db, SEEN, list(islice(self.seen.items(), earlier, None)))

    def _duplicate(self, record: RemoteRecord, remote_id: str) -> None:
        self.problem(record.location, self.mapping.id_fields[0] if self.mapping.id_fields else str(self.mapping.remote_path),
                     f"'{remote_id}' appears twice (first at {self.seen[remote_id]}); the first one is kept")

    def _identify(self, record: RemoteRecord) -> str | None:
        """The record's remote id. Only the identifying fields are mapped: a bad value
        elsewhere is reported, not taken for a removal, and a record delivered again
        unchanged is mapped no further."""
        try:
            if self.mapping.remote_path is not None:
                return self.mapping.identify(record.raw, {})
            return self.mapping.remote_id(self.mapping.apply(record.raw, only=self.mapping.id_field_names))
        except RecordError as error:
            if not record.deleted:
                self.problem(record.location, error.field, error.message)
            return None

    def _existing(self, remote_ids: list[str], partial: bool) -> dict[str, _Known]:
        if not remote_ids:
            return {}
        columns = [SourceRecord.remote_id, SourceRecord.id, SourceRecord.raw if partial else literal(None),
                   SourceRecord.raw_hash, SourceRecord.data_hash, SourceRecord.deleted, SourceRecord.location]
        rows = self.db.execute(select(*columns).where(SourceRecord.source == self.source_key, SourceRecord.entity == self.mapping.entity,
                                                      temporary.one_of(self.db, SourceRecord.remote_id, set(remote_ids))))
        return {row[0]: _Known(*row[1:]) for row in rows}

    def _touch(self, touches: dict[int, dict[str, Any]], writes: dict[str, dict[str, Any]], remote_id: str, known: _Known,
               **values: Any) -> None:
        if remote_id in writes:  # written in this chunk already: change what will be written
            writes[remote_id].update(values)
        elif known.id is not None:
            touches.setdefault(known.id, {"id": known.id}).update(values)

    def _store(self, writes: dict[str, dict[str, Any]], touches: dict[int, dict[str, Any]], known: _Known | None,
               existing: dict[str, _Known], remote_id: str, data: dict[str, Any], text: str, raw_hash: str, location: str) -> None:
        digest = content_hash(data)
        if known is None:
            self.counts["created"] += 1
        elif known.data_hash != digest or known.deleted:
            self.counts["updated"] += 1
        else:
            # The same data from another raw version: the stored raw stays (as it always has);
            # the hash now says that this raw gives this data.
            self.counts["unchanged"] += 1
            known.raw_hash, known.location = raw_hash, location
            self._touch(touches, writes, remote_id, known, location=location, raw_hash=raw_hash)
            return
        writes[remote_id] = {"source": self.source_key, "entity": self.mapping.entity, "remote_id": remote_id,
                             "organisation_id": self.organisation_id, "data": data, "raw": JSONText(text),
                             "data_hash": digest, "raw_hash": raw_hash, "location": location, "deleted": False,
                             "changed_run": self.run_id}
        if known is not None:
            touches.pop(known.id or -1, None)
        # A partial pull merges a later version in this chunk onto this one, as stored.
        raw = json.loads(text) if self.partial else None
        existing[remote_id] = _Known(known.id if known else None, raw, raw_hash, digest, False, location)

    def _write(self, writes: dict[str, dict[str, Any]], touches: dict[int, dict[str, Any]]) -> None:
        if writes:  # organisation_id is written with a new record only (UPSERT_COLUMNS leave it)
            self.db.execute(self.upsert, list(writes.values()))
            wrote(self.db, SourceRecord.__table__, len(writes))
        if touches:
            update_rows(self.db, SourceRecord.__table__, list(touches.values()))


def _vanished_columns(db: Session, source_key: str, entity: str, result: Pull) -> str | None:
    """The message of the first absent column that the previous export of this source had."""
    if not result.absent_columns:
        return None
    earlier = db.scalar(select(SourceRecord.raw).where(SourceRecord.source == source_key, SourceRecord.entity == entity,
                                                       SourceRecord.deleted.is_(False)).limit(1))
    if not isinstance(earlier, dict):
        return None
    return next((message for names, message in result.absent_columns if any(name in earlier for name in names)), None)


@dataclass(frozen=True)
class RemovalGuard:
    """How many removals one complete pull may make before it is taken for a wrong export."""

    max_share: float = 0.2
    always_allowed: int = 2
    accept: bool = False  # the operator said these removals are real (sync --accept-removals)

    def refuses(self, missing: int, live: int) -> bool:
        if self.accept or missing == 0:
            return False
        return missing == live or (missing > self.always_allowed and missing > self.max_share * live)


def _see_live(db: Session, remote_ids: Iterable[str]) -> None:
    """Add the ids a source lists as live (`Pull.live_ids`) to what this pull has seen."""
    for part in batched(remote_ids, CHUNK):
        temporary.add(db, SEEN, [(remote_id, "") for remote_id in part], keep_present=True)


def _mark_missing(db: Session, run_id: int, source_key: str, entity: str, counts: Counter[str], guard: RemovalGuard | None,
                  problems: list[Problem]) -> int:
    """After a complete pull, whatever the source no longer lists (is not in SEEN) is removed
    (never deleted), unless so much would go that the pull looks truncated or wrong (`guard`).
    Counted and marked in the store, not in Python. Returns how many records the source had
    live before this pull."""
    records = SourceRecord.__table__
    stored = (records.c.source == source_key, records.c.entity == entity, records.c.deleted.is_(False))
    absent = ~exists().where(SEEN.c.remote_id == records.c.remote_id)
    live = db.scalar(select(func.count()).select_from(records).where(*stored)) or 0
    missing = (db.scalar(select(func.count()).select_from(records).where(*stored, absent)) or 0) if live else 0
    if guard is not None and guard.refuses(missing, live):
        share = f"{missing} of {live} ({missing / live:.0%})"
        problems.append(Problem(source_key, entity, "(source)", "", f"this pull would remove {share}, more than "
                                f"[guards] allows: taken for a truncated or wrong export, nothing was removed; if they really "
                                f"left, run sync --accept-removals once"))
        counts["failed"] += 1
        return live
    if missing:
        db.execute(records.update().where(*stored, absent).values(deleted=True, changed_run=run_id))
    counts["removed"] += missing
    return live


# An organisation without people cannot take part: an empty people export is a truncated
# download, never news. Other entities may be empty for a while (no training yet, a cohort
# before matching), so for them it is only worth a warning.
EMPTY_IS_AN_ERROR = frozenset({"people"})


def _report_empty(source_key: str, entity: str, counts: Counter[str], problems: list[Problem]) -> None:
    """A complete pull that yielded no row at all: named, never silent (a header-only file)."""
    error = entity in EMPTY_IS_AN_ERROR
    problems.append(Problem(source_key, entity, "(source)", "", "the source holds no rows at all (an empty or truncated "
                            "export?)" + ("; nothing was taken in" if error else ""), warning=not error))
    if error:
        counts["failed"] += 1


def _save_cursor(db: Session, source_key: str, entity: str, value: str) -> None:
    row = db.get(Cursor, (source_key, entity))
    if row is None:
        db.add(Cursor(source=source_key, entity=entity, value=value, updated_at=utcnow()))
    elif row.value != value:
        row.value = value
        row.updated_at = utcnow()
