"""The outbox: every external write is planned here first, then delivered by a sink.

Planning compares what a target should hold with what we last applied there
(external_refs) and with what is already waiting. The idempotency key is
target|object type|object id|SEQUENCE, so planning the same change twice plans it once,
and a crash between a remote write and our bookkeeping only ever repeats the same
write, which sinks make harmless (same file bytes, same UID and SEQUENCE, the remote
system's own idempotency).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from connector.store.tables import ExternalRef, OutboxItem

OPEN = ("pending",)


# Records the connector writes into an HR system carry this in a free-text field, so the
# write-back finds them again after a crash and the source never reads them as more training.
REFERENCE = "st-ref:"


def content_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def enqueue(
    db: Session,
    run_id: int,
    target: str,
    object_type: str,
    object_id: str,
    payload: dict[str, Any],
    action: str = "upsert",
    volatile: Callable[[int], dict[str, Any]] | None = None,
) -> OutboxItem | None:
    """Plan a write unless the target already holds (or is about to get) this content.

    `volatile` adds what must not count as a change (a DTSTAMP, the SEQUENCE itself); it
    receives the sequence number this write will carry.
    """
    digest = content_hash({"action": action, **payload})
    ref = db.get(ExternalRef, (target, object_type, object_id))
    waiting = list(
        db.scalars(
            select(OutboxItem).where(
                OutboxItem.target == target,
                OutboxItem.object_type == object_type,
                OutboxItem.object_id == object_id,
                OutboxItem.status.in_(OPEN),
            )
        )
    )
    if any(item.payload_hash == digest for item in waiting):
        return None
    uncertain = any((item.attempts > 0 or item.uncertain) and _could_have_been_sent(item) for item in waiting)
    for item in waiting:
        item.status = "superseded"
    if ref is not None and ref.applied_hash == digest:
        return None
    highest = db.scalar(
        select(func.max(OutboxItem.sequence)).where(
            OutboxItem.target == target, OutboxItem.object_type == object_type, OutboxItem.object_id == object_id
        )
    )
    known = [s for s in (highest, ref.sequence if ref else None) if s is not None]
    # A store found behind the values it already handed out (restored, replaced) continues
    # above them (connector/store/witness.py), so no target ever sees a number again.
    floor = int(db.info.get("sequence_floor", 0))
    sequence = max(max(known) + 1, floor) if known else floor
    body = {**payload, **(volatile(sequence) if volatile else {})}
    item = OutboxItem(
        idempotency_key=f"{target}|{object_type}|{object_id}|{sequence}",
        target=target,
        object_type=object_type,
        object_id=object_id,
        action=action,
        payload=body,
        payload_hash=digest,
        sequence=sequence,
        status="pending",
        attempts=0,
        # Only where the sink would create: a live ref is written to by its id, while a
        # cancelled one is created anew, and a lost creation may already have landed. A store
        # found behind (restored, new) cannot know what the lost runs wrote, even where it
        # holds a reference: then sinks that can look before they write do so for every item.
        uncertain=(uncertain and (ref is None or ref.cancelled)) or bool(db.info.get("store_behind")),
        planned_run=run_id,
    )
    db.add(item)
    db.flush()
    return item


def _could_have_been_sent(item: OutboxItem) -> bool:
    """A write for a switcher the target did not know yet (no `employee_id`) was refused by
    the sink before any request, so the item replacing it inherits no doubt from it."""
    return item.payload.get("employee_id", "") is not None


def live_ref(db: Session, target: str, object_type: str, object_id: str) -> ExternalRef | None:
    """The target holds this object and it is not cancelled there (or a write is on its way)."""
    ref = db.get(ExternalRef, (target, object_type, object_id))
    if ref is not None and not ref.cancelled:
        return ref
    return None


def has_pending(db: Session, target: str, object_type: str, object_id: str) -> OutboxItem | None:
    return db.scalar(
        select(OutboxItem).where(
            OutboxItem.target == target,
            OutboxItem.object_type == object_type,
            OutboxItem.object_id == object_id,
            OutboxItem.status.in_(OPEN),
        ).order_by(OutboxItem.id.desc()).limit(1)
    )


@dataclass(frozen=True)
class Outcome:
    """What a sink reports for one item."""

    ok: bool
    remote_id: str | None = None
    uid: str | None = None
    etag: str | None = None
    error: str | None = None
    retry: bool = True
    details: dict[str, Any] | None = None
    uncertain: bool = False  # failed, but it may have landed (its answer was lost): look before writing it again


@dataclass
class Delivered:
    item_id: int
    target: str
    object_type: str
    object_id: str
    action: str
    created: bool
    ok: bool
    error: str | None = None


def pending_items(db: Session, now: datetime | None = None) -> list[OutboxItem]:
    """What is due: pending writes, except failing ones still backing off."""
    query = select(OutboxItem).where(OutboxItem.status.in_(OPEN))
    if now is not None:
        query = query.where(or_(OutboxItem.next_attempt_at.is_(None), OutboxItem.next_attempt_at <= now))
    return list(db.scalars(query.order_by(OutboxItem.target, OutboxItem.id)))


def backoff(attempts: int) -> timedelta:
    """The first two failures retry on the next run (most faults pass); then 15 min, 30 min,
    1 h... up to a day, so a refused address is not hammered by a sync every quarter hour."""
    if attempts <= 2:
        return timedelta(0)
    return min(timedelta(minutes=15) * 2 ** (attempts - 3), timedelta(days=1))


def claim(items: list[OutboxItem]) -> None:
    """Count the attempt before sending (committed by the caller): after a crash the item
    says it may have been applied, and its sink looks before creating it again."""
    for item in items:
        if item.attempts > 0:
            item.uncertain = True
        item.attempts += 1


def record_outcome(db: Session, item: OutboxItem, outcome: Outcome, now: datetime) -> Delivered:
    """Book one delivery: the item is done and the external ref says what the target holds."""
    ref = db.get(ExternalRef, (item.target, item.object_type, item.object_id))
    created = ref is None or ref.cancelled
    if not outcome.ok:
        item.uncertain = item.uncertain or outcome.uncertain
        item.last_error = outcome.error
        item.next_attempt_at = now + backoff(item.attempts)
        if not outcome.retry:
            item.status = "failed"
        return Delivered(item.id, item.target, item.object_type, item.object_id, item.action, False, False, outcome.error)
    item.status = "done"
    item.last_error = None
    item.next_attempt_at = None
    item.done_at = now
    if ref is None:
        ref = ExternalRef(target=item.target, object_type=item.object_type, object_id=item.object_id)
        db.add(ref)
    ref.remote_id = outcome.remote_id or ref.remote_id
    ref.uid = outcome.uid or ref.uid
    ref.etag = outcome.etag or ref.etag
    ref.details = outcome.details or ref.details
    ref.sequence = item.sequence
    ref.applied_hash = item.payload_hash
    ref.cancelled = item.action in ("cancel", "retract")  # a retracted training record is taken back, like a cancelled event
    ref.updated_at = now
    return Delivered(item.id, item.target, item.object_type, item.object_id, item.action, created, True)


def by_target(items: Iterable[OutboxItem]) -> list[tuple[str, list[OutboxItem]]]:
    return [(target, list(group)) for target, group in groupby(items, key=lambda i: i.target)]


def utcnow() -> datetime:
    return datetime.now(UTC)
