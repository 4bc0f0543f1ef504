"""Values that must only move forward, remembered outside the store as well.

The store decides every invitation's SEQUENCE and every leerbewijs number. Restored from
yesterday's backup, or replaced by an empty one, it would hand out numbers that were already
used: an update no higher than what attendees hold (their calendars ignore it), a leerbewijs
number given to a second exchange, a leerbewijs issued twice. So each run also writes the
highest values it handed out into a small file beside the issuer's keys (`issued-values.json`
in [signing] keys_dir, which is backed up on its own and rarely restored), the way a
certificate authority keeps its serial file beside its keys. A store found behind that file
continues above it.

The same holds for revocation (W3C Bitstring Status List, connector/leerbewijs/statuslist.py):
a status-list index handed out is never handed out again, and a revoked leerbewijs stays revoked
however old the store that comes back.

Shape: {"sequence": highest SEQUENCE/version planned for any object (-1: none),
        "leerbewijzen": {number: {"exchange": code, "issued_on": ISO date, "fingerprint": hex,
                                  "status_index": int, "status_list": URL (both absent before the status list),
                                  "replaces": number (a corrected leerbewijs: the revoked one it replaces),
                                  "holder": person id (a coach's leerbewijs only)}},
        "revoked": {number: {"index": int, "reason": text, "at": ISO moment}}}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.plumbing.files import write_atomically
from connector.store.outbox import utcnow as _utcnow
from connector.store.tables import Cursor, Leerbewijs, OutboxItem

FILE_NAME = "issued-values.json"
SEQUENCE_FLOOR = "sequence_floor"  # Session.info keys read by outbox.enqueue
STORE_BEHIND = "store_behind"  # found behind in this run: what it does not know may be in the targets
_FLOOR_ROW = ("(store)", "sequence floor")  # a store found behind the witness keeps its floor here


@dataclass
class IssuedValues:
    sequence: int = -1
    leerbewijzen: dict[str, dict[str, Any]] = field(default_factory=dict)
    revoked: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, keys_dir: Path) -> IssuedValues:
        path = keys_dir / FILE_NAME
        if not path.exists():
            return cls()
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return cls(int(document.get("sequence", -1)), dict(document.get("leerbewijzen", {})), dict(document.get("revoked", {})))

    def save(self, keys_dir: Path) -> None:
        document: dict[str, Any] = {"sequence": self.sequence, "leerbewijzen": dict(sorted(self.leerbewijzen.items()))}
        if self.revoked:
            document["revoked"] = dict(sorted(self.revoked.items()))
        write_atomically(keys_dir / FILE_NAME, json.dumps(document, indent=1, ensure_ascii=False).encode("utf-8"), private=True)

    def highest_status_index(self) -> int:
        """The highest status-list index ever handed out, -1 if none."""
        return max((int(e["status_index"]) for e in self.leerbewijzen.values() if e.get("status_index") is not None), default=-1)

    def for_exchange(self, exchange_code: str, holder: str | None = None) -> tuple[str, dict[str, Any]] | None:
        """The leerbewijs this witness saw issued for an exchange (the newest), if any: the
        switcher's, or with `holder` (a coach's person id) that coach's."""
        found = [(number, entry) for number, entry in self.leerbewijzen.items()
                 if entry.get("exchange") == exchange_code and entry.get("holder") == holder]
        return max(found) if found else None

    def replacements(self) -> dict[str, str]:
        """Revoked number -> the corrected leerbewijs issued in its place."""
        return {str(entry["replaces"]): number for number, entry in sorted(self.leerbewijzen.items()) if entry.get("replaces")}

    def highest_number(self, prefix: str) -> int:
        """The highest serial issued under `prefix` ("LB-2026-"), 0 if none."""
        return max((int(n[len(prefix):]) for n in self.leerbewijzen if n.startswith(prefix) and n[len(prefix):].isdigit()), default=0)


def continue_above(db: Session, witness: IssuedValues) -> int:
    """Set the session's sequence floor: above the witness when the store is behind it (a
    restored or empty store), kept in the store from then on. Returns the floor (0: none)."""
    highest = db.scalar(select(func.max(OutboxItem.sequence)))
    row = db.get(Cursor, _FLOOR_ROW)
    floor = int(row.value) if row is not None else 0
    if witness.sequence >= 0 and (highest is None or highest < witness.sequence) and floor <= witness.sequence:
        floor = witness.sequence + 1
        if row is None:
            db.add(Cursor(source=_FLOOR_ROW[0], entity=_FLOOR_ROW[1], value=str(floor), updated_at=_utcnow()))
        else:
            row.value, row.updated_at = str(floor), _utcnow()
        db.info[STORE_BEHIND] = True
    db.info[SEQUENCE_FLOOR] = floor
    return floor


def keep_sequence_floor(db: Session) -> None:
    """Before outbox rows are deleted on purpose (an erasure): keep the floor above the highest
    sequence handed out, so the next run neither numbers below it nor takes the store for a
    restored backup."""
    highest = db.scalar(select(func.max(OutboxItem.sequence)))
    if highest is None:
        return
    row = db.get(Cursor, _FLOOR_ROW)
    if row is None:
        db.add(Cursor(source=_FLOOR_ROW[0], entity=_FLOOR_ROW[1], value=str(highest + 1), updated_at=_utcnow()))
    elif int(row.value) <= highest:
        row.value, row.updated_at = str(highest + 1), _utcnow()


def witness_of(db: Session, before: IssuedValues) -> IssuedValues:
    """What the witness must hold after this run's planning: never less than before."""
    highest = db.scalar(select(func.max(OutboxItem.sequence)))
    issued = dict(before.leerbewijzen)
    revoked = dict(before.revoked)
    for leerbewijs in db.scalars(select(Leerbewijs)):
        # what the witness knew stays (a status index is never forgotten), what the store says is added
        entry: dict[str, Any] = {**issued.get(leerbewijs.number, {}), "exchange": leerbewijs.exchange_code,
                                 "issued_on": leerbewijs.issued_on.isoformat(), "fingerprint": leerbewijs.fingerprint}
        status = (leerbewijs.content or {}).get("status")
        if status:
            entry.update(status_index=int(status["index"]), status_list=status["list"])
            if leerbewijs.revoked_at is not None and leerbewijs.number not in revoked:
                revoked[leerbewijs.number] = {"index": int(status["index"]), "reason": leerbewijs.revoked_reason or "",
                                              "at": leerbewijs.revoked_at.isoformat(timespec="seconds")}
        if leerbewijs.replaces:
            entry["replaces"] = leerbewijs.replaces
        if leerbewijs.role == "coach":  # a coach's own leerbewijs (coach_learning): whose it is
            entry["holder"] = leerbewijs.holder_id
        issued[leerbewijs.number] = entry
    return IssuedValues(max(before.sequence, highest if highest is not None else -1), issued, revoked)
