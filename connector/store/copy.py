"""Moving a store: every table of one store copied into another, empty one, for instance from
the embedded SQLite file to the production PostgreSQL server.

The copy is the supported way to move, because the store holds values that must only move
forward (each calendar object's SEQUENCE, leerbewijs numbers, cursors, what each target
already holds): starting the new store empty would make the connector send everything again.
Both stores are locked for the duration, the target is filled in one transaction (all or
nothing), and the target must be empty: a copy never merges.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, Integer, func, insert, select, text

from connector.store.db import migrate, sync_lock
from connector.store.tables import Base

CHUNK = 1000


class TargetNotEmpty(RuntimeError):
    """The store to copy into already holds data."""


def copy_store(source: Engine, target: Engine, progress: Callable[[str], None] = lambda message: None) -> dict[str, int]:
    """Copy every table of `source` into `target` (brought to the newest schema first).

    Returns the rows copied per table. Raises TargetNotEmpty when `target` holds any row,
    SyncAlreadyRunning when a sync holds either store's lock."""
    migrate(source)
    migrate(target)
    with sync_lock(source), sync_lock(target):
        filled = _filled_tables(target)
        if filled:
            raise TargetNotEmpty(f"the target store is not empty ({', '.join(filled)}): a copy goes into an empty store only")
        counts: dict[str, int] = {}
        with source.connect() as reading, target.begin() as writing:
            for table in Base.metadata.sorted_tables:  # parents before children (foreign keys)
                counts[table.name] = 0
                rows = reading.execution_options(stream_results=True).execute(select(table)).mappings()
                while chunk := rows.fetchmany(CHUNK):
                    writing.execute(insert(table), [dict(row) for row in chunk])
                    counts[table.name] += len(chunk)
                progress(f"{table.name}: {counts[table.name]} row(s)")
            if writing.dialect.name == "postgresql":
                _advance_id_sequences(writing)
        return counts


def _filled_tables(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [t.name for t in Base.metadata.sorted_tables if connection.scalar(select(func.count()).select_from(t))]


def _advance_id_sequences(connection) -> None:  # type: ignore[no-untyped-def]
    """Rows were inserted with their ids: move each serial counter past the highest one, so
    the next run's rows (sync runs, outbox items) get new ids."""
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if isinstance(column.type, Integer) and len(table.primary_key.columns) == 1:
                sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name})
                if sequence:
                    highest = connection.scalar(select(func.max(column)))
                    if highest is not None:
                        connection.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": highest})
