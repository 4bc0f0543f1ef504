"""The data check (`st-connector check --data`): every source read as `sync` reads it, every
data problem reported at once, nothing written anywhere.

It pulls, reconciles and plans inside one transaction that is rolled back: references,
headers, formats, plausibility and the removal guard give the same problems a sync would,
and the store, the outputs and the signing keys stay as they were (no keys are made). When
there is no store yet (a first run), or its schema is older than this version's, the check
runs against an empty store in memory instead, so it never creates or upgrades one; the
guard then has nothing to compare with, which a warning says.

`sync --dry-run` is something else: what the next sync would write (planned invitations,
training records, leerbewijzen); it runs the same steps but is about the writes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from connector.core.config import Config
from connector.core.errors import Problem
from connector.core.texts import overriding
from connector.engine.pull import RemovalGuard
# sync's own steps, not a copy of them: the check cannot drift from what a sync does.
from connector.engine.sync import Progress, Summary, _prepare, _status, build_sources, build_targets
from connector.plumbing.runtime import Runtime
from connector.store.db import MIGRATIONS, StoreNotUsable, migrate, open_engine, require_privileges, session_factory
from connector.store.outbox import utcnow
from connector.store.tables import SyncRun

IN_MEMORY = "sqlite:///:memory:"


def check_data(config: Config, as_of: datetime | None = None, progress: Progress = lambda message: None) -> Summary:
    """Every data problem of the next sync, as a dry-run Summary (status ok or partial; its
    `errors` hold problems and warnings alike). Raises ConfigError as `sync` would."""
    with overriding(config.catalog_dir):
        now = as_of or utcnow()
        runtime = Runtime(config, now)  # no signing keys: planning needs none, and none are made
        sources = build_sources(runtime)
        targets, _ = build_targets(runtime)
        engine, notice, fails = _readable_store(config)
        summary = Summary(dry_run=True, as_of=now.isoformat())
        if notice:
            summary.errors.append(Problem("store", "(store)", "(store)", "", notice, warning=not fails))
        try:
            if engine.url.database == ":memory:":
                migrate(engine)  # the empty stand-in, never the real store
            with session_factory(engine)() as db:
                run = SyncRun(started_at=utcnow(), as_of=now, dry_run=True, status="running")
                db.add(run)
                db.flush()
                guard = RemovalGuard(config.guards.max_removed_share, config.guards.always_allowed_removals)
                _prepare(db, config, run.id, now, sources, targets, summary, progress, lambda: False, guard)
                db.rollback()  # nothing of the check stays
        finally:
            engine.dispose()
        summary.status = _status(summary)
        return summary


def _readable_store(config: Config) -> tuple[Engine, str | None, bool]:
    """The configured store when it exists at this version's schema and a sync can work in it;
    else an empty one in memory, a sentence saying why, and whether a sync would fail on it."""
    url = make_url(config.store_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        if not Path(url.database or "").exists():
            return open_engine(IN_MEMORY), "no store yet (a first sync): checked without earlier records", False
    engine = open_engine(config.store_url)
    if not inspect(engine).has_table("alembic_version") or not _at_head(engine):
        engine.dispose()
        return open_engine(IN_MEMORY), "the store is empty or older than this version: checked without earlier records", False
    try:
        require_privileges(engine)
    except StoreNotUsable as error:
        engine.dispose()
        return open_engine(IN_MEMORY), f"{error}; until then a sync fails: checked without earlier records", True
    return engine, None, False


def _at_head(engine: Engine) -> bool:
    alembic = AlembicConfig()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    heads = set(ScriptDirectory.from_config(alembic).get_heads())
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads()) == heads
