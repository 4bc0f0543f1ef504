"""Opening the store, bringing its schema up to date, and the one-sync-at-a-time lock.

A crash must never leave a half-made schema. PostgreSQL runs DDL inside transactions; SQLite
does too, but Python's sqlite3 module commits before every CREATE or ALTER unless it is told
to leave transactions alone. So on SQLite the migration runs on a connection of its own in
one explicit `BEGIN IMMEDIATE ... COMMIT`: a kill at any DDL statement leaves the store as
it was before, and the next run migrates it from there."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, func, inspect, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from connector.plumbing.killpoint import armed, reached
from connector.store.bulk import store_json
from connector.store.tables import Base

MIGRATIONS = Path(__file__).parent / "migrations"


class SyncAlreadyRunning(RuntimeError):
    """Another sync holds the lock on this store."""


class StoreNotUsable(RuntimeError):
    """The store answers, but the connector's role lacks a privilege a sync needs; the message
    names the GRANT that gives it."""


def require_privileges(engine: Engine) -> None:
    """Raise StoreNotUsable unless a sync can work in this store.

    PostgreSQL: a sync keeps its working sets (what a pull has seen, the people a reconcile
    touched) in temporary tables (store/temporary.py), which need the TEMPORARY privilege on the
    database. PostgreSQL grants it to everyone by default; a locked-down database may not.
    Checked before anything is written, so such a store fails with the GRANT to run, not
    halfway through a pull. SQLite: nothing to check."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        role, database, allowed = connection.execute(text(
            "SELECT current_user, current_database(), has_database_privilege(current_database(), 'TEMPORARY')")).one()
    if not allowed:
        raise StoreNotUsable(f'role "{role}" may not create temporary tables in database "{database}", which a sync needs '
                             f'for its working sets; as the database\'s owner run: GRANT TEMPORARY ON DATABASE "{database}" TO "{role}"')


def open_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, json_serializer=store_json)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, json_serializer=store_json)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # WAL lets `report` read while a sync writes; foreign keys are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision, all of it in one transaction; a no-op when it
    already is. Two processes migrating at once take turns (SQLite: BEGIN IMMEDIATE;
    PostgreSQL: a transaction-level advisory lock), so the second finds the work done."""
    if _at_head(engine):
        return  # the common case, without importing Alembic (half a second of every sync)
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    migrating = _transactional_sqlite(engine) if _file_sqlite(engine) else engine
    try:
        with migrating.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _advisory_key(connection, "migrate")})
            if armed("ddl"):
                event.listen(connection, "after_cursor_execute", _ddl_reached)
            _drop_half_made_schema(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        if migrating is not engine:
            migrating.dispose()


def head_revision() -> str | None:
    """The newest revision among the migration scripts (read as text: `revision = "..."`
    and `down_revision = "..."`), or None if they do not form one line."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        source = script.read_text(encoding="utf-8")
        revision = re.search(r"^revision\s*=\s*['\"]([^'\"]+)['\"]", source, re.MULTILINE)
        parent = re.search(r"^down_revision\s*=\s*['\"]([^'\"]+)['\"]", source, re.MULTILINE)
        if revision is None:
            return None
        revisions.add(revision.group(1))
        if parent is not None:
            parents.add(parent.group(1))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _at_head(engine: Engine) -> bool:
    """Whether the store's recorded schema version is the newest one (nothing to migrate)."""
    head = head_revision()
    if head is None:
        return False
    try:
        with engine.connect() as connection:
            versions = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:  # a new store: no version table yet
        return False
    return versions == [head]


def _drop_half_made_schema(connection: Connection) -> None:
    """Earlier versions ran SQLite DDL statement by statement, so a first run killed while
    creating the schema left some tables and no schema version, and every later run failed
    with "table ... already exists". Such a store never held anything: when no version is
    recorded and every table of ours in it is empty, drop them so the migration starts over."""
    present = set(inspect(connection).get_table_names())
    ours = [table for table in reversed(Base.metadata.sorted_tables) if table.name in present]
    if not ours:
        return
    if "alembic_version" in present and connection.execute(text("SELECT count(*) FROM alembic_version")).scalar():
        return
    if any(connection.execute(select(func.count()).select_from(table)).scalar() for table in ours):
        return
    for table in ours:
        table.drop(connection)
    for leftover in present:
        if leftover.startswith("_alembic_tmp_"):  # a batch alteration's copy
            connection.execute(text(f'DROP TABLE "{leftover}"'))


def _file_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


def _transactional_sqlite(engine: Engine) -> Engine:
    """An engine on the same SQLite file whose transactions include DDL: the driver's own
    transaction handling is switched off and every transaction opens with BEGIN IMMEDIATE
    (the SQLAlchemy documentation's recipe for pysqlite, "Serializable isolation / Savepoints
    / Transactional DDL"). Immediate, so that a second migrator waits before reading the
    schema version instead of after."""
    migrating = create_engine(engine.url, poolclass=NullPool, connect_args={"timeout": 30})

    def connected(dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
        _sqlite_pragmas(dbapi_connection, record)
        dbapi_connection.isolation_level = None

    event.listen(migrating, "connect", connected)
    event.listen(migrating, "begin", lambda connection: connection.exec_driver_sql("BEGIN IMMEDIATE"))
    return migrating


def _ddl_reached(connection: Connection, cursor, statement: str, *args) -> None:  # type: ignore[no-untyped-def]
    if statement.lstrip().split(" ", 1)[0].upper() in ("CREATE", "ALTER", "DROP"):
        reached("ddl")


def _advisory_key(connection: Connection, purpose: str) -> int:
    """A PostgreSQL advisory-lock key for this store: its schema, so that two stores in two
    schemas of one database do not share it (advisory locks are per database already)."""
    schema = connection.execute(text("SELECT current_schema()")).scalar() or ""
    return int.from_bytes(hashlib.sha256(f"st-connector {purpose}|{schema}".encode()).digest()[:8], "big", signed=True)


def transaction_lock(db: Session, purpose: str) -> None:
    """Hold, until `db`'s transaction ends, the store's lock named `purpose` (e.g. "plan EX-04"),
    waiting while another transaction holds it. PostgreSQL: a transaction advisory lock on
    this store's schema and `purpose`, so only holders of the same name wait for each other.
    SQLite: the database's one write lock (taken by a write that changes nothing), which every
    write needs anyway; it waits as long as the engine's busy timeout."""
    if db.get_bind().dialect.name == "postgresql":
        connection = db.connection()
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _advisory_key(connection, purpose)})
    else:
        db.execute(text("DELETE FROM alembic_version WHERE 1 = 0"))  # every migrated store has this table


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def sync_lock(engine: Engine) -> Iterator[None]:
    """Hold the store's sync lock, or raise SyncAlreadyRunning at once.

    PostgreSQL: a session advisory lock keyed by the store's schema, so syncs on different
    machines sharing one store exclude each other while two stores in two schemas of one
    database do not (advisory locks are per database already). SQLite: an flock on a file
    beside the database. Both are released by the operating system or the server if the
    process dies.
    """
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            key = _advisory_key(connection, "sync")
            got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            if not got:
                raise SyncAlreadyRunning("another sync is running on this PostgreSQL store")
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                connection.commit()
        return
    database = engine.url.database or ""
    lock_path = Path(f"{database}.lock") if database and database != ":memory:" else None
    if lock_path is None:
        yield
        return
    handle = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncAlreadyRunning(f"another sync is running on {database}") from None
        yield
    finally:
        os.close(handle)
