"""Eraser for line managers (connector/store/erasure.py explains the hook): erasing a person
clears them as someone's manager (their own link goes with their person row). Imported by
connector/store/erasers.py before the `people` eraser, which re-keys the person row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from connector.store.erasure import ErasureJob, Subject, eraser
from connector.store.tables import Person, SourceRecord


@eraser("line managers")
def _managers(job: ErasureJob) -> None:
    """Nobody keeps the erased person as their manager. Their reports' own source records stay
    (they are someone else's data), with the manager reference taken out of the mapped and the
    raw record, so the `source records` eraser after this one does not take them for records of
    the erased person. A source that still names them brings the link back on the next pull:
    correct it first, as for the person's own record."""
    subject = job.subject
    reports = list(job.db.scalars(select(Person).where(Person.manager == subject.person_id)))
    for person in reports:
        person.manager = None
        for record in job.db.scalars(select(SourceRecord).where(SourceRecord.canonical_id == person.id, SourceRecord.entity == "people")):
            data = dict(record.data or {})
            data.pop("manager", None)
            record.data = _scrubbed(data, subject)
            record.raw = _scrubbed(record.raw or {}, subject)
    job.removed("manager links to them (their reports' records keep no reference)", len(reports))
    # Their own link goes with their person row: the `people` eraser keeps no manager on the pseudonym.


def _scrubbed(value: Any, subject: Subject) -> Any:
    """A copy of a JSON value with every value naming the subject (e-mail, name, employee number) set to None."""
    if isinstance(value, dict):
        return {k: _scrubbed(v, subject) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, subject) for v in value]
    return None if subject.names_them(value, True) else value
