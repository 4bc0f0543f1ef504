"""Answers people send through their personal links, and their part of the per-person erasure.

One answer per (subject, exchange, purpose, session): saving again replaces the values and
keeps `created_at`, so a double submission or a later correction leaves one row. Saving the
same values again changes nothing (a re-run writes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from connector.store.erasure import ErasureJob, eraser
from connector.store.tables import Answer, Exchange

ATTENDED, ABSENT = "attended", "absent"


@dataclass(frozen=True)
class AnswerKey:
    subject: str  # a person id, or "hr:<organisation>"
    exchange: str
    purpose: str  # attendance | evaluation | reflection
    session: str = ""


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
