"""Moving the store from SQLite to the real PostgreSQL server with `st-connector store copy`:
the next sync on the new store writes nothing, and moves still carry higher SEQUENCEs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from connector.store.copy import TargetNotEmpty, copy_store
from connector.store.db import migrate, open_engine
from connector.store.tables import ExternalRef, OutboxItem, SyncRun
from tests.test_cli import cli
from tests.test_sync import sync, vevent, writes


def count(url: str, table) -> int:  # type: ignore[no-untyped-def]
    engine = open_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count()).select_from(table)) or 0)
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_a_store_moved_from_sqlite_to_postgresql_writes_nothing_again(sqlite_network, postgres_url, monkeypatch):
    network = sqlite_network
    first = sync(network)
    assert writes(first) > 0
    monkeypatch.setenv("ST_TEST_NEW_STORE", postgres_url)
    result = cli("store", "copy", "--config", str(network.config_path), "--to", "${ST_TEST_NEW_STORE}")
    assert result.returncode == 0, result.stderr
    assert "Copied" in result.stdout and postgres_url.split("@")[-1].split("?")[0] in result.stdout
    for table in (ExternalRef, OutboxItem, SyncRun):
        assert count(postgres_url, table) == count(network.store_url, table) > 0
    network.replace(f'url = "{network.store_url}"', f'url = "{postgres_url}"')
    network.store_url = postgres_url
    assert writes(sync(network)) == 0  # the new store knows what every target holds
    network.edit_csv("cohort/sessies.csv", "S-04-D1;EX-04;uitwisselingsdag;11/05/2027;08:30", "S-04-D1;EX-04;uitwisselingsdag;11/05/2027;08:00")
    moved = sync(network)
    assert moved.invites["updated"] == 1
    _, event = vevent(network, "S-04-D1")
    assert int(event["SEQUENCE"]) >= 1
    # A second copy into the now filled store is refused: a copy never merges.
    with pytest.raises(TargetNotEmpty):
        copy_store(open_engine(f"sqlite:///{network.root / 'state' / 'connector.db'}"), open_engine(postgres_url))


def test_copy_refuses_a_target_that_holds_data(sqlite_network, tmp_path):
    sync(sqlite_network)
    target = open_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(target)
    copy_store(open_engine(sqlite_network.store_url), target)
    result = cli("store", "copy", "--config", str(sqlite_network.config_path), "--to", f"sqlite:///{tmp_path / 'other.db'}")
    assert result.returncode == 3 and "not empty" in result.stderr and "Traceback" not in result.stderr


def test_a_relative_sqlite_target_is_taken_from_the_configurations_folder_owner_only(sqlite_network, tmp_path):
    """Found by a new user: the copy landed in the current folder, readable by all, while
    [store] url = "sqlite:///copy.db" then named an empty store beside the configuration."""
    import os

    sync(sqlite_network)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli("store", "copy", "--config", str(sqlite_network.config_path), "--to", "sqlite:///moved/copy.db", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    copied = sqlite_network.config_path.parent / "moved" / "copy.db"
    assert copied.exists() and not (elsewhere / "moved").exists()
    assert (os.stat(copied).st_mode & 0o777, os.stat(copied.parent).st_mode & 0o777) == (0o600, 0o700)
    assert count(f"sqlite:///{copied}", OutboxItem) == count(sqlite_network.store_url, OutboxItem) > 0
    itself = cli("store", "copy", "--config", str(sqlite_network.config_path), "--to", sqlite_network.store_url)
    assert itself.returncode == 3 and "already uses" in itself.stderr
