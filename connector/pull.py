"""Pull: run one source for one entity into source_records, the same way for every adapter.

For each remote record: map, validate, identify, compare with what this source delivered
last time, and count it as created, updated, unchanged or failed. After a complete pull a
record the source no longer lists is marked removed (never deleted), so reconcile can make
the person inactive. A bad record is reported with source, entity, where, field and reason;
the others go through. A failing source keeps everything it delivered before.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.errors import (
    AuthenticationFailed,
    Problem,
    RecordError,
    SourceUnavailable,
)
from connector.http import HttpError
from connector.mapping import EntityMapping, lookup_path
from connector.outbox import content_hash, utcnow
from connector.sources import Source
from connector.store.tables import Cursor, SourceRecord

COUNT_KEYS = ("created", "updated", "unchanged", "failed", "removed")


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


def pull_entity(
    db: Session,
    run_id: int,
    source_key: str,
    source: Source,
    mapping: EntityMapping,
    organisation_id: str | None,
    problems: list[Problem],
) -> Counter[str]:
    counts: Counter[str] = Counter({k: 0 for k in COUNT_KEYS})
    entity = mapping.entity
    cursor_row = db.get(Cursor, (source_key, entity))
    existing = {
        row.remote_id: row
        for row in db.scalars(select(SourceRecord).where(SourceRecord.source == source_key, SourceRecord.entity == entity))
    }
    seen: dict[str, str] = {}
    try:
        result = source.pull(mapping, cursor_row.value if cursor_row else None)
        for record in result.records:
            if record.deleted:
                _mark_removed(existing, _deleted_id(mapping, record.raw), counts)
                continue
            raw = record.raw
            try:
                if result.partial:
                    raw = _complete(mapping, existing, raw)
                mapped = mapping.apply(raw)
                remote_id = mapping.identify(raw, mapped)
            except RecordError as error:
                counts["failed"] += 1
                problems.append(Problem(source_key, entity, record.location, error.field, error.message))
                continue
            if remote_id in seen:
                counts["failed"] += 1
                problems.append(Problem(source_key, entity, record.location, mapping.id_fields[0],
                                        f"'{remote_id}' appears twice (first at {seen[remote_id]}); the first one is kept"))
                continue
            seen[remote_id] = record.location
            try:
                data = mapping.validate(mapped)
            except RecordError as error:
                counts["failed"] += 1
                problems.append(Problem(source_key, entity, record.location, error.field, error.message))
                continue
            _store(db, existing, run_id, source_key, entity, organisation_id, remote_id, data, raw, record.location, counts)
    except (SourceUnavailable, HttpError, AuthenticationFailed) as error:
        problems.append(Problem(source_key, entity, "(source)", "", f"could not be read: {error}; kept what it delivered before"))
        counts["failed"] += 1
        counts["unavailable"] += 1  # not a record count: the sync uses it to tell partial from failed
        return counts
    if result.complete:
        for remote_id, row in existing.items():
            if remote_id not in seen and not row.deleted:
                row.deleted = True
                counts["removed"] += 1
    if result.cursor is not None:
        _save_cursor(db, cursor_row, source_key, entity, result.cursor)
    return counts


def _deleted_id(mapping: EntityMapping, raw: dict[str, Any]) -> str | None:
    try:
        if mapping.remote_path is not None:
            return mapping.identify(raw, {})
        return mapping.remote_id(mapping.apply(raw))
    except RecordError:
        return None


def _complete(mapping: EntityMapping, existing: dict[str, SourceRecord], raw: dict[str, Any]) -> dict[str, Any]:
    """Sources that send only what changed (delta queries) are merged into the last version."""
    if mapping.remote_path is None:
        return raw
    known = existing.get(str(lookup_path(raw, mapping.remote_path)))
    return {**known.raw, **raw} if known is not None else raw


def _mark_removed(existing: dict[str, SourceRecord], remote_id: str | None, counts: Counter[str]) -> None:
    row = existing.get(remote_id) if remote_id else None
    if row is not None and not row.deleted:
        row.deleted = True
        counts["removed"] += 1


def _store(
    db: Session,
    existing: dict[str, SourceRecord],
    run_id: int,
    source_key: str,
    entity: str,
    organisation_id: str | None,
    remote_id: str,
    data: dict[str, Any],
    raw: dict[str, Any],
    location: str,
    counts: Counter[str],
) -> None:
    digest = content_hash(data)
    row = existing.get(remote_id)
    if row is None:
        row = SourceRecord(source=source_key, entity=entity, remote_id=remote_id, organisation_id=organisation_id)
        db.add(row)
        existing[remote_id] = row
        counts["created"] += 1
    elif row.data_hash != digest or row.deleted:
        counts["updated"] += 1
    else:
        counts["unchanged"] += 1
        if row.location != location:
            row.location = location
        return
    row.data = data
    row.raw = json.loads(json.dumps(jsonable(raw)))
    row.data_hash = digest
    row.location = location
    row.deleted = False
    row.changed_run = run_id


def _save_cursor(db: Session, row: Cursor | None, source_key: str, entity: str, value: str) -> None:
    if row is None:
        db.add(Cursor(source=source_key, entity=entity, value=value, updated_at=utcnow()))
    elif row.value != value:
        row.value = value
        row.updated_at = utcnow()
