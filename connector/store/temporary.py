"""Temporary tables: a run's working sets kept in the store instead of in Python.

A complete pull remembers every remote id it saw (to mark whoever is absent removed, and to say
where a duplicate was first seen); reconcile remembers every person it touched (to merge them
and resolve their managers). Held in Python, such sets grow with the tenant (about 550 bytes a
person, 50 MB at 100,000 people); in a temporary table they cost the store's pages, and Python
holds one chunk at a time.

A temporary table belongs to one connection (SQLite: its `temp` schema, PostgreSQL: the
session's `pg_temp` schema), so runs never see each other's. Within a run, the session's one
connection makes them, for one pull or one organisation's reconcile at a time: sources are
read ahead in threads, but only the run's own thread uses the store (engine/prefetch.py), so a
fixed name cannot collide. Made inside the run's transaction, a table also goes with a
rollback (a dry run, a failed run).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, Table, any_, bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def create(db: Session, table: Table) -> Table:
    """Make `table` (declared with prefixes=["TEMPORARY"]) empty and new on the session's
    connection. One left behind by a step that failed on the same connection is dropped first."""
    drop(db, table, if_exists=True)
    table.create(db.connection())
    return table


def drop(db: Session, table: Table, if_exists: bool = False) -> None:
    """Drop the temporary `table` (schema-qualified: a store table of the same name is never hit)."""
    db.execute(text(f"DROP TABLE {'IF EXISTS ' if if_exists else ''}{_schema(db)}.{table.name}"))


def add(db: Session, table: Table, rows: Sequence[Sequence[str]], keep_present: bool = False) -> None:
    """Insert `rows` (one text per column of the table, in its order) into the temporary
    `table`; with `keep_present`, a row whose key is there already is left out (else such a row
    is an error). PostgreSQL: one INSERT ... SELECT FROM unnest(one array per column), since
    psycopg's executemany sends each row on its own (about 15 µs of client CPU a row, as much as
    a record's mapping); SQLite: one executemany."""
    if not rows:
        return
    names = [column.name for column in table.columns]
    if db.get_bind().dialect.name == "postgresql":
        arrays = ", ".join(f"CAST(:{name} AS text[])" for name in names)
        statement = f"INSERT INTO pg_temp.{table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
        db.execute(text(statement + (" ON CONFLICT DO NOTHING" if keep_present else "")),
                   {name: [row[position] for row in rows] for position, name in enumerate(names)})
    else:
        insert = sqlite.insert(table)
        db.execute(insert.on_conflict_do_nothing() if keep_present else insert, [dict(zip(names, row)) for row in rows])


def one_of(db: Session, column: Any, values: Collection[str]) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(array)`: one parameter, where an IN of
    500 makes psycopg parse a new statement text each time."""
    if db.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(String)))
    return column.in_(values)


def insert_new(db: Session, table: Table) -> Any:
    """INSERT INTO table ... ON CONFLICT DO NOTHING: rows whose key is there already are left."""
    dialect_insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    return dialect_insert(table).on_conflict_do_nothing()


def _schema(db: Session) -> str:
    return "pg_temp" if db.get_bind().dialect.name == "postgresql" else "temp"
