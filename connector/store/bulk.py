"""Set-based writes that SQLite and PostgreSQL both do natively: INSERT ... ON CONFLICT.

SQLAlchemy's dialect insert constructs (sqlalchemy.dialects.sqlite.insert and
sqlalchemy.dialects.postgresql.insert) write the same statement for both; executed with a
list of parameter sets, SQLAlchemy sends it as multi-row VALUES batches ("insertmanyvalues"),
one round trip per batch instead of one per row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


class JSONText:
    """A value for a JSON column that is already JSON text (json.dumps with its defaults), so
    the store writes it as it is instead of parsing and writing it again (a raw record is
    written to text once, to be hashed). Not a str: an engine opened without `store_json`
    fails on it (TypeError) rather than storing the text as one JSON string."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def store_json(value: Any) -> str:
    """The store's JSON serializer (create_engine(json_serializer=...); SQLite and psycopg both
    use it): json.dumps, as SQLAlchemy's default, except for `JSONText`."""
    return value.text if type(value) is JSONText else json.dumps(value)


def upsert_statement(db: Session, table: Table, keys: Sequence[str], columns: Sequence[str]) -> Any:
    """INSERT INTO table ... ON CONFLICT (keys) DO UPDATE SET column = excluded.column, for
    each of `columns` (what is not named keeps its stored value on a conflict)."""
    name = db.get_bind().dialect.name
    dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
    statement = dialect_insert(table)
    return statement.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                           set_={c: statement.excluded[c] for c in columns})


def update_rows(db: Session, table: Table, rows: Sequence[dict[str, Any]], key: str = "id") -> None:
    """UPDATE table SET ... WHERE key = ..., one executemany per set of columns changed
    (each row: the key and the columns it changes). Core, not the ORM's bulk update: no
    identity map to keep, a third of the work per row."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(c for c in row if c != key)), []).append(row)
    for columns, group in groups.items():
        statement = table.update().where(table.c[key] == bindparam(f"_{key}")).values({c: bindparam(f"_{c}") for c in columns})
        db.execute(statement, [{f"_{c}": v for c, v in row.items()} for row in group])


FIRST_ANALYZE = 5_000  # rows written before the first ANALYZE of a run; then each time the table has doubled


def wrote(db: Session, table: Table, rows: int) -> None:
    """Count rows written to `table` in this session; on PostgreSQL, refresh the table's
    statistics when they have fallen far behind.

    PostgreSQL plans each query by its statistics, which autovacuum refreshes only after a
    commit; a first sync fills source_records and people inside one transaction, so without
    this the planner keeps taking them for empty and answers `remote_id IN (500 ids)` by
    walking every row of the source (a first sync of 50,000 people took 12 minutes of server
    time). ANALYZE inside the transaction sees the rows it wrote; run when the table has
    doubled since, it is run about log2(N / 5,000) times (each well under a second)."""
    if rows <= 0 or db.get_bind().dialect.name != "postgresql":
        return
    counts = db.info.setdefault("rows_written", {})
    written, analyzed = counts.get(table.name, (0, 0))
    written += rows
    if written - analyzed >= max(FIRST_ANALYZE, analyzed):
        db.execute(text(f'ANALYZE "{table.name}"'))
        analyzed = written
    counts[table.name] = (written, analyzed)
