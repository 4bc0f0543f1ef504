"""Set-based writes that SQLite and PostgreSQL both do natively: INSERT ... ON CONFLICT.

SQLAlchemy's dialect insert constructs (sqlalchemy.dialects.sqlite.insert and
sqlalchemy.dialects.postgresql.insert) write the same statement for both; executed with a
list of parameter sets, SQLAlchemy sends it as multi-row VALUES batches ("insertmanyvalues"),
one round trip per batch instead of one per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert_statement(db: Session, table: Table, keys: Sequence[str], columns: Sequence[str]) -> Any:
    """INSERT INTO table ... ON CONFLICT (keys) DO UPDATE SET column = excluded.column, for
    each of `columns` (what is not named keeps its stored value on a conflict)."""
    name = db.get_bind().dialect.name
    dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
    statement = dialect_insert(table)
    return statement.on_conflict_do_update(index_elements=[table.c[k] for k in keys],
                                           set_={c: statement.excluded[c] for c in columns})
