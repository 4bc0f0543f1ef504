"""Retention: personal data the store no longer needs is deleted after a configured period,
at the end of every sync ([retention] in the configuration; nothing is deleted by default).

- `raw_payload_days`: a source record's raw payload (kept for debugging mappings) is emptied
  once the record has not changed for that many days. The mapped data stays: change
  detection and reconcile need it. Sources that merge partial updates into the last raw
  version (Microsoft Graph delta) keep theirs: `keeps` names them.
- `finished_cohort_days`: once an exchange's last session ended that many days ago, the raw
  payloads of its cohort rows, the free texts of its learning question (description,
  desired result) and the past writes' payloads in the outbox (names, addresses) go. The
  exchange, its sessions, training records and leerbewijs stay (the training account and
  the register need them).

Both keep each source record's content hash, so the next pull of an unchanged row finds it
unchanged and does not bring the deleted data back; a row edited at the source is read again.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connector.core.config import RetentionConfig
from connector.store.tables import Exchange, LearningQuestion, OutboxItem, SourceRecord, SyncRun
from connector.store.tables import Session as SessionRow

FREE_TEXTS = ("description", "desired_result")
PAST = ("done", "superseded")


def apply_retention(db: Session, settings: RetentionConfig, now: datetime, keeps: Collection[str] = ()) -> dict[str, int]:
    """Apply both periods; returns counts per kind of data deleted (for the log)."""
    counts: dict[str, int] = {}
    if settings.raw_payload_days is not None:
        counts["raw payloads"] = _raw_payloads(db, now - timedelta(days=settings.raw_payload_days), keeps)
    if settings.finished_cohort_days is not None:
        counts.update(_finished_exchanges(db, now - timedelta(days=settings.finished_cohort_days)))
    return {k: v for k, v in counts.items() if v}


def _raw_payloads(db: Session, before: datetime, keeps: Collection[str]) -> int:
    old_runs = select(SyncRun.id).where(SyncRun.as_of < before)
    rows = [r for r in db.scalars(select(SourceRecord).where(SourceRecord.changed_run.in_(old_runs), SourceRecord.source.not_in(list(keeps))))
            if r.raw]
    for row in rows:
        row.raw = {}
    return len(rows)


def _finished_exchanges(db: Session, before: datetime) -> dict[str, int]:
    finished: dict[str, list[str]] = {}  # exchange code -> its session codes
    for exchange in db.scalars(select(Exchange)):
        sessions = list(db.scalars(select(SessionRow).where(SessionRow.exchange_code == exchange.code)))
        if sessions and max(s.end for s in sessions) < before:  # its last session is that long ago
            finished[exchange.code] = [s.code for s in sessions]
    if not finished:
        return {}
    questions = {e.learning_question_code for e in db.scalars(select(Exchange).where(Exchange.code.in_(list(finished))))}
    texts = 0
    for question in db.scalars(select(LearningQuestion).where(LearningQuestion.code.in_(questions))):
        if question.description is not None or question.desired_result is not None:
            question.description = question.desired_result = None
            texts += 1
    codes = {("exchanges", c) for c in finished} | {("sessions", s) for ss in finished.values() for s in ss} | {
        ("learning_questions", q) for q in questions}
    raws = 0
    for record in db.scalars(select(SourceRecord).where(SourceRecord.entity.in_(["exchanges", "sessions", "learning_questions"]))):
        if (record.entity, str((record.data or {}).get("code"))) not in codes:
            continue
        data = {k: v for k, v in (record.data or {}).items() if k not in FREE_TEXTS}
        if record.raw or data != record.data:
            record.raw, record.data = {}, data  # data_hash stays: an unchanged row at the source stays unchanged here
            raws += 1
    objects = [s for ss in finished.values() for s in ss] + [f"exchange:{s}" for ss in finished.values() for s in ss]
    payloads = 0
    for chunk in range(0, len(objects), 500):
        part = objects[chunk:chunk + 500]
        result = db.execute(delete(OutboxItem).where(OutboxItem.status.in_(PAST), OutboxItem.object_id.in_(part)))
        payloads += result.rowcount or 0
        for session in part:  # per-recipient copies: "<session>|<address>"
            result = db.execute(delete(OutboxItem).where(OutboxItem.status.in_(PAST), OutboxItem.object_id.like(f"{session}|%")))
            payloads += result.rowcount or 0
    return {"learning question texts": texts, "cohort raw payloads": raws, "past outbox payloads": payloads}
