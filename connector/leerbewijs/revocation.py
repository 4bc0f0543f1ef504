"""Revoking a leerbewijs: set its bit in the W3C Bitstring Status List and republish the list.

A revocation is kept twice, like every value that must only move forward: in the store (the
leerbewijs row's `revoked_at` and `revoked_reason`) and in `issued-values.json` beside the keys,
so a store restored from before the revocation does not un-revoke it. The list's bits are the
union of both. `revoke` is the library entry point for `st-connector leerbewijs revoke` and for
the automatic retraction of issue 16.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.core.config import Config
from connector.core.errors import ConfigError
from connector.leerbewijs.issuer import IssuerProfile, ensure_keys
from connector.leerbewijs.statuslist import publish, publish_replacements, status_list_url
from connector.store.db import migrate, open_engine, session_factory, sync_lock
from connector.store.tables import Leerbewijs
from connector.store.witness import IssuedValues, witness_of


@dataclass(frozen=True)
class Revocation:
    """What `revoke` did: `changed` False when the leerbewijs was already revoked."""

    number: str
    index: int
    changed: bool
    published: bool
    revoked_at: str
    reason: str


def revoked_indices(db: Session, witness: IssuedValues) -> set[int]:
    """Every revoked index the store or the witness knows of (a restore never un-revokes)."""
    indices = {int(entry["index"]) for entry in witness.revoked.values()}
    for row in db.scalars(select(Leerbewijs).where(Leerbewijs.revoked_at.is_not(None))):
        status = (row.content or {}).get("status")
        if status:
            indices.add(int(status["index"]))
    return indices


def republish(config: Config, witness: IssuedValues, revoked: set[int], now: datetime) -> bool:
    """Write the status list beside the keyring when it changed (True then). Nothing before the
    first leerbewijs with a status entry: no keys are made just for an empty list."""
    highest = witness.highest_status_index()
    if highest < 0 and not revoked:
        return False
    keys, _ = ensure_keys(config, now)
    keys_dir = config.path(config.signing.keys_dir)
    replaced = publish_replacements(keys_dir, witness.replacements())
    return publish(keys_dir, status_list_url(config), IssuerProfile.of(config), revoked, highest, keys, now) or replaced


def mark_revoked(row: Leerbewijs, remembered: dict[str, Any] | None, reason: str | None, now: datetime) -> bool:
    """Revoke a leerbewijs row in the session at hand (True when it was not revoked yet). A
    revocation the witness remembers (a store restored from before it) keeps its moment and
    reason. The caller keeps the witness and republishes the list: `revoke` below, or a sync,
    which saves the witness and republishes after committing its plan (issue 16: a leerbewijs
    whose days no longer hold is revoked by the planner and replaced by a corrected one)."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = datetime.fromisoformat(remembered["at"]) if remembered else now
    row.revoked_reason = remembered["reason"] if remembered else (reason or "")
    return True


def revoke(config: Config, number: str, reason: str | None = None, now: datetime | None = None) -> Revocation:
    """Revoke leerbewijs `number`: idempotent (revoking again keeps the first moment and reason)."""
    now = now or datetime.now(UTC)
    keys_dir = config.path(config.signing.keys_dir)
    engine = open_engine(config.store_url)
    try:
        migrate(engine)
        with sync_lock(engine), session_factory(engine)() as db:  # never halfway through a sync
            before = IssuedValues.load(keys_dir)
            row = db.get(Leerbewijs, number)
            remembered = before.revoked.get(number)
            if row is None:
                raise ConfigError([f"no leerbewijs {number} in the store"
                                   + (" (issued before a restore: run a sync first, it re-issues it)" if number in before.leerbewijzen else "")])
            status = (row.content or {}).get("status")
            if not status:
                raise ConfigError([f"leerbewijs {number} was issued before the status list existed: it has no status entry, "
                                   "so verifiers cannot see a revocation (issue a corrected leerbewijs instead)"])
            changed = mark_revoked(row, remembered, reason, now)
            if changed:
                db.flush()
            witness = witness_of(db, before)
            # the witness first, then the store, then the list: a crash in between leaves it revoked somewhere durable
            witness.save(keys_dir)
            db.commit()
            published = republish(config, witness, revoked_indices(db, witness), now)
            assert row.revoked_at is not None
            return Revocation(number, int(status["index"]), changed, published, row.revoked_at.isoformat(timespec="seconds"),
                              row.revoked_reason or "")
    finally:
        engine.dispose()
