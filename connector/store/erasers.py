"""The erasers of the personal data the store holds today, one per kind, in the order they
run (connector/store/erasure.py explains the hook). `people` is last: it re-keys the person
row the others find by its old id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

# answers register their eraser on import, before `people` below re-keys the person
from connector.store import answers as _answers  # noqa: F401
from connector.store.erasure import ERASED_NAME, ErasureJob, Subject, eraser, exchanges_of, place_organisation, rekey_people
from connector.store import erase_managers  # noqa: F401  (registers its eraser before `people`, which runs last)
from connector.store import erase_cohort  # noqa: F401  (group moments' lists; registers before `people` too)
from connector.store.tables import (
    Exchange,
    ExternalRef,
    Leerbewijs,
    LearningQuestion,
    OutboxItem,
    Person,
    PlannedLearning,
    SourceRecord,
    SyncRun,
    TrainingRecord,
)
from connector.store.tables import Session as SessionRow
from connector.store.witness import keep_sequence_floor

COHORT_REFERENCES = {"learning_questions": ("switcher",), "coaches": ("person",), "exchanges": ("coaches",)}


def _cohort_context(job: ErasureJob, record: SourceRecord) -> bool:
    """Whether a cohort record's employee numbers are of the person's organisation."""
    data = record.data or {}
    organisation = data.get("organisation") if record.entity == "learning_questions" else place_organisation(job.db, data.get("learning_place"))
    return organisation == job.subject.organisation_id


@eraser("source records")
def _source_records(job: ErasureJob) -> None:
    """Every record a source delivered about the person, mapped and raw: their HR records,
    training records, and the cohort rows naming them. A source that still lists them
    brings them back on the next sync (the README says to correct it first)."""
    subject = job.subject
    doomed = []
    for record in job.db.scalars(select(SourceRecord)):
        own_organisation = record.organisation_id == subject.organisation_id
        numbers = own_organisation or record.organisation_id is None and record.entity in COHORT_REFERENCES and _cohort_context(job, record)
        if record.canonical_id == subject.person_id or (record.organisation_id in (None, subject.organisation_id) and (
                subject.names_them(record.data, numbers) or subject.names_them(record.raw, numbers))):
            doomed.append(record)
    for record in doomed:
        job.db.delete(record)
    job.removed("source records with their raw payloads", len(doomed))


@eraser("training records")
def _training_records(job: ErasureJob) -> None:
    """Training records stay for the training account, under ids that name nobody."""
    rows = list(job.db.scalars(select(TrainingRecord).where(TrainingRecord.person_id == job.subject.person_id)))
    for number, row in enumerate(sorted(rows, key=lambda r: r.id), start=1):
        if row.origin == "pulled":  # "<source>:<remote id>": the remote id holds the employee number
            job.db.add(TrainingRecord(**{**_columns(row), "id": f"erased:{job.subject.pseudonym}:{number}", "source": None,
                                         "person_id": row.person_id}))
            job.db.delete(row)
    job.kept("training records (date, hours, kind, title)", len(rows))


def _columns(row: Any) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


@eraser("learning questions")
def _learning_questions(job: ErasureJob) -> None:
    rows = list(job.db.scalars(select(LearningQuestion).where(LearningQuestion.switcher_id == job.subject.person_id)))
    for row in rows:
        row.title, row.description, row.desired_result = ERASED_NAME, None, None
    job.removed("learning question texts", len(rows))


@eraser("leerbewijzen")
def _leerbewijzen(job: ErasureJob) -> None:
    """The register keeps number, exchange, date, hours and fingerprint; the frozen content
    (names, learning question) goes. The issued PDF is a copy outside the store."""
    for exchange in exchanges_of(job.db, job.subject.person_id):
        for issued in job.db.scalars(select(Leerbewijs).where(Leerbewijs.exchange_code == exchange.code)):  # a corrected one too
            _erase_leerbewijs(job, exchange, issued)


def _erase_leerbewijs(job: ErasureJob, exchange: Exchange, issued: Leerbewijs) -> None:
    holder = issued.holder_id if issued.role == "coach" else exchange.switcher_id  # a coach's own (coach_learning), or the switcher's
    if issued.role == "coach" and holder != job.subject.person_id:
        job.outside(f"leerbewijs {issued.number}", "another coach's own leerbewijs for an exchange the person took part in "
                    "(it names neither the switcher nor other coaches)", "that proof is frozen and belongs to its coach: not changed")
        return
    if holder == job.subject.person_id:
        # its place in the revocation list says nothing about the person and keeps it revocable
        status = (issued.content or {}).get("status")
        issued.content = {"erased": True, **({"status": status} if status else {})}
        job.kept("leerbewijs register entries (number, date, hours, fingerprint)", 1)
        job.outside(str(job.config.path(job.config.signing.keys_dir) / "issued-values.json"), f"leerbewijs {issued.number}",
                    "holds its number, exchange code, date and fingerprint only: nothing personal to remove")
    else:
        job.outside(f"leerbewijs {issued.number}", "named as coach in another switcher's leerbewijs",
                    "that proof is frozen and belongs to its switcher: not changed")


@eraser("outbox")
def _outbox(job: ErasureJob) -> None:
    """Planned and past writes whose payload names the person (invitations, ledger rows):
    nothing about them is sent any more, and no cancellation goes to their address."""
    subject = job.subject
    rows = [item for item in job.db.scalars(select(OutboxItem)) if subject.names_them(item.payload, True) or
            any(item.object_id.casefold().endswith(f"|{e}") for e in subject.emails)]
    job.named.update((item.target, item.object_id) for item in rows)
    keep_sequence_floor(job.db)  # the next run numbers on above what went out, and knows it is no restored store
    kept = [item for item in rows if _off_the_shared_copy(item, subject)]
    for item in rows:
        if item not in kept:
            job.db.delete(item)
    job.removed("outbox entries (planned and past writes)", len(rows) - len(kept))
    job.removed("attendee entries on shared invitations (the others stay invited)", len(kept))


SHARED_EVENT = "calendar_event"  # connector.sinks.CALENDAR: the store sits below the sinks and names it itself


def _off_the_shared_copy(item: OutboxItem, subject: Subject) -> bool:
    """A shared invitation (one object for everyone: a group moment's or session's .ics copy)
    that names the person only as an attendee loses that attendee and stays: it is what the
    next run compares with, so whoever leaves that moment later still gets their own
    cancellation. True when the item was kept that way; False when it must go whole."""
    event = (item.payload or {}).get("event") if item.object_type == SHARED_EVENT and "|" not in item.object_id else None
    attendees = event.get("attendees") if isinstance(event, dict) else None
    if not isinstance(attendees, list):
        return False
    others = [a for a in attendees if not (isinstance(a, dict) and str(a.get("email") or "").casefold() in subject.emails)]
    if not others or len(others) == len(attendees):
        return False
    payload = {**item.payload, "event": {**event, "attendees": others}}
    if subject.names_them(payload, True):
        return False  # named elsewhere in it too: it goes
    item.payload = payload
    return True


@eraser("external references")
def _external_refs(job: ErasureJob) -> None:
    """What each target holds of the person: answers by their address go, per-recipient
    references are re-keyed, and every copy is listed (nothing outside is deleted)."""
    subject = job.subject
    exchanges = exchanges_of(job.db, subject.person_id)
    own = {e.code for e in exchanges if e.switcher_id == subject.person_id}
    sessions = {s.code: s.exchange_code for s in job.db.scalars(
        select(SessionRow).where(SessionRow.exchange_code.in_([e.code for e in exchanges])))}
    # A day's training record names the switcher, and its coaches too (the ledger's coach column).
    objects = {*sessions, *(f"exchange:{code}" for code in sessions), subject.person_id,
               *job.db.scalars(select(Leerbewijs.number).where(Leerbewijs.exchange_code.in_(own), Leerbewijs.role == "switcher")),
               # a coach's own training records and leerbewijzen (coach_learning)
               *(f"coaching:{code}:{subject.person_id}" for code in sessions),
               *job.db.scalars(select(Leerbewijs.number).where(Leerbewijs.role == "coach", Leerbewijs.holder_id == subject.person_id))}
    reminders = tuple(f"{e.code}-EVAL-" for e in exchanges)
    answers = 0
    for ref in list(job.db.scalars(select(ExternalRef))):
        responses = dict((ref.details or {}).get("responses", {}))
        kept = {k: v for k, v in responses.items() if k.casefold() not in subject.emails}
        if kept != responses:
            ref.details = {**(ref.details or {}), "responses": kept}
            answers += len(responses) - len(kept)
        code, _, recipient = ref.object_id.partition("|")
        theirs = recipient.casefold() in subject.emails
        if theirs:  # the object id names their address: the copy is known by pseudonym from now on
            job.db.add(ExternalRef(**{**_columns(ref), "object_id": f"{code}|erased:{subject.pseudonym}"}))
            job.db.delete(ref)
        if theirs or code in objects or code.startswith(reminders) or (ref.target, ref.object_id) in job.named:
            where = ref.remote_id or ref.uid or "written"
            if where.split("#", 1)[0].endswith(".csv"):  # a ledger is written as CSV and as a workbook beside it
                where = f"{where} (and the same row in {where.split('#', 1)[0].removesuffix('.csv')}.xlsx)"
            elif where.endswith(".pdf"):  # a leerbewijs PDF has its EDC and Europass note beside it (same number)
                stem = where.removesuffix(".pdf")
                where = f"{where} (and {stem}.edc.jsonld and {stem}.europass.txt beside it)"
            job.outside(f"target {ref.target}", f"{ref.object_type} {code}" + (" (their own copy)" if theirs else ""),
                        f"{where}: not removed; remove or correct it in that system or file")
    job.removed("attendee answers", answers)


@eraser("run summaries")
def _run_summaries(job: ErasureJob) -> None:
    """Problems, warnings, declines, conflicts, days not counted and manual actions of earlier runs that name the person."""
    removed = 0
    for run in job.db.scalars(select(SyncRun).where(SyncRun.summary.is_not(None))):
        summary = dict(run.summary or {})
        changed = False
        for key in ("errors", "warnings", "declined", "conflicts", "not_counted", "manual_actions"):
            entries = summary.get(key)
            if isinstance(entries, list):
                kept = [e for e in entries if not job.subject.names_them(e, True)]
                if len(kept) != len(entries):
                    removed += len(entries) - len(kept)
                    summary[key], changed = kept, True
        if changed:
            run.summary = summary
    job.removed("lines of earlier run summaries", removed)


@eraser("planned learning")
def _planned_learning(job: ErasureJob) -> None:
    """Plans and development goals are about the person's future, not the training account:
    deleted, with the candidate learning questions made of them."""
    rows = list(job.db.scalars(select(PlannedLearning).where(PlannedLearning.person_id == job.subject.person_id)))
    for row in rows:
        job.db.delete(row)
    job.removed("planned learning items", len(rows))


@eraser("people")
def _people(job: ErasureJob) -> None:
    """The person row: a new random id, no name or identifiers; employment stays for the
    training account. Runs last: the other erasers find rows by the old id."""
    subject = job.subject
    person = job.db.get(Person, subject.person_id)
    if person is None:
        return
    job.db.add(Person(id=subject.pseudonym, organisation_id=person.organisation_id, first_name=ERASED_NAME,
                      last_name=subject.pseudonym[:8], language=person.language, fte=person.fte, weekly_hours=person.weekly_hours,
                      start_date=person.start_date, end_date=person.end_date, active=False, updated_at=person.updated_at))
    job.db.flush()
    rekey_people(job.db, subject.person_id, subject.pseudonym)
    job.db.delete(person)
    job.kept("person (employment kept for the training account; name, e-mail, number, department, site, title, sex removed)", 1)
    for source in next((o.sources for o in job.config.organisations if o.id == subject.organisation_id), []):
        job.outside(f"source {subject.organisation_id}/{source.name} ({source.kind})", "the person's HR record",
                    "not removed: while this source lists them, the next sync brings them back; correct it first")
    for source in job.config.sources:
        job.outside(f"cohort source cohort/{source.name}", "rows naming them (learning question, coach, exchange, a group moment's Deelnemers)",
                    "not removed: delete those rows there, or the next sync reads them again")
