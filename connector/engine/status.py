"""The status view: what the store knows, in the words a coordinator uses, without reading SQLite.

One query module, for `st-connector status` and, later, a web overview. Terms:

- exchange state, the furthest it got: proposed (waits for its status to become confirmed:
  nothing goes out), confirmed (nothing sent yet), invited (a session's invitation went out),
  declined (someone declined a session), written back (a past day reached an HR system or
  ledger), leerbewijs (issued), leerbewijs revoked (revoked, no corrected one issued), cancelled.
- session state: planned (upcoming, not invited yet), past (over without an invitation, e.g.
  before the first sync), invited, declined, written back, retracted (written back, then taken
  back: the day no longer counts), cancelled (the session, or its whole exchange, was cancelled).
- open outbox item: a write that is pending (first try, or waiting to retry after an error)
  or failed; `last_error` says why.

Times are shown in the partner's time zone and labelled with it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.core.config import Config
from connector.core.errors import Problem
from connector.sinks import CALENDAR, TRAINING_RECORD
from connector.engine.cohort import cohort_status
from connector.store.plans import candidate_learning_questions
from connector.store.tables import Exchange, ExternalRef, Leerbewijs, OutboxItem, Person, PlannedLearning, SyncRun
from connector.store.tables import Session as SessionRow

OPEN = ("pending", "failed")


def local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """'2026-11-24 09:00 Europe/Brussels': a time people read, never without its zone."""
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}" if moment is not None else None


@dataclass(frozen=True)
class _Refs:
    """What the targets hold, by session code: invited (calendar), declined (who), written back."""

    invited: set[str]
    declined: dict[str, list[str]]
    written: set[str]
    retracted: set[str] = field(default_factory=set)  # written, then taken back (the day no longer counts)

    @classmethod
    def load(cls, db: Session) -> _Refs:
        invited: set[str] = set()
        declined: dict[str, list[str]] = defaultdict(list)
        written: set[str] = set()
        retracted: set[str] = set()
        for ref in db.scalars(select(ExternalRef).where(ExternalRef.object_type.in_((CALENDAR, TRAINING_RECORD)))):
            if ref.object_type == TRAINING_RECORD:
                (retracted if ref.cancelled else written).add(ref.object_id.removeprefix("exchange:"))
                continue
            code = ref.object_id.split("|", 1)[0]  # per-recipient invitations are "<session>|<address>"
            if not ref.cancelled:
                invited.add(code)
            for attendee, answer in sorted(((ref.details or {}).get("responses") or {}).items()):
                if answer == "declined" and attendee not in declined[code]:
                    declined[code].append(attendee)
        return cls(invited, dict(declined), written, retracted - written)


def _leerbewijzen(db: Session) -> tuple[dict[str, str], dict[str, list[dict[str, str | None]]]]:
    """By exchange: its live leerbewijs (not revoked; at most one), and its revoked ones
    [{"number", "reason", "replaced_by"}] in number order. A revoked leerbewijs is never shown as
    the live one, even before its corrected one is issued (or when none will be)."""
    live: dict[str, str] = {}
    revoked: dict[str, list[dict[str, str | None]]] = defaultdict(list)
    # the switchers' leerbewijzen: a coach's own (coach_learning) is not the exchange's
    for row in db.scalars(select(Leerbewijs).where(Leerbewijs.role == "switcher").order_by(Leerbewijs.exchange_code, Leerbewijs.number)):
        if row.revoked_at is None:
            live[row.exchange_code] = row.number
        else:
            revoked[row.exchange_code].append({"number": row.number, "reason": row.revoked_reason, "replaced_by": row.replaced_by})
    return live, dict(revoked)


def _coach_leerbewijzen(db: Session) -> dict[str, list[dict[str, str]]]:
    """By exchange: the coaches' own live leerbewijzen (coach_learning, series LB-<year>-C<nnnn>)
    [{"number", "coach"}] in number order; a coach erased on request is "(erased)"."""
    found: dict[str, list[dict[str, str]]] = defaultdict(list)
    rows = db.execute(select(Leerbewijs, Person).outerjoin(Person, Leerbewijs.holder_id == Person.id)
                      .where(Leerbewijs.role != "switcher", Leerbewijs.revoked_at.is_(None)).order_by(Leerbewijs.number))
    for row, coach in rows:
        found[row.exchange_code].append({"number": row.number, "coach": coach.full_name if coach is not None else "(erased)"})
    return dict(found)


def _session_state(session: SessionRow, refs: _Refs, now: datetime, exchange: Exchange | None = None) -> str:
    if session.removed:
        return "cancelled"
    if exchange is not None and exchange.status == "cancelled" and session.code not in refs.written | refs.retracted:
        return "cancelled"  # every session of a cancelled exchange (the evaluation too), unless its day was booked
    if session.code in refs.written:
        return "written back"
    if session.code in refs.retracted:
        return "retracted"
    if session.code in refs.declined:
        return "declined"
    if session.code in refs.invited:
        return "invited"
    return "past" if session.end <= now else "planned"  # only upcoming sessions are ever invited


def _exchange_state(exchange: Exchange, sessions: list[dict[str, Any]], leerbewijs: str | None, revoked: bool = False) -> str:
    """The furthest state reached: a leerbewijs says more than a written-back day, and so on; a
    leerbewijs revoked with no corrected one (yet) is "leerbewijs revoked"."""
    if exchange.status == "cancelled":
        return "cancelled"
    if leerbewijs:
        return "leerbewijs"
    if revoked:
        return "leerbewijs revoked"
    states = {s["state"] for s in sessions}
    reached = [state for state in ("written back", "declined", "invited") if state in states]
    if reached:
        return reached[0]
    return "proposed" if exchange.status == "proposed" else "confirmed"


def build_status(db: Session, config: Config, runs: int = 5, now: datetime | None = None) -> dict[str, Any]:
    """The whole view as one JSON-ready document.

    Shape: {"timezone": str,
            "organisations": [{"id", "name", "exchanges": [{"code", "status", "state", "switcher",
                "learning_place", "leerbewijs" (the live one or None), "coach_leerbewijzen": [{"number",
                "coach"}] (the coaches' own live ones, coach_learning), "revoked": [{"number", "reason",
                "replaced_by"}], "sessions": [{"code", "kind", "start", "state", "declined"}]}]}],
            "outbox": [{"organisation", "target", "object", "id", "action", "status", "attempts",
                        "last_error", "next_attempt"}],
            "runs": [{"id", "started", "finished", "status", "dry_run", "problems", "warnings"}]}
    "cohorts": [{"code", "name", "year", "partner", "phase", "removed", "phases": [{"phase", "start", "deadline",
    "state"}], "overdue": [{"phase", "deadline", "who", "organisation"}], "group_moments": [{"code", "kind",
    "start", "audience", "cancelled"}]}] (engine/cohort.py, cohort_status).
    Each organisation also lists "candidate_learning_questions" (not yet accepted: [{"code",
    "switcher", "employee", "title", "competence", "due", "hours", "status", "origin"}]), and
    each exchange its "origin": the planned item its learning question was accepted from.
    An exchange is listed under its switcher's organisation; a session not invited is `past`
    or `planned` as of `now` (default: the current time). Nothing is written.
    """
    zone = ZoneInfo(config.partner.timezone)
    now = now or datetime.now(UTC)
    refs = _Refs.load(db)
    numbers, revoked = _leerbewijzen(db)
    coaches = _coach_leerbewijzen(db)
    sessions: dict[str, list[SessionRow]] = defaultdict(list)
    for session in db.scalars(select(SessionRow).order_by(SessionRow.start, SessionRow.code)):
        sessions[session.exchange_code].append(session)
    by_organisation: dict[str, list[dict[str, Any]]] = defaultdict(list)
    origins = dict(db.execute(select(PlannedLearning.learning_question_code, PlannedLearning.candidate_code)
                              .where(PlannedLearning.learning_question_code.is_not(None))).all())
    for exchange, switcher in db.execute(select(Exchange, Person).join(Person, Exchange.switcher_id == Person.id)
                                         .order_by(Exchange.code)):
        listed = [{"code": s.code, "kind": s.kind, "start": local(s.start, zone), "state": _session_state(s, refs, now, exchange),
                   "declined": refs.declined.get(s.code, [])} for s in sessions[exchange.code]]
        by_organisation[switcher.organisation_id].append({
            "code": exchange.code, "status": exchange.status,
            "state": _exchange_state(exchange, listed, numbers.get(exchange.code), bool(revoked.get(exchange.code))),
            "switcher": switcher.full_name, "learning_place": exchange.learning_place_code,
            "leerbewijs": numbers.get(exchange.code), "coach_leerbewijzen": coaches.get(exchange.code, []),
            "revoked": revoked.get(exchange.code, []), "sessions": listed,
            "origin": origins.get(exchange.learning_question_code)})
    return {
        "timezone": zone.key,
        "organisations": [{"id": o.id, "name": o.name, "exchanges": by_organisation.get(o.id, []),
                           "candidate_learning_questions": _candidates(db, o.id)} for o in config.organisations],
        "outbox": [_outbox_item(item, config, zone) for item in db.scalars(
            select(OutboxItem).where(OutboxItem.status.in_(OPEN)).order_by(OutboxItem.target, OutboxItem.id))],
        "runs": [_run(run, zone) for run in db.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(runs))],
        # each cohort's phase as of `now`, what is overdue and by whom, its group moments (engine/cohort.py)
        "cohorts": cohort_status(db, config, now),
    }


def _candidates(db: Session, organisation_id: str) -> list[dict[str, Any]]:
    return [{"code": c.code, "switcher": c.switcher_name, "employee": c.employee_number or c.email, "title": c.title,
             "competence": c.competence, "due": c.due.isoformat() if c.due else None, "hours": c.hours, "status": c.status,
             "origin": f"{c.source} {c.remote_id}"} for c in candidate_learning_questions(db, organisation_id)]


def _outbox_item(item: OutboxItem, config: Config, zone: ZoneInfo) -> dict[str, Any]:
    owner = item.target.split("/", 1)[0] if "/" in item.target else None  # write-back targets are "<organisation>/<name>"
    return {"organisation": owner if owner and config.organisation(owner) else None, "target": item.target,
            "object": item.object_type, "id": item.object_id, "action": item.action, "status": item.status,
            "attempts": item.attempts, "last_error": item.last_error, "next_attempt": local(item.next_attempt_at, zone)}


def _run(run: SyncRun, zone: ZoneInfo) -> dict[str, Any]:
    summary = run.summary or {}
    return {"id": run.id, "started": local(run.started_at, zone), "finished": local(run.finished_at, zone), "status": run.status,
            "dry_run": run.dry_run, "problems": len(summary.get("errors", [])), "warnings": len(summary.get("warnings", []))}


def describe_written(db: Session, written: dict[str, list[OutboxItem]], output_dir: Path) -> list[dict[str, Any]]:
    """What one sync wrote, for its summary: [{"target", "object", "id", "action", "file"}], where
    `file` is the output file (an .ics to send, a ledger, a PDF) or None for a system's record;
    a message for one person (a manager note, a CANCEL for someone taken off a group moment) adds
    "to": {"email", "name", "language"}: whom to send it to, in which language it is written."""
    described = []
    for target, items in sorted(written.items()):
        for item in items:
            ref = db.get(ExternalRef, (target, item.object_type, item.object_id))
            # a file target's reference is the file, or "<file>#<row>" for a row of a ledger
            remote = str(ref.remote_id).split("#", 1)[0] if ref is not None and ref.remote_id else None
            is_file = bool(remote) and (output_dir / str(remote)).is_file()
            entry: dict[str, Any] = {"target": target, "object": item.object_type, "id": item.object_id, "action": item.action,
                                     "file": str(output_dir / str(remote)) if is_file else None}
            recipient = (item.payload or {}).get("recipient")
            if is_file and isinstance(recipient, dict):
                entry["to"] = {"email": recipient.get("email"), "name": recipient.get("name"),
                               "language": recipient.get("language") or item.payload.get("language")}  # a manager note's is the payload's
            described.append(entry)
    return described


def left_proposed(db: Session, zone: ZoneInfo) -> list[Problem]:
    """A warning per exchange still 'proposed' (often a blank status) although it has dated
    sessions: nobody is invited until it is confirmed. Proposals without sessions are normal."""
    dated = select(SessionRow.exchange_code, func.count(), func.min(SessionRow.start)).where(SessionRow.removed.is_(False)) \
        .group_by(SessionRow.exchange_code).subquery()
    rows = db.execute(select(Exchange.code, dated.c[1], dated.c[2]).join(dated, dated.c.exchange_code == Exchange.code)
                      .where(Exchange.status == "proposed").order_by(Exchange.code))
    return [Problem("cohort", "exchanges", code, "status", f"still proposed with {count} dated session(s), the first on "
                    f"{local(first, zone)}: no invitation goes out until its status is confirmed (bevestigd)", warning=True)
            for code, count, first in rows]
