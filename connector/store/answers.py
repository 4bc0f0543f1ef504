"""Answers people send through their personal links, and their part of the per-person erasure.

One answer per (subject, exchange, purpose, session): saving again replaces the values and
keeps `created_at`, so a double submission or a later correction leaves one row. Saving the
same values again changes nothing (a re-run writes nothing).

The learning action plan (purpose "action_plan") is the exception: switcher and coaches write
one plan together, and every saved version is its own row, `session_code` "v0001", "v0002", ...
numbered per exchange, `subject` and `answered_at` saying who saved it and when. The latest
version is the plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from connector.store.db import transaction_lock
from connector.store.erasure import ErasureJob, eraser
from connector.store.tables import Answer, Exchange

ATTENDED, ABSENT = "attended", "absent"


@dataclass(frozen=True)
class AnswerKey:
    subject: str  # a person id, or "hr:<organisation>"
    exchange: str
    purpose: str  # attendance | evaluation | reflection | action_plan
    session: str = ""  # the day's session code; an action plan's version ("v0001")

ACTION_PLAN = "action_plan"


def save_answer(db: Session, key: AnswerKey, role: str, values: dict[str, Any], language: str, now: datetime,
                consent: bool = False) -> tuple[Answer, bool]:
    """Store or replace one answer; returns it and whether anything changed. The caller commits."""
    row = find_answer(db, key)
    if row is None:
        row = Answer(subject=key.subject, exchange_code=key.exchange, purpose=key.purpose, session_code=key.session, role=role,
                     values=values, consent=consent, language=language, answered_at=now, created_at=now)
        db.add(row)
        db.flush()
        return row, True
    if row.values == values and row.consent == consent and row.role == role:
        return row, False
    row.values, row.consent, row.role, row.language, row.answered_at = values, consent, role, language, now
    db.flush()
    return row, True


def find_answer(db: Session, key: AnswerKey) -> Answer | None:
    return db.scalar(select(Answer).where(Answer.subject == key.subject, Answer.exchange_code == key.exchange,
                                          Answer.purpose == key.purpose, Answer.session_code == key.session))


def plan_versions(db: Session, exchange: str) -> list[Answer]:
    """Every saved version of the exchange's learning action plan, oldest first."""
    return list(db.scalars(select(Answer).where(Answer.exchange_code == exchange, Answer.purpose == ACTION_PLAN)
                           .order_by(Answer.session_code, Answer.id)))


def latest_plan(db: Session, exchange: str) -> Answer | None:
    """The exchange's learning action plan as it stands: its newest version, or None."""
    versions = plan_versions(db, exchange)
    return versions[-1] if versions else None


def lock_plan(db: Session, exchange: str) -> None:
    """Take, until the transaction ends, the right to add a version to the exchange's plan; a
    second save of the same plan (another tab, the coach at the same moment) waits here until
    the first one committed, then reads its version. Call it before reading the latest version
    a save depends on: otherwise both read the same one and both save the next number."""
    transaction_lock(db, f"action plan {exchange}")


def save_plan(db: Session, subject: str, exchange: str, role: str, values: dict[str, Any], language: str,
              now: datetime) -> tuple[Answer, bool]:
    """Store `values` as the next version of the exchange's action plan, saved by `subject`;
    returns it and whether anything changed. The same values as the latest version store
    nothing (a double submission, or saving without a change). Takes lock_plan (the caller may
    have taken it already, to compare with the latest version first) and holds it until the
    caller commits, so two saves at once number their versions one after the other."""
    lock_plan(db, exchange)
    latest = latest_plan(db, exchange)
    if latest is not None and latest.values == values:
        return latest, False
    number = int(latest.session_code[1:]) + 1 if latest is not None else 1
    row = Answer(subject=subject, exchange_code=exchange, purpose=ACTION_PLAN, session_code=f"v{number:04d}", role=role,
                 values=values, consent=False, language=language, answered_at=now, created_at=now)
    db.add(row)
    db.flush()
    return row, True


def answers_by_exchange(db: Session) -> dict[str, list[Answer]]:
    """Every answer, by exchange code, oldest first."""
    grouped: dict[str, list[Answer]] = {}
    for row in db.scalars(select(Answer).order_by(Answer.exchange_code, Answer.created_at, Answer.id)):
        grouped.setdefault(row.exchange_code, []).append(row)
    return grouped


def confirmed_attendance(db: Session) -> dict[str, str]:
    """Per session code, what a coach confirmed through their link: "attended" or "absent".
    Where coaches disagree, "absent" wins: a day someone says did not happen does not count."""
    confirmed: dict[str, str] = {}
    for row in db.scalars(select(Answer).where(Answer.purpose == "attendance", Answer.session_code != "")
                          .order_by(Answer.session_code, Answer.id)):
        value = (row.values or {}).get("attendance")
        if value in (ATTENDED, ABSENT) and confirmed.get(row.session_code) != ABSENT:
            confirmed[row.session_code] = value
    return confirmed


@eraser("answers")
def _answers(job: ErasureJob) -> None:
    """The person's own answers, and every answer about an exchange in which they are the
    switcher (a coach's confirmation or evaluation of their days speaks about them)."""
    own = select(Exchange.code).where(Exchange.switcher_id == job.subject.person_id)
    rows = list(job.db.scalars(select(Answer).where(or_(Answer.subject == job.subject.person_id, Answer.exchange_code.in_(own)))))
    for row in rows:
        job.db.delete(row)
    job.removed("answers sent through personal links", len(rows))
