"""The store on SQLite and on the real PostgreSQL server: schema, time zones, the lock."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import inspect, select

from connector.store.db import (
    SyncAlreadyRunning,
    migrate,
    open_engine,
    session_factory,
    sync_lock,
)
from connector.store.tables import Base, Cursor


def test_migrations_create_every_table_and_run_twice_harmlessly(store_url):
    engine = open_engine(store_url)
    migrate(engine)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables and "alembic_version" in tables


def test_moments_come_back_as_the_same_instant_in_utc(store_url):
    engine = open_engine(store_url)
    migrate(engine)
    brussels = datetime(2026, 3, 29, 3, 30, tzinfo=ZoneInfo("Europe/Brussels"))  # just after the spring switch
    with session_factory(engine).begin() as db:
        db.add(Cursor(source="s", entity="people", value="v", updated_at=brussels))
    with session_factory(engine)() as db:
        stored = db.scalar(select(Cursor.updated_at))
    engine.dispose()
    assert stored == brussels and stored.tzinfo == UTC and stored.hour == 1


def test_naive_moments_are_refused(store_url):
    engine = open_engine(store_url)
    migrate(engine)
    with pytest.raises(Exception, match="naive datetime"):
        with session_factory(engine).begin() as db:
            db.add(Cursor(source="s", entity="people", value="v", updated_at=datetime(2026, 1, 1)))
            db.flush()
    engine.dispose()


def test_only_one_sync_holds_the_lock_and_it_is_released(store_url):
    first, second = open_engine(store_url), open_engine(store_url)
    migrate(first)
    with sync_lock(first):
        with pytest.raises(SyncAlreadyRunning):
            with sync_lock(second):
                pass
    with sync_lock(second):
        pass
    first.dispose()
    second.dispose()


@pytest.mark.postgres
def test_two_stores_in_two_schemas_of_one_database_do_not_block_each_other():
    from tests.conftest import _postgres_schema_url

    first_urls, second_urls = _postgres_schema_url(), _postgres_schema_url()
    first, second = open_engine(next(first_urls)), open_engine(next(second_urls))
    try:
        with sync_lock(first):
            with sync_lock(second):  # another store: its own lock
                pass
            with pytest.raises(SyncAlreadyRunning):
                with sync_lock(open_engine(first.url)):  # the same store: refused
                    pass
    finally:
        first.dispose()
        second.dispose()
        for urls in (first_urls, second_urls):
            next(urls, None)  # drop the schema


def test_a_write_refused_for_an_unknown_switcher_passes_no_doubt_to_its_replacement(store_url):
    """Sinks that need the switcher's id refuse an item without one before any request; the
    item planned once the id is known must not be held as 'may have landed' (SuccessFactors
    Learning, which cannot be asked, would hold it for a person)."""
    from connector.store.outbox import claim, enqueue
    from connector.store.tables import OutboxItem, SyncRun

    engine = open_engine(store_url)
    migrate(engine)
    with session_factory(engine).begin() as db:
        run = SyncRun(started_at=datetime(2026, 11, 22, tzinfo=UTC), as_of=datetime(2026, 11, 22, tzinfo=UTC), status="running")
        db.add(run)
        db.flush()
        unknown = enqueue(db, run.id, "t", "training_record", "exchange:S-1", {"date": "2026-01-05", "employee_id": None})
        claim([unknown])  # tried, refused by the sink: nobody to write for
        known = enqueue(db, run.id, "t", "training_record", "exchange:S-1", {"date": "2026-01-05", "employee_id": "Z005"})
        claim([known])  # sent, then the process died before the booking
        changed = enqueue(db, run.id, "t", "training_record", "exchange:S-1", {"date": "2026-01-06", "employee_id": "Z005"})
        flags = [db.get(OutboxItem, item.id).uncertain for item in (known, changed)]
    engine.dispose()
    assert flags == [False, True]


def test_a_store_half_made_by_an_earlier_version_is_migrated_from_scratch(tmp_path):
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'connector.db'}"
    engine = open_engine(url)
    with engine.begin() as connection:  # what a kill during the first run of an earlier version left
        connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        for name in ("organisations", "cursors"):
            Base.metadata.tables[name].create(connection)
    migrate(engine)  # was: "table cursors already exists", on every run
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    with session_factory(engine)() as db:
        db.add(Cursor(source="s", entity="people", value="1", updated_at=datetime.now(UTC)))
        db.commit()
    engine.dispose()


def test_a_store_with_data_but_no_version_is_left_alone(tmp_path):
    from sqlalchemy import text

    engine = open_engine(f"sqlite:///{tmp_path / 'connector.db'}")
    with engine.begin() as connection:
        Base.metadata.tables["cursors"].create(connection)
        connection.execute(text("INSERT INTO cursors (source, entity, value, updated_at) VALUES ('s', 'people', '1', '2026-01-01')"))
    with pytest.raises(Exception, match="already exists"):
        migrate(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cursors")).scalar() == 1
    engine.dispose()


@pytest.fixture
def database_without_temporary():  # type: ignore[no-untyped-def]
    """A database of its own on the test server whose login role may connect and create tables
    but not temporary ones (REVOKE TEMPORARY FROM PUBLIC, as a locked-down production database
    may be); yields (url of that role, a function granting it TEMPORARY). Dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests.conftest import POSTGRES_URL

    if not POSTGRES_URL:
        pytest.skip("ST_TEST_POSTGRES_URL is not set")
    name = f"st_notemp_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{name}" LOGIN'))
        connection.execute(text(f'CREATE DATABASE "{name}" OWNER postgres'))
        connection.execute(text(f'REVOKE TEMPORARY ON DATABASE "{name}" FROM PUBLIC'))
    inside = create_engine(make_url(POSTGRES_URL).set(database=name), isolation_level="AUTOCOMMIT")
    with inside.connect() as connection:
        connection.execute(text(f'GRANT CREATE, USAGE ON SCHEMA public TO "{name}"'))
    inside.dispose()

    def grant() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'GRANT TEMPORARY ON DATABASE "{name}" TO "{name}"'))

    try:
        yield make_url(POSTGRES_URL).set(database=name, username=name).render_as_string(hide_password=False), grant
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.mark.postgres
def test_a_role_without_temporary_tables_is_told_the_grant_before_anything_is_written(database_without_temporary, tmp_path, capsys):
    """A sync keeps its working sets in temporary tables; where the role may not make them, sync
    and `check --data` say which GRANT to run, and nothing is written to the store."""
    from sqlalchemy import inspect

    from connector.cli import main
    from tests.conftest import Network

    url, grant = database_without_temporary
    network = Network(tmp_path, url)
    assert main(["sync", "--config", str(network.config_path), "--as-of", "2026-11-22"]) == 3
    said = capsys.readouterr().err
    assert "may not create temporary tables" in said and "GRANT TEMPORARY ON DATABASE" in said, said
    engine = open_engine(url)
    assert inspect(engine).get_table_names() == []  # refused before the schema was made
    engine.dispose()
    grant()
    assert main(["sync", "--config", str(network.config_path), "--as-of", "2026-11-22", "--quiet"]) == 0
    # The store now exists; take the privilege away again: check --data names it as an error.
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests.conftest import POSTGRES_URL

    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'REVOKE TEMPORARY ON DATABASE "{make_url(url).database}" FROM "{make_url(url).username}"'))
    admin.dispose()
    capsys.readouterr()
    assert main(["check", "--data", "--config", str(network.config_path), "--json"]) != 0
    report = capsys.readouterr().out
    assert "GRANT TEMPORARY ON DATABASE" in report, report
