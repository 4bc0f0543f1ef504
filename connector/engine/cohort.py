"""The cohort around the exchanges: its phases and deadlines, its group moments, and who
still owes what (the glossary is at the end of connector/core/model.py).

- Reconcile (`CohortYear`): cohorts, phases and group moments from the cohort sheet; each
  learning question and exchange gets its cohort (its Cohort column, else the only cohort).
- Owed (`owed`): per phase that asks for something, who has not delivered it yet:
  organisations without a learning question in the cohort (questions) or without a learning
  place (places), switchers without a first preference and without an exchange (preferences),
  questions still without an exchange (matching, the ST-partner's).
- Plan (`CohortPlanner`): group moments are invited to their audience, and deadline reminders
  go to whoever owes something, through the same calendar targets, outbox, SEQUENCE and
  cancel rules as the exchanges' sessions (engine/plan.py); a person leaving an audience gets
  a cancellation of that moment only (Planner._per_recipient: RFC 5546 section 3.2.5).
- Status (`cohort_status`): the phase of today, and what is overdue by whom.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.core.calendar import CalendarEvent, Party, session_uid
from connector.core.config import Config, OrganisationConfig
from connector.core.errors import Problem
from connector.core.suggest import unknown
from connector.core.texts import labelled, long_date, text
from connector.engine.plan import CalendarTarget, Planner
from connector.engine.reconcile import CohortReconciler
from connector.sinks import CALENDAR
from connector.store.outbox import enqueue
from connector.store.tables import (
    Coach,
    Cohort,
    CohortPhase,
    Exchange,
    GroupMoment,
    LearningPlace,
    LearningQuestion,
    OutboxItem,
    Person,
)
from connector.store.tables import Session as SessionRow

PHASE_ORDER = ("questions", "places", "preferences", "matching", "exchanges", "evaluation")
REMINDED = ("questions", "places", "preferences")  # phases whose deadline someone outside the partner must meet
ACTIVE = ("proposed", "confirmed", "completed")  # an exchange that answers its question (a cancelled one frees it)
DUE = "DUE"  # deadline reminders are "<cohort>-DUE-<phase>-<who>"


# -- reconcile -----------------------------------------------------------------------------

class CohortYear(CohortReconciler):
    """Cohorts, phases and group moments from the cohort sources; the cohort of each learning
    question and exchange. Runs after CohortReconciler (questions and exchanges exist)."""

    def run(self) -> None:
        self.cohorts()
        self.phases()
        self.belonging()
        self.group_moments()

    def cohorts(self) -> None:
        for record in self._records("cohorts"):
            existing = self.db.get(Cohort, record.data["code"])
            if record.deleted:
                if existing is not None:
                    existing.removed = True
                continue
            data = record.data
            self._upsert(Cohort, data["code"], {"name": data["name"], "year": data["year"], "partner": data.get("partner"),
                                                "removed": False})

    def _live_codes(self) -> list[str]:
        return list(self.db.scalars(select(Cohort.code).where(Cohort.removed.is_(False)).order_by(Cohort.code)))

    def _cohort_of(self, record: Any, given: str | None) -> str | None:
        """The named cohort, or the only one; a problem when the name is unknown or none is the only one."""
        codes = self._live_codes()
        if given:
            if given in codes:
                return given
            self._problem(record, "cohort", unknown("cohort", given, codes))
            return None
        return codes[0] if len(codes) == 1 else None

    def phases(self) -> None:
        wanted: set[tuple[str, str]] = set()
        for record in self._records("cohort_phases"):
            if record.deleted:
                continue
            data = record.data
            cohort = self._cohort_of(record, data["cohort"])
            if cohort is None:
                continue
            wanted.add((cohort, data["phase"]))
            values = {"start": date.fromisoformat(data["start"]) if data.get("start") else None,
                      "deadline": date.fromisoformat(data["deadline"])}
            row = self.db.get(CohortPhase, (cohort, data["phase"]))
            if row is None:
                self.db.add(CohortPhase(cohort_code=cohort, phase=data["phase"], **values))
            else:
                row.assign(values)
        for row in self.db.scalars(select(CohortPhase)):
            if (row.cohort_code, row.phase) not in wanted:
                self.db.delete(row)

    def belonging(self) -> None:
        """Each learning question's and exchange's cohort (and the question's stated preference)."""
        for entity, table in (("learning_questions", LearningQuestion), ("exchanges", Exchange)):
            for record in self._records(entity):
                row = self.db.get(table, record.data["code"])
                if row is None or record.deleted:
                    continue
                cohort = self._cohort_of(record, record.data.get("cohort"))
                if row.cohort_code != cohort:
                    row.cohort_code = cohort
                if isinstance(row, LearningQuestion):
                    preference = self._preference(record)
                    if row.preference != preference:
                        row.preference = preference

    def _preference(self, record: Any) -> str | None:
        """The question's first preference when it names an organisation of the network; one that
        does not is a problem naming it and counts as not stated (the matching leaves it out too)."""
        given = record.data.get("preference")
        if not given or str(given).strip().lower() in {o.id for o in self.config.organisations}:
            return given
        self._problem(record, "preference", unknown("organisation", str(given), sorted(o.id for o in self.config.organisations)))
        return None

    def group_moments(self) -> None:
        sessions = set(self.db.scalars(select(SessionRow.code)))
        for record in self._records("group_moments"):
            data = record.data
            existing = self.db.get(GroupMoment, data["code"])
            if record.deleted:
                if existing is not None and not existing.removed:
                    existing.removed = True  # gone from the sheet: cancelled for everyone invited
                continue
            if data["code"] in sessions:
                self._problem(record, "code", f"'{data['code']}' is already the code of an exchange's session: give the group moment its own")
                continue
            cohort = self._cohort_of(record, data.get("cohort"))
            if cohort is None:
                if not data.get("cohort"):
                    self._problem(record, "cohort", "which cohort? name one of: " + (", ".join(self._live_codes()) or "(no cohort in the Cohorten sheet)"))
                continue
            start, end = self._moment(record, "start"), self._moment(record, "end")
            if start is None or end is None:
                continue
            people = [p for p in (self._listed(record, ref) for ref in data.get("people", [])) if p]
            values = {"cohort_code": cohort, "kind": data["kind"], "title": data.get("title"), "start": start, "end": end,
                      "mode": data["mode"], "location": data.get("location"), "audience": list(data.get("audience", [])),
                      "people": people, "removed": False}
            self._upsert(GroupMoment, data["code"], values)

    def _listed(self, record: Any, reference: str) -> str | None:
        """A person named in a moment's list: organisation:employee number (or e-mail), or a work
        e-mail that one organisation knows."""
        organisation, _, who = reference.rpartition(":")
        if organisation:
            return self._person(record, "people", organisation.strip().lower(), who)
        if "@" in reference:
            found = list(self.db.scalars(select(Person.id).where(Person.email == reference.strip().lower(), Person.active.is_(True))))
            if len(found) == 1:
                return found[0]
            self._problem(record, "people", f"no single active person with work e-mail '{reference}'"
                          + (" (several organisations have it: write organisation:e-mail)" if found else ""))
            return None
        self._problem(record, "people", f"'{reference}': write a work e-mail or organisation:employee number")
        return None


# -- who owes what -------------------------------------------------------------------------

@dataclass(frozen=True)
class Owed:
    """One party that has not yet delivered what a phase asks for."""

    phase: str
    key: str  # organisation id or person id: stable, in the reminder's code
    organisation: str
    who: str  # as people read it
    person: Person | None = None  # a switcher; None for an organisation (its HR contact is reminded)


def managers_of(db: Session, people: list[Person]) -> list[Person]:
    """The line managers of `people` (Person.manager: a person id in the same organisation,
    pulled from the HR sources), each once, in id order."""
    found: dict[str, Person] = {}
    for person in people:
        manager = db.get(Person, person.manager) if person.manager else None
        if manager is not None and manager.id != person.id:
            found.setdefault(manager.id, manager)
    return sorted(found.values(), key=lambda p: p.id)


def _person_key(person: Person) -> str:
    """A person's part of a reminder's code, readable and stable: organisation and employee
    number, else the person's id (which the store keeps for good)."""
    return f"{person.organisation_id}-{person.employee_number}" if person.employee_number else person.id


def owed(db: Session, config: Config, cohort: Cohort, phase: str) -> list[Owed]:
    """Who still owes what `phase` asks for (empty for a phase that asks nothing of anyone)."""
    questions = list(db.scalars(select(LearningQuestion).where(LearningQuestion.cohort_code == cohort.code)
                                .order_by(LearningQuestion.code)))
    if phase == "questions":
        sending = {q.switcher.organisation_id for q in questions}
        return [Owed(phase, o.id, o.id, o.name) for o in config.organisations if o.id not in sending]
    if phase == "places":
        hosting = set(db.scalars(select(LearningPlace.organisation_id)))
        return [Owed(phase, o.id, o.id, o.name) for o in config.organisations if o.id not in hosting]
    answered = set(db.scalars(select(Exchange.learning_question_code).where(Exchange.status.in_(ACTIVE))))
    if phase == "preferences":
        return [Owed(phase, _person_key(q.switcher), q.switcher.organisation_id, q.switcher.full_name, q.switcher)
                for q in questions if not q.preference and q.code not in answered and q.switcher.active]
    if phase == "matching":
        return [Owed(phase, q.code, config.partner.id, f"{q.code} ({q.switcher.full_name})") for q in questions if q.code not in answered]
    return []


# -- plan ----------------------------------------------------------------------------------

@dataclass
class CohortCall:
    """A moment the cohort plans (a group moment or a deadline reminder), in the shape the
    Planner's per-recipient invitations use (`code`; `plain_mail` as an evaluation reminder)."""

    code: str
    start: datetime
    end: datetime
    plain_mail: bool = False


Build = Callable[..., CalendarEvent]


class CohortPlanner:
    """Plans group moments and deadline reminders with the Planner's routing, outbox and
    cancel rules (it runs after Planner.run, in the same transaction)."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.db = planner.db
        self.config = planner.config
        self.now = planner.now
        self.zone = planner.zone

    def run(self) -> None:
        cohorts = {c.code: c for c in self.db.scalars(select(Cohort).order_by(Cohort.code))}
        for moment in self.db.scalars(select(GroupMoment).order_by(GroupMoment.start, GroupMoment.code)):
            cohort = cohorts.get(moment.cohort_code)
            if cohort is not None:
                self.group_moment(moment, cohort)
        if self.config.cohort.deadline_reminders:
            for cohort in cohorts.values():
                self.deadline_reminders(cohort)

    # -- shared by both ----------------------------------------------------------------------

    def invite(self, call: CohortCall, build: Build, live: bool, needs_attendee: bool = False) -> None:
        """As Planner.invitation: upcoming and live, an event per calendar target (one per
        recipient where the target mails each); otherwise what was sent is cancelled.
        `needs_attendee`: a message for one party (a deadline reminder) is not written to the
        shared copies either when it has nobody to go to: no file to send to nobody."""
        if live and call.end <= self.now or not live and call.start <= self.now:
            return  # past moments are history
        for target in self.planner.targets.calendars:
            if target.per_recipient:
                self.planner._per_recipient(call, target, live, build=build)  # noqa: SLF001 - the one un-invite rule
                continue
            event = build(target)
            if needs_attendee and not event.attendees and target.channel is None:
                continue  # a copy for nobody (the builder reported why, where that is a problem); a channel's cancels below
            payload = {"event": event.model_dump(mode="json")}
            if live and (event.attendees or target.channel is None):
                sent = self.planner._last_sent_item(target.name, CALENDAR, call.code) if target.uninvites else None  # noqa: SLF001
                before = sent.payload if sent is not None and sent.action == "upsert" else None  # after a CANCEL to all: no one's own
                enqueue(self.db, self.planner.run_id, target.name, CALENDAR, call.code, payload, volatile=self.planner._stamp)
                self.planner.uninvite_by_file(call.code, target, before, event, build)
            else:
                self.planner._cancel_if_sent(target.name, call.code, payload)  # noqa: SLF001

    def _party(self, person: Person, target: CalendarTarget, code: str, role: str = "REQ-PARTICIPANT") -> Party | None:
        if person.id in self.planner.erased or not person.active or not self.planner._routed(person, target):  # noqa: SLF001
            return None
        if not person.email:
            if (code, person.id) not in self.planner._reported:  # noqa: SLF001
                self.planner._reported.add((code, person.id))  # noqa: SLF001
                self.planner.problems.append(Problem("invitations", "group_moments", code, "attendee",
                                                     f"{person.full_name} ({person.organisation_id}) has no work e-mail; they get no invitation"))
            return None
        return Party(email=person.email, name=person.full_name, role=role, language=person.language, organisation=person.organisation_id)

    def _hr_party(self, organisation: OrganisationConfig, target: CalendarTarget) -> Party | None:
        if not organisation.hr_email or not self.planner._routed_address(organisation.hr_email, organisation.id, target):  # noqa: SLF001
            return None
        return Party(email=organisation.hr_email, name=f"HR {organisation.name}", role="REQ-PARTICIPANT",
                     language=organisation.language.value, organisation=organisation.id)

    def _contact(self, language: str) -> str:
        partner = self.config.partner
        return text(language, "label.contact", name=partner.organiser_name or partner.name, email=partner.organiser_email)

    def _organiser(self) -> Party:
        partner = self.config.partner
        return Party(email=partner.organiser_email, name=partner.organiser_name or partner.name, role="CHAIR")

    # -- group moments -------------------------------------------------------------------------

    def audience(self, moment: GroupMoment) -> tuple[list[Person], list[OrganisationConfig]]:
        """The people a group moment invites, and the organisations whose HR contact it invites.

        switchers: everyone with a learning question in the cohort; coaches: the learning places'
        coaches and those of the cohort's exchanges; hr: every organisation's HR contact;
        managers: the switchers' line managers (managers_of); plus the moment's own list."""
        groups = set(moment.audience or [])
        questions = list(self.db.scalars(select(LearningQuestion).where(LearningQuestion.cohort_code == moment.cohort_code)))
        switchers = [q.switcher for q in questions]
        people: dict[str, Person] = {}
        if "switchers" in groups:
            people.update((p.id, p) for p in switchers)
        if "coaches" in groups:
            ids = set(self.db.scalars(select(Coach.person_id)))
            for exchange in self.db.scalars(select(Exchange).where(Exchange.cohort_code == moment.cohort_code, Exchange.status.in_(ACTIVE))):
                ids.update(exchange.coach_ids or [])
            people.update((p.id, p) for p in (self.db.get(Person, i) for i in sorted(ids)) if p is not None)
        if "managers" in groups:
            people.update((p.id, p) for p in managers_of(self.db, switchers))
        people.update((p.id, p) for p in (self.db.get(Person, i) for i in moment.people or []) if p is not None)
        ordered = sorted(people.values(), key=lambda p: (p.organisation_id, p.last_name, p.first_name, p.id))
        return ordered, (list(self.config.organisations) if "hr" in groups else [])

    def group_moment(self, moment: GroupMoment, cohort: Cohort) -> None:
        people, organisations = self.audience(moment)
        call = CohortCall(moment.code, moment.start, moment.end)
        live = not moment.removed and not cohort.removed
        if live and call.end > self.now:
            live = self._has_audience(moment, people, organisations)

        def build(target: CalendarTarget, language: str | None = None) -> CalendarEvent:
            return self.group_event(moment, cohort, people, organisations, target, language)

        self.invite(call, build, live=live)

    def _has_audience(self, moment: GroupMoment, people: list[Person], organisations: list[OrganisationConfig]) -> bool:
        """Whether anyone is invited to an upcoming moment; says so when nobody is (no file to send
        to nobody: what went out before is cancelled)."""
        if any(p.email and p.active and p.id not in self.planner.erased for p in people) or any(o.hr_email for o in organisations):
            return True
        self.planner.problems.append(Problem("invitations", "group_moments", moment.code, "audience",
                                             "its audience and list name nobody who can be invited: nothing is sent", warning=True))
        return False

    def group_event(self, moment: GroupMoment, cohort: Cohort, people: list[Person], organisations: list[OrganisationConfig],
                    target: CalendarTarget, language: str | None = None) -> CalendarEvent:
        """The moment as one event for `target`'s attendees; without a `language` (one event that
        several people share) its description is in each of their languages, the partner's first."""
        attendees = [p for p in (self._party(person, target, moment.code) for person in people) if p is not None]
        seen = {a.email for a in attendees}
        for organisation in organisations:
            party = self._hr_party(organisation, target)
            if party is not None and party.email not in seen:
                seen.add(party.email)
                attendees.append(party)
        partner_language = self.config.partner.language.value if hasattr(self.config.partner.language, "value") else str(self.config.partner.language)
        languages = [language] if language else sorted({partner_language, *(a.language for a in attendees)},
                                                       key=lambda lang: (lang != partner_language, lang))
        on_site = moment.mode == "on_site"

        def block(lang: str) -> str:
            return "\n".join([
                text(lang, f"about.group.{moment.kind}"),
                "",
                labelled(lang, "label.cohort", f"{cohort.name} ({cohort.year})"),
                labelled(lang, "label.where", moment.location if on_site and moment.location else text(lang, "label.online")),
                "",
                self._contact(lang),
            ])

        first = languages[0]
        name = moment.title or text(first, f"kind.group.{moment.kind}")
        return CalendarEvent(
            uid=session_uid(self.config.partner.id, moment.code, self.config.partner.uid_host),
            summary=text(first, "group.summary", kind=name, cohort=cohort.name),
            description="\n\n――――\n\n".join(block(lang) for lang in languages),
            start=moment.start, end=moment.end, timezone=self.config.partner.timezone,
            location=moment.location if on_site else None, online=not on_site,
            organizer=self._organiser(), attendees=attendees, kind=f"group_{moment.kind}", language=first,
        )

    # -- deadline reminders ---------------------------------------------------------------------

    def deadline_reminders(self, cohort: Cohort) -> None:
        """Before each deadline that asks something of someone, a short calendar item on the
        deadline day for each party that still owes it, sent `[cohort] lead_days` ahead; once
        delivered, an item already sent is withdrawn (a CANCEL to that party), and nothing
        more is sent. After the deadline nothing changes (past moments are history)."""
        settings = self.config.cohort
        hour, minute = (int(part) for part in settings.time.split(":"))
        phases = {p.phase: p for p in self.db.scalars(select(CohortPhase).where(CohortPhase.cohort_code == cohort.code))}
        today = self.now.astimezone(self.zone).date()
        for phase_name in REMINDED:
            phase = phases.get(phase_name)
            wanted: set[str] = set()
            if phase is not None and not cohort.removed and today >= phase.deadline - timedelta(days=settings.lead_days):
                start = datetime.combine(phase.deadline, time(hour, minute), tzinfo=self.zone)
                for party in owed(self.db, self.config, cohort, phase_name):
                    call = CohortCall(f"{cohort.code}-{DUE}-{phase_name}-{party.key}", start, start + timedelta(minutes=settings.minutes),
                                      plain_mail=True)
                    wanted.add(call.code)
                    self.invite(call, self._reminder_builder(cohort, phase, party), live=True, needs_attendee=True)
            self._withdraw(f"{cohort.code}-{DUE}-{phase_name}-", wanted)

    def _reminder_builder(self, cohort: Cohort, phase: CohortPhase, party: Owed) -> Build:
        organisation = self.config.organisation(party.organisation)

        def build(target: CalendarTarget, language: str | None = None) -> CalendarEvent:
            attendees: list[Party] = []
            if party.person is not None:
                found = self._party(party.person, target, f"{cohort.code}-{phase.phase}")
                attendees = [found] if found is not None else []
                own_language = party.person.language
            elif organisation is not None:
                found = self._hr_party(organisation, target)
                attendees = [found] if found is not None else []
                own_language = organisation.language.value
                if not organisation.hr_email and (phase.phase, organisation.id) not in self.planner._reported:  # noqa: SLF001
                    self.planner._reported.add((phase.phase, organisation.id))  # noqa: SLF001
                    self.planner.problems.append(Problem("reminders", "organisations", organisation.id, "hr_email",
                                                         f"{organisation.name} ({organisation.id}) still owes {phase.phase} of cohort "
                                                         f"{cohort.code} (due {phase.deadline:%d/%m/%Y}) and has no hr_email in the "
                                                         "configuration: nobody is reminded, no file is written", warning=True))
            lang = language or own_language
            what = text(lang, f"deadline.{phase.phase}")
            return CalendarEvent(
                uid=session_uid(self.config.partner.id, f"{cohort.code}-{DUE}-{phase.phase}-{party.key}", self.config.partner.uid_host),
                summary=text(lang, "deadline.summary", what=what, cohort=cohort.name),
                description="\n".join([text(lang, f"deadline.about.{phase.phase}", deadline=long_date(lang, phase.deadline)), "",
                                       labelled(lang, "label.cohort", f"{cohort.name} ({cohort.year})"), "", self._contact(lang)]),
                start=datetime.combine(phase.deadline, time(*(int(p) for p in self.config.cohort.time.split(":"))), tzinfo=self.zone),
                end=datetime.combine(phase.deadline, time(*(int(p) for p in self.config.cohort.time.split(":"))), tzinfo=self.zone)
                + timedelta(minutes=self.config.cohort.minutes),
                timezone=self.config.partner.timezone, online=True, organizer=self._organiser(), attendees=attendees,
                kind="deadline", language=lang,
            )

        return build

    def _withdraw(self, prefix: str, wanted: set[str]) -> None:
        """Reminders planned earlier under `prefix` that are no longer owed: each target's last
        version is cancelled where it was sent (never where it did not go)."""
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        for item in self.db.scalars(select(OutboxItem).where(OutboxItem.object_type == CALENDAR, OutboxItem.object_id.like(f"{prefix}%"))
                                    .order_by(OutboxItem.sequence, OutboxItem.id)):
            latest[(item.target, item.object_id.split("|", 1)[0])] = item.payload
        targets = {t.name: t for t in self.planner.targets.calendars}
        for (target_name, code), payload in sorted(latest.items()):
            target = targets.get(target_name)
            if code in wanted or target is None:
                continue
            event = CalendarEvent.model_validate(payload["event"])
            call = CohortCall(code, event.start, event.end, plain_mail=True)

            def build(_: CalendarTarget, language: str | None = None, event: CalendarEvent = event) -> CalendarEvent:
                return event

            if target.per_recipient:
                if call.start > self.now:
                    self.planner._per_recipient(call, target, False, build=build)  # noqa: SLF001
            elif call.start > self.now:
                self.planner._cancel_if_sent(target_name, code, {"event": payload["event"]})  # noqa: SLF001


def plan_cohort(planner: Planner) -> None:
    """Group moments and deadline reminders, after the exchanges (sync._prepare calls it)."""
    CohortPlanner(planner).run()


# -- status --------------------------------------------------------------------------------

def current_phase(phases: list[CohortPhase], today: date) -> str:
    """The phase of `today`: the first (in the cycle's order) whose deadline is not yet past and
    that has started (or gives no start); before every phase "not started", after all "finished"."""
    ordered = sorted(phases, key=lambda p: (PHASE_ORDER.index(p.phase), p.deadline))
    for phase in ordered:
        if phase.deadline >= today:
            return phase.phase if phase.start is None or phase.start <= today else ("not started" if phase is ordered[0] else phase.phase)
    return "finished" if ordered else "not started"


def cohort_status(db: Session, config: Config, now: datetime) -> list[dict[str, Any]]:
    """Per cohort: {"code", "name", "year", "partner", "phase", "phases": [{"phase", "start",
    "deadline", "state"}], "overdue": [{"phase", "deadline", "who", "organisation"}],
    "group_moments": [{"code", "kind", "start", "audience", "cancelled"}]}. `state` is done
    (deadline past, nothing owed), overdue, current or upcoming; dates are ISO days in the
    partner's time zone. Nothing is written."""
    zone = ZoneInfo(config.partner.timezone)
    today = now.astimezone(zone).date()
    listed = []
    for cohort in db.scalars(select(Cohort).order_by(Cohort.year, Cohort.code)):
        phases = list(db.scalars(select(CohortPhase).where(CohortPhase.cohort_code == cohort.code)))
        phases.sort(key=lambda p: (PHASE_ORDER.index(p.phase), p.deadline))
        phase_now = current_phase(phases, today)
        overdue = []
        rows = []
        for phase in phases:
            late = [o for o in owed(db, config, cohort, phase.phase)] if phase.deadline < today else []
            overdue.extend({"phase": phase.phase, "deadline": phase.deadline.isoformat(), "who": o.who, "organisation": o.organisation}
                           for o in late)
            state = ("overdue" if late else "done") if phase.deadline < today else ("current" if phase.phase == phase_now else "upcoming")
            rows.append({"phase": phase.phase, "start": phase.start.isoformat() if phase.start else None,
                         "deadline": phase.deadline.isoformat(), "state": state})
        moments = [{"code": m.code, "kind": m.kind, "start": f"{m.start.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}",
                    "audience": list(m.audience or []) + (["list"] if m.people else []), "cancelled": m.removed}
                   for m in db.scalars(select(GroupMoment).where(GroupMoment.cohort_code == cohort.code).order_by(GroupMoment.start))]
        listed.append({"code": cohort.code, "name": cohort.name, "year": cohort.year, "partner": cohort.partner,
                       "phase": phase_now, "removed": cohort.removed, "phases": rows, "overdue": overdue, "group_moments": moments})
    return listed
