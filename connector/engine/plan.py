"""Plan: decide what every target should hold, and put the differences in the outbox.

- Leerbewijzen: an exchange whose exchange days all lie in the past gets one, numbered
  LB-<year>-<nnnn> once and then never changed.
- Training records: each past exchange day of a live exchange becomes one informal
  training record of the switcher, written to every write-back target of the sending
  employer.
- Invitations: each upcoming session of a live exchange is an event in every calendar
  target; a cancelled exchange or a removed session cancels what was sent. Past sessions
  are left as they are.
- Evaluation reminders: once the last exchange day has passed, short calendar items at
  the configured offsets, on working days, through the same targets as the sessions.
- Line managers (the organisation's `manager_policy`): a note to the switcher's manager when
  the exchange is confirmed, moved or cancelled ("inform"), the manager on the intro call
  ("invite_intro"), and with either on the evaluation moments.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.core.calendar import CalendarEvent, Party, session_uid
from connector.core.config import Config
from connector.core.errors import Problem
from connector.core.links import Link, sign_link
from connector.core.reminders import Offset, reminder_moments
from connector.core.texts import labelled, offset_label, text
from connector.leerbewijs.credential import learner_subject, recipient_identity
from connector.leerbewijs.document import fingerprint
from connector.leerbewijs.revocation import mark_revoked
from connector.leerbewijs.statuslist import status_list_url
from connector.sinks import CALENDAR, LEERBEWIJS, LINK_NOTE, MANAGER_NOTE, TRAINING_RECORD, YEARLY_HOURS
from connector.store.answers import confirmed_attendance
from connector.store.erasure import erased_people
from connector.store.outbox import enqueue, has_pending, live_ref
from connector.store.tables import (
    Answer,
    Exchange,
    ExternalRef,
    LearningPlace,
    Leerbewijs,
    Organisation,
    OutboxItem,
    Person,
    SourceRecord,
    TrainingRecord,
)
from connector.store.tables import Session as SessionRow
from connector.store.witness import IssuedValues

LIVE = ("confirmed", "completed")
EXCHANGE_DAY = "exchange_day"
INTRO_CALL = "intro_call"
REFLECTION = "reflection"
EVALUATION = "evaluation"
RETRACT = "retract"  # the outbox action that takes a written training record back
AUTOMATIC = "automatic: "  # a revocation the planner made (its days no longer held): it issues the corrected one


@dataclass(frozen=True)
class DayCount:
    """Whether a session counts as training under the organisation's `writeback_days`, and why not."""

    counts: bool
    attendance: str  # attended | absent | declined | unknown
    reason: str | None = None  # why it does not count (a retraction names it)


@dataclass
class Reminder:
    """An evaluation moment: planned like a session, but made by us, not the cohort."""

    code: str
    exchange: Exchange
    start: datetime
    end: datetime
    after: Offset
    with_hr: bool
    kind: str = "reminder"
    mode: str = "online"
    location: str | None = None
    removed: bool = False


Moment = SessionRow | Reminder


@dataclass(frozen=True)
class CalendarTarget:
    """A calendar target and whom it invites: `channel` None means everyone (the .ics copies);
    a channel name means the people of organisations routed to that channel."""

    name: str
    channel: str | None = None
    invite_hr: bool = False
    per_recipient: bool = False  # one message per attendee (e-mail), rather than one shared event
    uninvites: bool = False  # a shared copy that also gets a CANCEL per person invited by files who leaves an audience


@dataclass(frozen=True)
class Targets:
    calendars: list[CalendarTarget]
    writeback: dict[str, list[str]]  # sending organisation id -> targets of its training records
    leerbewijs: list[str]  # targets of every leerbewijs (the PDF files)
    documents: dict[str, list[str]] = field(default_factory=dict)  # sending organisation id -> HR systems filing its leerbewijzen
    employee_sources: dict[str, str] = field(default_factory=dict)  # target -> source key of the employee ids it needs
    with_learning_place: frozenset[str] = frozenset()  # targets whose training records name the learning place
    yearly_hours: dict[str, list[str]] = field(default_factory=dict)  # sending organisation id -> targets of yearly totals
    manager_notes: dict[str, str] = field(default_factory=dict)  # invitation channel -> target of manager notes
    link_notes: str | None = None  # target of personal links that a shared Graph event cannot carry


class Planner:
    def __init__(self, db: Session, config: Config, run_id: int, now: datetime, targets: Targets, problems: list[Problem],
                 witness: IssuedValues | None = None) -> None:
        self.db = db
        self.witness = witness or IssuedValues()
        self.config = config
        self.run_id = run_id
        self.now = now
        self.zone = ZoneInfo(config.partner.timezone)
        self.targets = targets
        self.problems = problems
        self._reported: set[tuple[str, str]] = set()
        self._employee_ids: dict[tuple[str, str], str | None] = {}
        self._hours_this_year: dict[str, tuple[Person, float]] = {}  # switcher id -> (switcher, exchange hours)
        self.erased: set[str] = set()  # pseudonyms of people erased on request
        self._status_next: int | None = None  # the next free index in the revocation list
        self._declines: dict[str, set[str]] = {}
        self.not_counted: list[dict[str, str]] = []  # past exchange days that are no training, and why (the summary)
        self.revoked: list[dict[str, str]] = []  # leerbewijzen this run revoked (the summary)
        self._noted: dict[str, set[str]] | None = None  # session code -> subjects a link note was ever planned for

    def run(self) -> None:
        # Nothing more is planned about an erased switcher's exchanges: a write would carry
        # the pseudonym into targets, or a cancellation to the address that was erased.
        erased = erased_people(self.db)
        self.erased = erased
        self._declines = self._declined_sessions()
        exchanges = [e for e in self.db.scalars(select(Exchange).order_by(Exchange.code)) if e.switcher_id not in erased]
        live = {e.code for e in exchanges}
        sessions = [s for s in self.db.scalars(select(SessionRow).order_by(SessionRow.start, SessionRow.code)) if s.exchange_code in live]
        by_exchange: dict[str, list[SessionRow]] = {}
        for session in sessions:
            by_exchange.setdefault(session.exchange_code, []).append(session)
        for exchange in exchanges:
            self.leerbewijs(exchange, by_exchange.get(exchange.code, []))
        for exchange in exchanges:
            self.training_records(exchange, by_exchange.get(exchange.code, []))
        for exchange in exchanges:
            self.coach_learning(exchange, by_exchange.get(exchange.code, []))
        self.yearly_totals()
        for session in sessions:
            self.invitation(session)
        for exchange in exchanges:
            self.reminders(exchange, by_exchange.get(exchange.code, []))
        for exchange in exchanges:
            self.manager_note(exchange, by_exchange.get(exchange.code, []))

    def reminders(self, exchange: Exchange, sessions: list[SessionRow]) -> None:
        settings = self.config.reminders
        days = self._days(sessions)
        if not settings.enabled or not days or any(d.end > self.now for d in days):
            return  # planned once the exchange days are behind us
        last_day = max(d.start for d in days).astimezone(self.zone).date()
        hour, minute = (int(part) for part in settings.time.split(":"))
        offsets = [Offset.parse(text) for text in settings.offsets]
        for offset, start, end in reminder_moments(last_day, offsets, time(hour, minute), settings.minutes, self.zone):
            reminder = Reminder(f"{exchange.code}-EVAL-{offset.code}", exchange, start, end, offset, settings.invite_hr)
            self.invitation(reminder)

    # -- leerbewijzen ------------------------------------------------------------------

    def _days(self, sessions: list[SessionRow]) -> list[SessionRow]:
        return [s for s in sessions if s.kind == EXCHANGE_DAY and not s.removed]

    # -- attendance ----------------------------------------------------------------------

    def _declined_sessions(self) -> dict[str, set[str]]:
        """Per session code, the addresses that declined it in a calendar that reports answers
        (Outlook through Graph: an attendee's `status.response`, kept on the event's ref)."""
        declined: dict[str, set[str]] = {}
        for ref in self.db.scalars(select(ExternalRef).where(ExternalRef.object_type == CALENDAR)):
            responses = (ref.details or {}).get("responses") or {}
            who = {address.lower() for address, answer in responses.items() if answer == "declined"}
            if who and not ref.cancelled:
                declined.setdefault(ref.object_id.split("|", 1)[0], set()).update(who)
        return declined

    def attendance(self, session: SessionRow) -> str:
        """The switcher's: what the sheet says wins; else a coach's confirmation through their
        personal link (issue 17); else a decline in the calendar; else unknown."""
        if session.attendance in ("attended", "absent"):
            return session.attendance
        if session.code in self._coach_confirmed:
            return self._coach_confirmed[session.code]
        email = (session.exchange.switcher.email or "").lower()
        if email and email in self._declines.get(session.code, set()):
            return "declined"
        return "unknown"

    @cached_property
    def _coach_confirmed(self) -> dict[str, str]:
        """Per session code, "attended" or "absent" as a coach confirmed it (read once per planner)."""
        return confirmed_attendance(self.db)

    def day_count(self, exchange: Exchange, session: SessionRow) -> DayCount:
        """Whether a session happened as far as the organisation's policy says: a day known not to
        have happened (marked absent, the exchange cancelled, the session removed or still ahead)
        never counts; a declined day counts only under "planned"; an unconfirmed one not under "confirmed"."""
        attendance = self.attendance(session)
        if exchange.status not in LIVE:
            return DayCount(False, attendance, "the exchange was cancelled" if exchange.status == "cancelled" else "the exchange is not confirmed")
        if session.removed:
            return DayCount(False, attendance, "the session was removed from the cohort sheet")
        if session.end > self.now:
            return DayCount(False, attendance, f"the session was moved to {self._local_date(session)}")
        if attendance == "absent":
            return DayCount(False, attendance, "marked absent")
        organisation = self.config.organisation(exchange.switcher.organisation_id)
        policy = organisation.writeback_days if organisation is not None else "not_declined"
        if attendance == "declined" and policy != "planned":
            return DayCount(False, attendance, "declined in the calendar")
        if attendance != "attended" and policy == "confirmed":
            return DayCount(False, attendance, "not confirmed as attended")
        return DayCount(True, attendance)

    def counted_days(self, exchange: Exchange, sessions: list[SessionRow]) -> list[SessionRow]:
        return [d for d in self._days(sessions) if self.day_count(exchange, d).counts]

    def _intro_call(self, exchange: Exchange, sessions: list[SessionRow]) -> str | None:
        """The date of the intro call when it took place (past, not removed, not absent or declined
        as the policy reads it), else None: the leerbewijs says so only then."""
        calls = [s for s in sessions if s.kind == INTRO_CALL and not s.removed and self.day_count(exchange, s).counts]
        return self._local_date(calls[0]) if calls else None

    # -- leerbewijzen ------------------------------------------------------------------

    def _current_leerbewijs(self, exchange: Exchange, coach: Person | None = None) -> Leerbewijs | None:
        """The exchange's leerbewijs that is not revoked (the newest), with revocations the witness
        remembers taken into the store (a restored store never un-revokes). The switcher's, or
        with `coach` that coach's own."""
        current = None
        for row in self.db.scalars(select(Leerbewijs).where(Leerbewijs.exchange_code == exchange.code, *_held_by(coach))
                                   .order_by(Leerbewijs.number)):
            remembered = self.witness.revoked.get(row.number)
            if row.revoked_at is None and remembered is not None:
                row.revoked_at = datetime.fromisoformat(remembered["at"])
                row.revoked_reason = remembered.get("reason") or ""
            if row.revoked_at is None:
                current = row
        return current

    def _revoked_last(self, exchange: Exchange, coach: Person | None = None) -> Leerbewijs | None:
        return self.db.scalar(select(Leerbewijs).where(Leerbewijs.exchange_code == exchange.code, Leerbewijs.revoked_at.is_not(None), *_held_by(coach),
                                                       Leerbewijs.replaced_by.is_(None)).order_by(Leerbewijs.number.desc()).limit(1))

    def _revoked_by_hand(self, exchange: Exchange, coach: Person | None = None) -> bool:
        """Revoked with `leerbewijs revoke` (not by a sync) and not replaced: the partner decided;
        the sync issues nothing in its place (a sync replaces only what it revoked itself)."""
        last = self._revoked_last(exchange, coach)
        return last is not None and not (last.revoked_reason or "").startswith(AUTOMATIC)

    def _stated_days(self, days: list[SessionRow]) -> list[dict[str, Any]]:
        return [{"date": self._local_date(d), "hours": self._hours(d), "session": d.code} for d in days]

    def leerbewijs(self, exchange: Exchange, sessions: list[SessionRow], coach: Person | None = None) -> None:
        """The switcher's leerbewijs, or with `coach` that coach's own (see coach_learning)."""
        planned = self._days(sessions)
        days = self.counted_days(exchange, sessions) if coach is None else self.coach_days(exchange, sessions, coach)
        issued = self._current_leerbewijs(exchange, coach)
        if issued is not None and not issued.content.get("erased"):
            reason = self._no_longer_true(exchange, issued, days) or (self._learned_changed(exchange, issued) if coach is None else None)
            if reason is not None:
                # An issued leerbewijs is never altered: revoked (its bit in the status list), and a
                # corrected one with a new number is issued below once the days are settled.
                if mark_revoked(issued, self.witness.revoked.get(issued.number), AUTOMATIC + reason, self.now):
                    self.revoked.append({"number": issued.number, "exchange": exchange.code, "reason": issued.revoked_reason or reason,
                                         **({"coach": coach.full_name} if coach is not None else {})})
                self.db.flush()
                issued = None
        if issued is None:
            # Issued after the last attended day: every planned day behind us, at least one that counts.
            if exchange.status not in LIVE or not days or any(d.end > self.now for d in planned) or self._revoked_by_hand(exchange, coach):
                return
            issued = self._issue(exchange, days, self._intro_call(exchange, sessions) if coach is None else None,
                                 self._revoked_last(exchange, coach), coach)
            for revoked in self.revoked:
                if revoked["number"] == issued.replaces:
                    revoked["replaced_by"] = issued.number
        if issued.content.get("erased"):
            return  # its switcher was erased: the register keeps number and fingerprint, the issued copies stay as they are
        holder = exchange.switcher if coach is None else coach
        payload = {"content": issued.content, "fingerprint": issued.fingerprint,
                   "organisation": holder.organisation_id}
        for target in self.targets.leerbewijs + self.targets.documents.get(holder.organisation_id, []):
            enqueue(self.db, self.run_id, target, LEERBEWIJS, issued.number, self._addressed(target, payload, holder))

    def _no_longer_true(self, exchange: Exchange, issued: Leerbewijs, days: list[SessionRow]) -> str | None:
        """Why an issued leerbewijs no longer states what happened, or None while it does."""
        if exchange.status not in LIVE:
            return "the exchange was cancelled" if exchange.status == "cancelled" else "the exchange is no longer confirmed"
        stated = issued.content.get("days") or []
        if stated == self._stated_days(days):
            return None
        now_days = {d["session"]: d for d in self._stated_days(days)}
        changes = []
        for day in stated:
            now = now_days.get(day["session"])
            if now is None:
                session = self.db.get(SessionRow, day["session"])
                why = self.day_count(exchange, session).reason if session is not None else "the session was removed"
                changes.append(f"{day['session']} ({day['date']}): {why}")
            elif now != day:
                changes.append(f"{day['session']} ({day['date']}): now {now['date']}, {now['hours']:g} h")
        added = [d for code, d in now_days.items() if code not in {day["session"] for day in stated}]
        changes += [f"{d['session']} ({d['date']}): counts now, missing on it" for d in added]
        return "days changed: " + "; ".join(changes) if changes else "days changed"

    @cached_property
    def _learned(self) -> dict[tuple[str, str], str]:
        """Per (exchange code, person id), what they learned in their own words where they
        consented to show it on their leerbewijs (a reflection's consent box, web/forms.py): the
        "learned" text of their newest answer with consent. An answer saved again without the
        box ticked withdraws it. Read once per run."""
        found: dict[tuple[str, str], str] = {}
        rows = self.db.execute(select(Answer.exchange_code, Answer.subject, Answer.values)
                               .where(Answer.consent.is_(True)).order_by(Answer.answered_at, Answer.id))
        for code, subject, values in rows:
            learned = (values or {}).get("learned")
            if isinstance(learned, str) and learned.strip():
                found[(code, subject)] = learned.strip()
        return found

    def _learned_changed(self, exchange: Exchange, issued: Leerbewijs) -> str | None:
        """Why an issued leerbewijs no longer prints what the switcher consented to show (they
        consented after it was issued, changed that text, or withdrew it), else None. It is then
        revoked and replaced like a leerbewijs whose days changed."""
        if issued.content.get("learned") == self._learned.get((exchange.code, exchange.switcher_id)):
            return None
        return "what the switcher learned, as they consented to show it, changed"

    def _issue(self, exchange: Exchange, days: list[SessionRow], intro_call: str | None = None,
               replaces: Leerbewijs | None = None, coach: Person | None = None) -> Leerbewijs:
        seen = self.witness.for_exchange(exchange.code, coach.id if coach is not None else None)
        if seen is not None and self.db.get(Leerbewijs, seen[0]) is None:
            # Issued before, then lost with a restored store: the same number, date and status-list
            # index again, so the same content makes the same leerbewijs, never a second one.
            status = ({"index": int(seen[1]["status_index"]), "list": seen[1]["status_list"]}
                      if seen[1].get("status_index") is not None else None)
            leerbewijs = self._leerbewijs(exchange, days, seen[0], date.fromisoformat(seen[1]["issued_on"]), status,
                                          intro_call, replaces, coach)
            older = {k: v for k, v in leerbewijs.content.items() if k != "subject"}
            if leerbewijs.fingerprint != seen[1]["fingerprint"] and fingerprint(older) == seen[1]["fingerprint"]:
                # issued before credentials named their subject: restored exactly as it was
                leerbewijs.content, leerbewijs.fingerprint = older, fingerprint(older)
            if leerbewijs.fingerprint == seen[1]["fingerprint"]:
                self.db.add(leerbewijs)
                self._link(leerbewijs, replaces)
                self.db.flush()
                return leerbewijs
        issued_on = self.now.astimezone(self.zone).date()
        # a coach's leerbewijzen are numbered in a series of their own (LB-<year>-C<nnnn>), so the
        # switchers' numbers stay what they were before coach_learning was switched on
        prefix = f"LB-{issued_on.year}-" + ("C" if coach is not None else "")
        count = self.db.scalar(select(func.count()).select_from(Leerbewijs).where(Leerbewijs.number.like(f"{prefix}%"),
                                                                               *_held_by(coach, anyone=True))) or 0
        # numbers handed out before a restore stay taken
        number = f"{prefix}{max(count, self.witness.highest_number(prefix)) + 1:04d}"
        status = {"index": self._next_status_index(), "list": status_list_url(self.config)}
        leerbewijs = self._leerbewijs(exchange, days, number, issued_on, status, intro_call, replaces, coach)
        self.db.add(leerbewijs)
        self._link(leerbewijs, replaces)
        self.db.flush()
        return leerbewijs

    @staticmethod
    def _link(leerbewijs: Leerbewijs, replaces: Leerbewijs | None) -> None:
        if replaces is not None:
            leerbewijs.replaces = replaces.number
            replaces.replaced_by = leerbewijs.number

    def _next_status_index(self) -> int:
        """The next position in the revocation list (W3C Bitstring Status List v1.0 section 2.1),
        allocated sequentially above every index the store or the witness ever handed out, so
        a restored or empty store never gives one to a second leerbewijs."""
        if self._status_next is None:  # read once per run; the planner allocates every index after that
            in_store = max((int(status["index"]) for content in self.db.scalars(select(Leerbewijs.content))
                            if (status := (content or {}).get("status"))), default=-1)
            self._status_next = max(in_store, self.witness.highest_status_index()) + 1
        index, self._status_next = self._status_next, self._status_next + 1
        return index

    def _leerbewijs(self, exchange: Exchange, days: list[SessionRow], number: str, issued_on: date,
                    status: dict[str, Any] | None = None, intro_call: str | None = None,
                    replaces: Leerbewijs | None = None, coach: Person | None = None) -> Leerbewijs:
        if coach is not None:
            return self._coach_leerbewijs(exchange, days, number, issued_on, status, replaces, coach)
        switcher = exchange.switcher
        sender = switcher.organisation
        host = exchange.learning_place.organisation
        coaches = [self.db.get(Person, c) for c in exchange.coach_ids]
        salt, identity, identity_type = self._recipient(switcher, number, exchange)
        content: dict[str, Any] = {
            "number": number,
            "issued_on": issued_on.isoformat(),
            "language": switcher.language,
            "partner": {"name": self.config.partner.issuer_name or self.config.partner.name,
                        "email": self.config.partner.organiser_email},
            "switcher": {"name": switcher.full_name, "employee_number": switcher.employee_number},
            "sender": {"name": sender.name, "enterprise_number": sender.enterprise_number},
            "host": {"name": host.name, "enterprise_number": host.enterprise_number},
            "place": exchange.learning_place.name,
            "coaches": [c.full_name for c in coaches if c is not None],
            "question": exchange.learning_question.title,
            "exchange": exchange.code,
            "days": self._stated_days(days),
            "total_hours": round(sum(self._hours(d) for d in days), 2),
            # the Open Badges credential names the learner by this salted hash only
            "recipient": {"salt": salt, "identity_hash": recipient_identity(identity, salt), "identity_type": identity_type},
            # the credential's subject id and VC-JWT `sub`: stable per learner and issuer, no personal data in it
            "subject": learner_subject(self.config.partner.issuer_url, switcher.id),
        }
        if status is not None:  # its bit in the revocation list (absent: issued before the status list existed)
            content["status"] = status
        if intro_call is not None:  # "took part in the intro call" only when that call took place
            content["intro_call"] = intro_call
        learned = self._learned.get((exchange.code, switcher.id))
        if learned is not None:  # the switcher's own words, only with their consent (web: the reflection)
            content["learned"] = learned
        if replaces is not None:  # a corrected leerbewijs names the revoked one it replaces
            content["replaces"] = replaces.number
        return Leerbewijs(number=number, exchange_code=exchange.code, issued_on=issued_on, language=switcher.language,
                          total_hours=content["total_hours"], fingerprint=fingerprint(content), content=content)

    # -- training records ----------------------------------------------------------------

    def _hours(self, session: SessionRow) -> float:
        if session.hours is not None:
            return float(session.hours)
        return round((session.end - session.start) / timedelta(hours=1), 2)

    def _local_date(self, session: SessionRow) -> str:
        return session.start.astimezone(self.zone).date().isoformat()

    def training_records(self, exchange: Exchange, sessions: list[SessionRow]) -> None:
        """Each past exchange day that counts becomes a training record in every write-back target;
        one written before that no longer counts (absent, declined, cancelled, moved ahead, removed)
        is retracted there through the outbox, with the reason, and leaves the training account."""
        current = self._current_leerbewijs(exchange)
        number = current.number if current is not None else None
        switcher = exchange.switcher
        host = exchange.learning_place.organisation
        coaches = [p for p in (self.db.get(Person, c) for c in exchange.coach_ids) if p is not None and p.id not in self.erased]
        every_day = [s for s in sessions if s.kind == EXCHANGE_DAY]
        counted = [d for d in every_day if self.day_count(exchange, d).counts]
        last_counted = max((self._local_date(d) for d in counted), default=None)
        for day in every_day:
            record_id = f"exchange:{day.code}"
            verdict = self.day_count(exchange, day)
            values: dict[str, Any] = {
                "person_id": switcher.id, "origin": "exchange", "kind": "informal",
                "date": datetime.fromisoformat(self._local_date(day)).date(), "hours": self._hours(day),
                "title": text(switcher.organisation.language, "record.title", host=host.name),
                "provider": host.name, "exchange_code": exchange.code, "session_code": day.code,
                "leerbewijs_number": number, "source": None,
            }
            payload = {
                "record_id": record_id,
                "organisation": switcher.organisation_id,
                "employee_number": switcher.employee_number,
                "email": switcher.email,
                "first_name": switcher.first_name,
                "last_name": switcher.last_name,
                "date": values["date"].isoformat(),
                "hours": values["hours"],
                "kind": "informal",
                "type": text(switcher.organisation.language, "record.type"),
                "title": values["title"],
                "provider": host.name,
                "coach": ", ".join(c.full_name for c in coaches),
                "learning_question": exchange.learning_question.title,
                "leerbewijs_number": number,
                "exchange": exchange.code,
            }
            row = self.db.get(TrainingRecord, record_id)
            targets = self.targets.writeback.get(switcher.organisation_id, [])
            place = exchange.learning_place
            if not verdict.counts:
                if not day.removed and day.end <= self.now and exchange.status != "proposed":  # a proposal never counted
                    self.not_counted.append({"session": day.code, "exchange": exchange.code, "date": self._local_date(day),
                                             "switcher": switcher.full_name, "reason": verdict.reason or ""})
                if row is not None:
                    self.db.delete(row)  # the training account holds only days that happened
                self._retract_day(targets, record_id, payload, verdict, switcher, last_counted)
                continue
            self._book_day(switcher, record_id, row, values, payload, targets, place)

    def _recipient(self, holder: Person, number: str, exchange: Exchange) -> tuple[str, str, str]:
        """(salt, identity, identity type) of a leerbewijs's holder: their work e-mail, else their
        employee number, else their name. The salt is published with the hash, so it need not be
        secret, only unique per credential; deriving it keeps a re-issued (e.g. restored)
        leerbewijs identical."""
        salt = hashlib.sha256(f"{self.config.partner.id}|{number}|{exchange.code}|{holder.id}".encode()).hexdigest()[:16]
        if holder.email:
            return salt, holder.email, "emailAddress"
        return salt, holder.employee_number or holder.full_name, "identifier" if holder.employee_number else "name"

    def _book_day(self, holder: Person, record_id: str, row: TrainingRecord | None, values: dict[str, Any], payload: dict[str, Any],
                  targets: list[str], place: LearningPlace) -> None:
        """Book a day that counts as the holder's (switcher's or coach's) informal training: the
        year's count, the stored record (`values`: its columns) and one outbox write per target."""
        self._count_this_year(holder, values["date"].year, values["hours"])
        if row is None:
            self.db.add(TrainingRecord(id=record_id, **values))
        else:
            row.assign(values)
        for target in targets:
            addressed = self._addressed(target, payload, holder)
            if target in self.targets.with_learning_place:
                addressed["learning_place"] = {"code": place.code, "name": place.name, "description": place.description}
            enqueue(self.db, self.run_id, target, TRAINING_RECORD, record_id, addressed)

    def _retract_if_written(self, target: str, record_id: str, payload: dict[str, Any]) -> None:
        """Take back a training record the target holds (or may hold: an attempt was made); one
        that never left is simply not sent."""
        written = live_ref(self.db, target, TRAINING_RECORD, record_id)
        waiting = has_pending(self.db, target, TRAINING_RECORD, record_id)
        attempted = waiting is not None and waiting.action == "upsert" and (waiting.attempts > 0 or waiting.uncertain)
        if written is None and not attempted:
            if waiting is not None and waiting.action == "upsert":
                waiting.status = "superseded"  # never reached the target: nothing to take back
            return
        enqueue(self.db, self.run_id, target, TRAINING_RECORD, record_id, payload, action=RETRACT)

    def _count_this_year(self, switcher: Person, year: int, hours: float) -> None:
        _, total = self._hours_this_year.get(switcher.id, (switcher, 0.0))
        this_year = year == self.now.astimezone(self.zone).year
        self._hours_this_year[switcher.id] = (switcher, total + (hours if this_year else 0.0))

    def yearly_totals(self) -> None:
        """Per switcher with exchange days behind them: this calendar year's exchange hours, for
        HR systems that keep them in one field. A new year starts again at 0, and so does someone
        whose only exchange was cancelled after their total was written."""
        year = self.now.astimezone(self.zone).year
        for target in {t for targets in self.targets.yearly_hours.values() for t in targets}:
            written = self.db.scalars(select(ExternalRef.object_id).where(ExternalRef.target == target,
                                                                          ExternalRef.object_type == YEARLY_HOURS))
            for person_id in written:
                person = self.db.get(Person, person_id)
                if person_id not in self._hours_this_year and person is not None:
                    self._hours_this_year[person_id] = (person, 0.0)
        for person, hours in sorted(self._hours_this_year.values(), key=lambda entry: entry[0].id):
            payload = {"organisation": person.organisation_id, "first_name": person.first_name, "last_name": person.last_name,
                       "year": year, "hours": round(hours, 2)}
            for target in self.targets.yearly_hours.get(person.organisation_id, []):
                enqueue(self.db, self.run_id, target, YEARLY_HOURS, person.id, self._addressed(target, payload, person))

    def _addressed(self, target: str, payload: dict[str, Any], person: Person) -> dict[str, Any]:
        """The payload, plus the person's id in the target system where the target needs one.
        Only such targets get it, so the others' payloads (and their content hashes) stay as they were."""
        source = self.targets.employee_sources.get(target)
        if source is None:
            return dict(payload)
        key = (source, person.id)
        if key not in self._employee_ids:
            self._employee_ids[key] = self.db.scalar(
                select(SourceRecord.remote_id).where(SourceRecord.source == source, SourceRecord.entity == "people",
                                                     SourceRecord.canonical_id == person.id, SourceRecord.deleted.is_(False))
                .limit(1))
        return {**payload, "employee_id": self._employee_ids[key]}

    # -- invitations ---------------------------------------------------------------------

    def invitation(self, session: Moment) -> None:
        exchange = session.exchange
        live = exchange.status in LIVE and not session.removed
        if live and session.end <= self.now:
            return  # past sessions are history: neither sent late nor changed
        if not live and session.start <= self.now:
            return
        for target in self.targets.calendars:
            if target.per_recipient:
                self._per_recipient(session, target, live)
                continue
            event = self.event(session, target)
            if live and target.channel is not None:
                event = self._shared_links(session, event)
            payload = {"event": event.model_dump(mode="json")}
            if live and (event.attendees or target.channel is None):
                sent = self._last_sent_item(target.name, CALENDAR, session.code) if target.uninvites else None
                before = sent.payload if sent is not None and sent.action == "upsert" else None  # after a CANCEL to all: no one's own
                enqueue(self.db, self.run_id, target.name, CALENDAR, session.code, payload, volatile=self._stamp)
                if target.uninvites:  # a coach replaced, say: as for a group moment (engine/cohort.py), a CANCEL file of their own
                    self.uninvite_by_file(session.code, target, before, event,
                                          lambda chosen, language=None: self.event(session, chosen, language=language))
            else:
                self._cancel_if_sent(target.name, session.code, payload)
        self._withdraw_link_notes(session, live)

    def _per_recipient(self, session: Moment, target: CalendarTarget, live: bool, build: Any = None) -> None:
        """One message per routed attendee, in their language; the invitation itself lists the
        whole meeting. When the session is off, everyone who was invited gets its cancellation;
        when it goes on without someone, that person gets a CANCEL naming only them and no
        STATUS:CANCELLED (RFC 5546 section 3.2.5), so their calendar removes it while the
        others' stays (they get a REQUEST without them). `build(target, language=None)` makes
        the event of a moment that is not an exchange's (engine/cohort.py: group moments, deadline
        reminders); by default the session's own event."""
        event_of = build or (lambda chosen, language=None: self.event(session, chosen, language=language))
        everyone = CalendarTarget(target.name, invite_hr=target.invite_hr)
        recipients = {a.email: a for a in event_of(target).attendees} if live else {}
        for email, recipient in recipients.items():
            event = event_of(everyone, language=recipient.language)
            if build is None:  # an exchange's session: the person's own link (a group moment has none)
                event = self._with_personal_link(session, event, email)
            payload: dict[str, Any] = {"event": event.model_dump(mode="json"), "recipient": recipient.model_dump(mode="json")}
            if (isinstance(session, Reminder) or getattr(session, "plain_mail", False)) and self.config.reminders.format == "email":
                payload["format"] = "email"
            enqueue(self.db, self.run_id, target.name, CALENDAR, f"{session.code}|{email}", payload, volatile=self._stamp)
        for object_id, last_payload in self._recipient_objects(target.name, session.code):
            if object_id.split("|", 1)[1] not in recipients:
                recipient = Party.model_validate(last_payload["recipient"])
                if live:
                    payload = self._uninvitation(event_of(everyone, language=recipient.language), recipient)
                else:
                    payload = {"event": event_of(everyone, language=recipient.language).model_dump(mode="json"),
                               "recipient": last_payload["recipient"]}
                self._cancel_if_sent(target.name, object_id, payload)

    @staticmethod
    def _uninvitation(event: CalendarEvent, recipient: Party) -> dict[str, Any]:
        """The CANCEL for one person taken off a meeting that goes on (RFC 5546 section 3.2.5):
        the event in their language naming only them as ATTENDEE, marked `uninvited` so sinks
        render it without STATUS:CANCELLED (connector/core/calendar.py `to_ics`)."""
        payload = {"event": event.model_dump(mode="json"), "recipient": recipient.model_dump(mode="json"), "uninvited": True}
        payload["event"]["attendees"] = [payload["recipient"]]
        return payload

    def uninvite_by_file(self, code: str, target: CalendarTarget, before: dict[str, Any] | None, current: CalendarEvent,
                         event_of: Any) -> None:
        """On a shared copy (`target.uninvites`: the .ics files), each attendee of the copy that went
        out (`before`, see _last_sent) who is not on `current` and whose invitations go by files gets
        a CANCEL of their own, object `<code>|<address>`: the message the iMIP channel sends them
        (_uninvitation), with the SEQUENCE of the updated copy, so their calendar removes the event
        while the others keep it. Planned in the outbox like everything else: a re-run plans nothing
        (the copy that went out no longer names them), a crash leaves it pending for the next run."""
        if before is None:
            return  # the copy never went out (or its last version was the whole moment's CANCEL): nobody is invited by it
        staying = {a.email for a in current.attendees}
        by_files = CalendarTarget(target.name, channel="files")
        leaving = [left for left in (Party.model_validate(a) for a in before["event"]["attendees"])
                   if left.email not in staying and self._routed_address(left.email, left.organisation or "", by_files)]
        if not leaving:
            return  # the common case, without asking the store for the copy's SEQUENCE (every upcoming session asks)
        sequence = self.db.scalar(select(func.max(OutboxItem.sequence)).where(
            OutboxItem.target == target.name, OutboxItem.object_type == CALENDAR, OutboxItem.object_id == code)) or 0
        for left in leaving:
            payload = {**self._uninvitation(event_of(target, language=left.language), left), "copy_sequence": sequence}
            enqueue(self.db, self.run_id, target.name, CALENDAR, f"{code}|{left.email}", payload, action="cancel",
                    volatile=lambda _own, shared=sequence: self._stamp(shared))

    def _recipient_objects(self, target: str, session_code: str) -> list[tuple[str, dict[str, Any]]]:
        """Every recipient this session's messages ever went (or were about to go) to, with the last payload."""
        latest: dict[str, dict[str, Any]] = {}
        rows = self.db.scalars(select(OutboxItem).where(OutboxItem.target == target, OutboxItem.object_type == CALENDAR,
                                                        OutboxItem.object_id.like(f"{session_code}|%")).order_by(OutboxItem.sequence))
        for item in rows:
            latest[item.object_id] = item.payload
        return sorted(latest.items())

    def _cancel_if_sent(self, target: str, object_id: str, payload: dict[str, Any]) -> None:
        sent = live_ref(self.db, target, CALENDAR, object_id)
        waiting = has_pending(self.db, target, CALENDAR, object_id)
        attempted = waiting is not None and waiting.action == "upsert" and (waiting.attempts > 0 or waiting.uncertain)
        if sent is None and not attempted:
            if waiting is not None and waiting.action == "upsert":
                waiting.status = "superseded"  # never reached anyone: nothing to cancel
            return
        enqueue(self.db, self.run_id, target, CALENDAR, object_id, payload, action="cancel", volatile=self._stamp)

    def _stamp(self, sequence: int) -> dict[str, Any]:
        return {"sequence": sequence, "dtstamp": self.now.isoformat()}

    def _routed(self, person: Person, target: CalendarTarget) -> bool:
        return self._routed_address(person.email, person.organisation_id, target)

    def _routed_address(self, address: str | None, organisation_id: str, target: CalendarTarget) -> bool:
        """Whether this target invites that address: the organisation's channel, unless the person has their own."""
        if target.channel is None:
            return True
        organisation = self.config.organisation(organisation_id)
        if organisation is None:
            return False
        channel = organisation.invitation_overrides.get((address or "").lower(), organisation.invitations)
        return channel == target.channel

    def event(self, session: Moment, target: CalendarTarget, language: str | None = None) -> CalendarEvent:
        exchange = session.exchange
        switcher = exchange.switcher
        place = exchange.learning_place
        host = place.organisation
        coaches = [p for p in (self.db.get(Person, c) for c in exchange.coach_ids) if p is not None and p.id not in self.erased]
        language = language or switcher.language
        partner = self.config.partner
        if isinstance(session, Reminder):
            kind_name = text(language, "kind.reminder", after=offset_label(language, session.after))
        else:
            kind_name = text(language, f"kind.{session.kind}")
        on_site = session.mode == "on_site"
        location = session.location or (place.address or host.address if on_site else None)
        lines = [
            text(language, f"about.{session.kind}"),
            "",
            labelled(language, "label.question", exchange.learning_question.title),
            labelled(language, "label.switcher", f"{switcher.full_name} ({switcher.organisation.name})"),
            labelled(language, "label.place", f"{place.name} – {host.name}"),
            labelled(language, "label.coach", ", ".join(c.full_name for c in coaches) or "–"),
            labelled(language, "label.where", location if on_site and location else text(language, "label.online")),
            "",
            text(language, "label.contact", name=partner.organiser_name or partner.name, email=partner.organiser_email),
        ]
        attendees = []
        for person in [switcher, *coaches]:
            if not self._routed(person, target):
                continue
            if not person.email:
                # Only where an invitation would go out: a cancelled exchange invites nobody.
                if (session.code, person.id) not in self._reported and exchange.status in LIVE and not session.removed:
                    self._reported.add((session.code, person.id))
                    self.problems.append(Problem("invitations", "sessions", session.code, "attendee",
                                                 f"{person.full_name} ({person.organisation_id}) has no work e-mail; they get no invitation"))
                continue
            attendees.append(Party(email=person.email, name=person.full_name, role="REQ-PARTICIPANT", language=person.language,
                                   organisation=person.organisation_id))
        manager = self._manager_attendee(session)
        if manager is not None and self._routed(manager, target):
            attendees.append(Party(email=manager.email or "", name=manager.full_name, role="OPT-PARTICIPANT", language=manager.language,
                                   organisation=manager.organisation_id))
        sender = self.config.organisation(switcher.organisation_id)
        with_hr = target.invite_hr or (isinstance(session, Reminder) and session.with_hr)
        if with_hr and sender is not None and sender.hr_email and self._routed_address(sender.hr_email, sender.id, target):
            attendees.append(Party(email=sender.hr_email, name=f"HR {sender.name}", role="OPT-PARTICIPANT", language=sender.language.value))
        receiving = self.config.organisation(host.id)
        if (isinstance(session, Reminder) and session.with_hr and receiving is not None and receiving.hr_email
                and receiving.id != switcher.organisation_id and self._routed_address(receiving.hr_email, receiving.id, target)):
            # the host evaluates too (the method's draaiboek, step 5.8): its HR contact on the evaluation moments
            attendees.append(Party(email=receiving.hr_email, name=f"HR {receiving.name}", role="OPT-PARTICIPANT",
                                   language=receiving.language.value))
        return CalendarEvent(
            uid=session_uid(partner.id, session.code, partner.uid_host),
            summary=text(language, "summary", kind=kind_name, place=place.name, host=host.name),
            description="\n".join(lines),
            start=session.start,
            end=session.end,
            timezone=partner.timezone,
            location=location if on_site else None,
            online=not on_site,
            organizer=Party(email=partner.organiser_email, name=partner.organiser_name or partner.name, role="CHAIR"),
            attendees=attendees,
            kind=session.kind,
            language=language,
            all_day=partner.all_day_exchange_days and session.kind == EXCHANGE_DAY,
        )

    def _retract_day(self, targets: list[str], record_id: str, payload: dict[str, Any], verdict: Any, holder: Person,
                     last_counted: Any) -> None:
        """Take one day's record back in every write-back target that got it, with the reason
        (the switcher's record and a coach's alike)."""
        retraction = {**payload, "reason": verdict.reason, "attendance": verdict.attendance}
        for target in targets:
            addressed = self._addressed(target, retraction, holder)
            if target in self.targets.with_learning_place:
                # one course activity per exchange: the last day that still counts, or none
                addressed["exchange_last_date"] = last_counted
            self._retract_if_written(target, record_id, addressed)

    def _with_personal_link(self, session: Moment, event: CalendarEvent, email: str) -> CalendarEvent:
        """A message to one recipient, with their personal link (see _personal_link)."""
        found = self._personal_link(session, email, event.language or "nl")
        if found is None:
            return event
        return event.model_copy(update={"description": event.description + "\n\n" + found[1]})

    def _shared_links(self, session: Moment, event: CalendarEvent) -> CalendarEvent:
        """A Graph event, one for all its attendees: with one attendee who has a personal link,
        the link goes in its body; with several, none does (the body is shared) and each of them
        gets the link in a note of their own (connector/core/link_note.py), in their language."""
        holders = [(a, self._personal_link(session, a.email, a.language or event.language or "nl")) for a in event.attendees]
        linked = [(a, found) for a, found in holders if found is not None]
        if len(linked) == 1:
            return self._with_personal_link(session, event, linked[0][0].email)
        if self.targets.link_notes is None:
            return event
        partner = self.config.partner
        for attendee, (subject, line) in linked:
            payload = {"language": attendee.language or event.language or "nl", "recipient": {"email": attendee.email, "name": attendee.name},
                       "summary": event.summary, "start": session.start.astimezone(self.zone).isoformat(), "timezone": partner.timezone,
                       "line": line, "organiser": {"email": partner.organiser_email, "name": partner.organiser_name or partner.name}}
            enqueue(self.db, self.run_id, self.targets.link_notes, LINK_NOTE, f"{session.code}|{subject}", payload, volatile=self._stamp)
        return event

    def _withdraw_link_notes(self, session: Moment, live: bool) -> None:
        """A link note that went out (or may have) while its moment is off, or while the moment goes
        on without its person, is replaced by a short note saying so, in their language and without
        the link: change "cancelled" or "uninvited" (connector/core/link_note.py), action "cancel",
        the same file. One that never went out is dropped. Someone who still has a link for the
        moment keeps their note, also where the link now goes in the event (one linked attendee)
        or another channel carries it. A person told once is not told again (a whole-moment
        cancellation after an un-invitation included); invited again, they get their link anew."""
        target = self.targets.link_notes
        if target is None:
            return
        if self._noted is None:  # one query a run, not one per session
            self._noted = {}
            for object_id in self.db.scalars(select(OutboxItem.object_id).distinct().where(
                    OutboxItem.target == target, OutboxItem.object_type == LINK_NOTE)):
                code, _, subject = object_id.rpartition("|")
                self._noted.setdefault(code, set()).add(subject)
        noted = self._noted.get(session.code)
        if not noted:
            return
        holders: set[str] = set()
        if live:
            web = self.config.web
            if web is None or not web.base_url or not web.link_keys:
                return  # links are not made at all now: nothing to say about one person
            everyone = self.event(session, CalendarTarget(target, invite_hr=True))
            for attendee in everyone.attendees:
                found = self._personal_link(session, attendee.email, attendee.language or everyone.language or "nl")
                if found is not None:
                    holders.add(found[0])
        for subject in sorted(noted - holders):
            object_id = f"{session.code}|{subject}"
            sent = self._last_sent_item(target, LINK_NOTE, object_id)
            if sent is None:
                waiting = has_pending(self.db, target, LINK_NOTE, object_id)
                if waiting is not None:
                    waiting.status = "superseded"  # never went out: nobody to tell
                continue
            told = {k: v for k, v in (sent.payload or {}).items() if k not in ("dtstamp", "sequence")}
            if sent.action != "cancel":
                told = {k: v for k, v in told.items() if k != "line"} | {"change": "uninvited" if live else "cancelled"}
            enqueue(self.db, self.run_id, target, LINK_NOTE, object_id, told, action="cancel", volatile=self._stamp)

    def _personal_link(self, session: Moment, email: str, language: str) -> tuple[str, str] | None:
        """(subject, the line with their personal link in `language`) for one recipient of a
        moment, or None when they have no form there or [web] has no base_url or link key
        (connector/core/links.py). An evaluation reminder links to the questions for their role
        (switcher, coach, the sending employer's HR or the switcher's line manager, the host's
        HR contact); an exchange day's invitation links the coaches to the attendance
        confirmation and the switcher to the day's reflection; the intro call's links the
        switcher and the coaches to the exchange's learning action plan. A link expires [web]
        link_days after its moment and is the same on every run."""
        web = self.config.web
        if web is None or not web.base_url or not web.link_keys:
            return None
        exchange = session.exchange
        people = [exchange.switcher, *(p for p in (self.db.get(Person, c) for c in exchange.coach_ids) if p is not None)]
        person = next((p for p in people if (p.email or "").lower() == email.lower()), None)
        sender = self.config.organisation(exchange.switcher.organisation_id)
        host = self.config.organisation(exchange.learning_place.organisation_id)
        manager = self._manager_attendee(session) if isinstance(session, Reminder) else None
        if person is not None:
            subject, role = person.id, "switcher" if person.id == exchange.switcher_id else "coach"
        elif manager is not None and (manager.email or "").lower() == email.lower():
            subject, role = manager.id, "employer"  # the line manager answers the sending employer's questions
        elif sender is not None and (sender.hr_email or "").lower() == email.lower():
            subject, role = f"hr:{sender.id}", "employer"
        elif host is not None and (host.hr_email or "").lower() == email.lower():
            subject, role = f"host:{host.id}", "host"
        else:
            return None
        if isinstance(session, Reminder) or session.kind == EVALUATION:
            purpose, day = "evaluation", session.code  # one answer per evaluation moment: 1 week, 2 months... each kept
        elif session.kind == EXCHANGE_DAY and role in ("switcher", "coach"):
            purpose, day = ("reflection" if role == "switcher" else "attendance"), session.code
        elif session.kind == REFLECTION and role == "switcher":
            purpose, day = "reflection", ""  # the reflection moment: on any of the exchange's days that have begun
        elif session.kind == INTRO_CALL and role in ("switcher", "coach"):
            purpose, day = "action_plan", ""  # the plan they make together in and after the call
        else:
            return None
        token = sign_link(web.keys(), Link(subject, exchange.code, purpose, role, session.end + timedelta(days=web.link_days), day))
        url = f"{web.base_url.rstrip('/')}/l/{token}"
        key = "web.link." + purpose  # web.link.evaluation, .attendance, .reflection, .action_plan
        return subject, text(language, key, url=url)

    # -- line managers -------------------------------------------------------------------

    def _manager_policy(self, person: Person) -> str:
        organisation = self.config.organisation(person.organisation_id)
        return organisation.manager_policy if organisation is not None else "none"

    def _manager(self, person: Person) -> Person | None:
        """The person's line manager when someone can reach them: known, active, not erased, with a work e-mail."""
        if not person.manager or person.manager in self.erased:
            return None
        manager = self.db.get(Person, person.manager)
        if manager is None or not manager.active or not manager.email or manager.id in self.erased:
            return None
        return manager

    def _manager_attendee(self, session: Moment) -> Person | None:
        """The switcher's manager on the sessions the organisation's policy gives them: the intro
        call ("invite_intro"), and the evaluation moments with either policy, since the sending
        employer is asked to evaluate (the method's draaiboek, step 5.8)."""
        switcher = session.exchange.switcher
        policy = self._manager_policy(switcher)
        if policy == "none":
            return None
        evaluation = isinstance(session, Reminder) or session.kind == EVALUATION
        if not evaluation and not (policy == "invite_intro" and session.kind == INTRO_CALL):
            return None
        return self._manager(switcher)

    def manager_note(self, exchange: Exchange, sessions: list[SessionRow]) -> None:
        """Under "inform": one short message to the switcher's manager when the exchange is
        confirmed, when its dates move and when it is cancelled, through the channel that
        invites the manager. The last note the target got decides: the same dates plan the same
        note (so a re-run writes nothing), other dates a "moved" one, a cancellation after a
        note a "cancelled" one; an exchange cancelled before any note went out says nothing."""
        switcher = exchange.switcher
        if self._manager_policy(switcher) != "inform":
            return
        manager = self._manager(switcher)
        organisation = self.config.organisation(switcher.organisation_id)
        if manager is None or organisation is None:
            return
        channel = organisation.invitation_overrides.get((manager.email or "").lower(), organisation.invitations)
        target = self.targets.manager_notes.get(channel)
        if target is None:
            return
        object_id = f"{exchange.code}|{manager.id}"
        for waiting in self.db.scalars(select(OutboxItem).where(OutboxItem.object_type == MANAGER_NOTE, OutboxItem.status == "pending",
                                                                OutboxItem.object_id.like(f"{exchange.code}|%"))):
            if waiting.object_id != object_id and not (waiting.attempts > 0 or waiting.uncertain):
                waiting.status = "superseded"  # for a manager who is not theirs any more, and it never went out
        sent = self._last_note(target, object_id)
        dated = sorted((s for s in sessions if not s.removed and s.kind in (INTRO_CALL, EXCHANGE_DAY)), key=lambda s: (s.start, s.code))
        days = [{"kind": s.kind, "start": s.start.astimezone(self.zone).isoformat()} for s in dated]
        partner = self.config.partner
        place = exchange.learning_place
        payload: dict[str, Any] = {
            "language": manager.language, "recipient": {"email": manager.email, "name": manager.full_name},
            "switcher": switcher.full_name, "question": exchange.learning_question.title, "place": place.name,
            "host": place.organisation.name, "timezone": partner.timezone,
            "organiser": {"email": partner.organiser_email, "name": partner.organiser_name or partner.name},
        }
        if exchange.status in LIVE:
            if not dated or all(s.end <= self.now for s in dated):
                return  # nothing ahead: history, never announced late
            if sent is not None and sent.get("change") != "cancelled" and sent.get("days") == days:
                enqueue(self.db, self.run_id, target, MANAGER_NOTE, object_id, sent, volatile=self._stamp)  # what they have
                return
            change = "moved" if sent is not None and sent.get("change") != "cancelled" else "confirmed"
            enqueue(self.db, self.run_id, target, MANAGER_NOTE, object_id, {"change": change, **payload, "days": days}, volatile=self._stamp)
            return
        if sent is None:
            waiting = has_pending(self.db, target, MANAGER_NOTE, object_id)
            if waiting is not None:
                waiting.status = "superseded"  # never went out: nobody to tell it is off
            return
        if sent.get("change") == "cancelled":
            enqueue(self.db, self.run_id, target, MANAGER_NOTE, object_id, sent, volatile=self._stamp)
            return
        told = sent.get("days") or []
        if all(datetime.fromisoformat(day["start"]) <= self.now for day in told):
            return  # the days they were told of are behind us
        enqueue(self.db, self.run_id, target, MANAGER_NOTE, object_id, {"change": "cancelled", **payload, "days": told},
                volatile=self._stamp)

    def _last_note(self, target: str, object_id: str) -> dict[str, Any] | None:
        """The last note that went (or may have gone) out, without its volatile stamp; None if none did."""
        return self._last_sent(target, MANAGER_NOTE, object_id)

    def _last_sent(self, target: str, object_type: str, object_id: str) -> dict[str, Any] | None:
        """The payload of the last write that went (or may have gone) out to `target`, without its
        volatile stamp; None if none did."""
        item = self._last_sent_item(target, object_type, object_id)
        return {k: v for k, v in (item.payload or {}).items() if k not in ("dtstamp", "sequence")} or None if item is not None else None

    def _last_sent_item(self, target: str, object_type: str, object_id: str) -> OutboxItem | None:
        """The last outbox item that went (or may have gone) out to `target` for this object."""
        rows = self.db.scalars(select(OutboxItem).where(OutboxItem.target == target, OutboxItem.object_type == object_type,
                                                        OutboxItem.object_id == object_id).order_by(OutboxItem.sequence.desc()))
        for item in rows:
            if item.status == "done" or item.status == "pending" and (item.attempts > 0 or item.uncertain):
                return item
        return None

    # -- the coach's learning ------------------------------------------------------------------

    def coach_learning(self, exchange: Exchange, sessions: list[SessionRow]) -> None:
        """Hosting is learning too (the method; issue 15 item 5). Each coach whose employer has
        `coach_learning` gets, per exchange that happened, a leerbewijs of their own (numbered
        LB-<year>-C<nnnn>, revoked and replaced as the switcher's is) and an informal training
        record per exchange day that counts for them, written to their own employer's write-back
        targets and retracted there when the day turns out not to have happened. A coach taken off
        the exchange (or whose employer switches it off) has theirs revoked and retracted."""
        coaches = self._learning_coaches(exchange)
        for coach in coaches:
            self.leerbewijs(exchange, sessions, coach)
            self.coach_training_records(exchange, sessions, coach)
        self._former_coaches(exchange, sessions, {c.id for c in coaches})

    def _learning_coaches(self, exchange: Exchange) -> list[Person]:
        found = []
        for person_id in exchange.coach_ids or []:
            coach = self.db.get(Person, person_id)
            if coach is None or coach.id in self.erased:
                continue
            organisation = self.config.organisation(coach.organisation_id)
            if organisation is not None and organisation.coach_learning:
                found.append(coach)
        return found

    def coach_day_count(self, exchange: Exchange, session: SessionRow, coach: Person) -> DayCount:
        """Whether an exchange day counts as the coach's training: only if it happened (as
        day_count says: not cancelled, removed, ahead or marked absent, the switcher's policy),
        and not declined by the coach in the calendar (unless their employer counts "planned"
        days); under their employer's "confirmed" policy only a day marked attended."""
        verdict = self.day_count(exchange, session)
        if not verdict.counts:
            return verdict
        organisation = self.config.organisation(coach.organisation_id)
        policy = organisation.writeback_days if organisation is not None else "not_declined"
        email = (coach.email or "").lower()
        if email and email in self._declines.get(session.code, set()) and policy != "planned":
            return DayCount(False, "declined", "the coach declined in the calendar")
        if verdict.attendance != "attended" and policy == "confirmed":
            return DayCount(False, verdict.attendance, "not confirmed as attended")
        return verdict

    def coach_days(self, exchange: Exchange, sessions: list[SessionRow], coach: Person) -> list[SessionRow]:
        return [d for d in self._days(sessions) if self.coach_day_count(exchange, d, coach).counts]

    def _coach_leerbewijs(self, exchange: Exchange, days: list[SessionRow], number: str, issued_on: date,
                          status: dict[str, Any] | None, replaces: Leerbewijs | None, coach: Person) -> Leerbewijs:
        """A coach's leerbewijs: it names the coach (the holder), their employer, the place and the
        learning question they hosted, and the days; not the switcher (it is the coach's proof)."""
        employer = coach.organisation
        place = exchange.learning_place
        salt, identity, identity_type = self._recipient(coach, number, exchange)
        content: dict[str, Any] = {
            "number": number,
            "issued_on": issued_on.isoformat(),
            "language": coach.language,
            "role": COACH,
            "partner": {"name": self.config.partner.issuer_name or self.config.partner.name,
                        "email": self.config.partner.organiser_email},
            "holder": {"name": coach.full_name, "employee_number": coach.employee_number},
            "employer": {"name": employer.name, "enterprise_number": employer.enterprise_number},
            "host": {"name": place.organisation.name, "enterprise_number": place.organisation.enterprise_number},
            "place": place.name,
            "coaches": [coach.full_name],
            "question": exchange.learning_question.title,
            "exchange": exchange.code,
            "days": self._stated_days(days),
            "total_hours": round(sum(self._hours(d) for d in days), 2),
            "recipient": {"salt": salt, "identity_hash": recipient_identity(identity, salt), "identity_type": identity_type},
            "subject": learner_subject(self.config.partner.issuer_url, coach.id),
        }
        if status is not None:
            content["status"] = status
        if replaces is not None:
            content["replaces"] = replaces.number
        return Leerbewijs(number=number, exchange_code=exchange.code, issued_on=issued_on, language=coach.language,
                          total_hours=content["total_hours"], fingerprint=fingerprint(content), content=content,
                          role=COACH, holder_id=coach.id)

    def coach_training_records(self, exchange: Exchange, sessions: list[SessionRow], coach: Person) -> None:
        """One informal training record per exchange day that counts for the coach, in every
        write-back target of the coach's employer; one written before that no longer counts is
        retracted there with the reason and leaves the training account (as training_records)."""
        current = self._current_leerbewijs(exchange, coach)
        number = current.number if current is not None else None
        place = exchange.learning_place
        language = coach.organisation.language
        every_day = [s for s in sessions if s.kind == EXCHANGE_DAY]
        last_counted = max((self._local_date(d) for d in every_day if self.coach_day_count(exchange, d, coach).counts), default=None)
        targets = self.targets.writeback.get(coach.organisation_id, [])
        provider = self.config.partner.issuer_name or self.config.partner.name
        for day in every_day:
            record_id = coaching_record_id(day.code, coach.id)
            verdict = self.coach_day_count(exchange, day, coach)
            values: dict[str, Any] = {
                "person_id": coach.id, "origin": COACHING, "kind": "informal",
                "date": datetime.fromisoformat(self._local_date(day)).date(), "hours": self._hours(day),
                "title": text(language, "record.title_coach", place=place.name), "provider": provider,
                "exchange_code": exchange.code, "session_code": day.code, "leerbewijs_number": number, "source": None,
            }
            payload = {
                "record_id": record_id, "organisation": coach.organisation_id, "employee_number": coach.employee_number,
                "email": coach.email, "first_name": coach.first_name, "last_name": coach.last_name,
                "date": values["date"].isoformat(), "hours": values["hours"], "kind": "informal",
                "type": text(language, "record.type_coach"), "title": values["title"], "provider": provider,
                "coach": coach.full_name, "learning_question": exchange.learning_question.title,
                "leerbewijs_number": number, "exchange": exchange.code, "role": COACH,
            }
            row = self.db.get(TrainingRecord, record_id)
            if not verdict.counts:
                if row is not None:
                    self.db.delete(row)
                self._retract_day(targets, record_id, payload, verdict, coach, last_counted)
                continue
            self._book_day(coach, record_id, row, values, payload, targets, place)

    def _former_coaches(self, exchange: Exchange, sessions: list[SessionRow], learning: set[str]) -> None:
        """What a coach got for this exchange while they were a learning coach of it, taken back
        once they no longer are: their leerbewijs revoked, their written days retracted."""
        reason = "no longer a coach of the exchange with coach_learning"
        held = self.db.scalars(select(Leerbewijs).where(Leerbewijs.exchange_code == exchange.code, Leerbewijs.role == COACH,
                                                        Leerbewijs.revoked_at.is_(None)))
        for issued in list(held):
            if issued.holder_id in learning or issued.holder_id in self.erased or issued.content.get("erased"):
                continue
            if mark_revoked(issued, self.witness.revoked.get(issued.number), AUTOMATIC + reason, self.now):
                self.revoked.append({"number": issued.number, "exchange": exchange.code, "reason": issued.revoked_reason or reason})
        records = self.db.scalars(select(TrainingRecord).where(TrainingRecord.exchange_code == exchange.code,
                                                               TrainingRecord.origin == COACHING))
        for row in list(records):
            if row.person_id in learning or row.person_id in self.erased:
                continue
            person = row.person
            payload = {"record_id": row.id, "organisation": person.organisation_id, "employee_number": person.employee_number,
                       "email": person.email, "first_name": person.first_name, "last_name": person.last_name,
                       "date": row.date.isoformat(), "hours": row.hours, "kind": row.kind, "title": row.title,
                       "provider": row.provider, "exchange": exchange.code, "role": COACH, "reason": reason, "attendance": "unknown"}
            for target in self.targets.writeback.get(person.organisation_id, []):
                addressed = self._addressed(target, payload, person)
                if target in self.targets.with_learning_place:
                    addressed["exchange_last_date"] = None
                self._retract_if_written(target, row.id, addressed)
            self.db.delete(row)


COACH = "coach"  # a leerbewijs' role when its holder is a coach (the switcher's: "switcher")
COACHING = "coaching"  # a training record's origin: a coach's exchange day


def coaching_record_id(session_code: str, coach_id: str) -> str:
    """The stable id of a coach's training record for one exchange day."""
    return f"coaching:{session_code}:{coach_id}"


def _held_by(coach: Person | None, anyone: bool = False) -> tuple[Any, ...]:
    """Conditions on Leerbewijs rows: the switcher's (coach None), that coach's, or (anyone) any coach's."""
    if coach is None:
        return (Leerbewijs.role == "switcher",)
    return (Leerbewijs.role == COACH,) if anyone else (Leerbewijs.role == COACH, Leerbewijs.holder_id == coach.id)


def sync_organisations(db: Session, config: Config) -> None:
    """The configuration is the source of truth for the network's organisations."""
    for organisation in config.organisations:
        values = {
            "name": organisation.name, "enterprise_number": organisation.enterprise_number,
            "average_workforce": organisation.average_workforce, "training_days_override": organisation.training_days,
            "hours_per_training_day": organisation.hours_per_training_day, "joint_committee": organisation.joint_committee,
            "address": organisation.address, "language": organisation.language.value,
        }
        row = db.get(Organisation, organisation.id)
        if row is None:
            db.add(Organisation(id=organisation.id, **values))
        else:
            row.assign(values)
    db.flush()
