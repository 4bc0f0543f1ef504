"""Eraser for the cohort's group moments (connector/store/erasure.py explains the hook): a
person named in a group moment's own list (the Deelnemers column) is taken off it, in the store
and in the stored copy of that sheet row. Imported by connector/store/erasers.py before the
`people` eraser, which re-keys the person row. A dry run runs it too, so it lists the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from connector.store.erasure import ErasureJob, Subject, eraser
from connector.store.tables import GroupMoment, Person, SourceRecord


@eraser("group moments")
def _group_moments(job: ErasureJob) -> None:
    """Off every group moment's list of people; the moment itself stays for the others. The row
    in the cohort sheet still names them: the `people` eraser lists the cohort source as a copy
    outside the store to correct, or the next sync reads them again."""
    subject = job.subject
    person = job.db.get(Person, subject.person_id)
    references = _references(subject, person.organisation_id if person is not None else subject.organisation_id)
    named: set[str] = set()
    for moment in job.db.scalars(select(GroupMoment).order_by(GroupMoment.code)):
        if subject.person_id in (moment.people or []):
            moment.people = [p for p in moment.people if p != subject.person_id]
            named.add(moment.code)
    for record in job.db.scalars(select(SourceRecord).where(SourceRecord.entity == "group_moments")):
        data = dict(record.data or {})
        people = [p for p in data.get("people") or [] if p.strip().casefold() not in references]
        if people != list(data.get("people") or []):
            record.data = {**data, "people": people}
            record.raw = {k: _without(v, references) for k, v in (record.raw or {}).items()}
            named.add(str(data.get("code")))
    job.removed("group moment attendee entries (Deelnemers: on the list of a kick-off, preparatory meeting or terugkommoment)", len(named))


def _references(subject: Subject, organisation_id: str) -> set[str]:
    """How a Deelnemers cell names the person: work e-mail, or organisation:e-mail or :number (lower case)."""
    own = {*subject.emails, *subject.numbers}
    return {*subject.emails, *(f"{organisation_id}:{value}" for value in own)}


def _without(value: Any, references: set[str]) -> Any:
    """A comma-separated cell without the parts that name the person; other values as they are."""
    if not isinstance(value, str):
        return value
    parts = [part for part in value.split(",") if part.strip().casefold() not in references]
    return ",".join(parts).strip() if len(parts) != len(value.split(",")) else value
