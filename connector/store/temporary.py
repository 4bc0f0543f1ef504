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

from typing import Any

from sqlalchemy import Table, text
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
    schema = "pg_temp" if db.get_bind().dialect.name == "postgresql" else "temp"
    db.execute(text(f"DROP TABLE {'IF EXISTS ' if if_exists else ''}{schema}.{table.name}"))


def insert_new(db: Session, table: Table) -> Any:
    """INSERT INTO table ... ON CONFLICT DO NOTHING: rows whose key is there already are left."""
    dialect_insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    return dialect_insert(table).on_conflict_do_nothing()
