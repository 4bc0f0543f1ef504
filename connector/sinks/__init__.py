"""Sinks: the systems we write to. One file per kind, each a subclass of Sink.

A sink receives outbox items it declared it can handle (`object_types`; checked once,
when targets are built, not by every sink) and reports an Outcome per item. It must make
a repeated item harmless: the engine re-delivers whatever it has not booked as done.
Sinks import the layers below, including a source of the same vendor for its client; never the engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from collections.abc import Iterable
from typing import Any, Callable, ClassVar

from connector.core.config import Config
from connector.core.errors import Problem
from connector.plumbing.adapters import load_adapter
from connector.plumbing.http import HttpError
from connector.plumbing.runtime import Runtime
from connector.store.outbox import REFERENCE, Outcome
from connector.store.tables import ExternalRef, OutboxItem

CALENDAR = "calendar_event"
TRAINING_RECORD = "training_record"
LEERBEWIJS = "leerbewijs"
PLAN_ORIGIN = "plan_origin"  # a note on the planned item (an HR goal) that a finished exchange answered
YEARLY_HOURS = "yearly_hours"  # a switcher's exchange hours this calendar year, one value per person
MANAGER_NOTE = "manager_note"  # a short message to a switcher's line manager (connector/core/manager_note.py)
LINK_NOTE = "link_note"  # a person's personal link where their invitation is a shared event (connector/core/link_note.py)


@dataclass(frozen=True)
class SinkContext:
    config: Config
    output_dir: Path
    now: datetime
    runtime: Runtime


@dataclass(frozen=True)
class Response:
    """An attendee's answer to an invitation, as the target reports it."""

    remote_id: str
    attendee: str
    response: str  # none, accepted, tentativelyAccepted, declined, notResponded, organizer
    # A target that knows the event only by its UID (an iTIP REPLY by e-mail) leaves remote_id
    # empty and gives the UID; the engine finds the object it wrote with that UID.
    uid: str = ""
    about: str = ""  # where the answer came from (a message), named in the warning when it answers nothing of ours


@dataclass(frozen=True)
class Conflict:
    """Something else in an attendee's calendar overlapping a session we planned."""

    object_id: str
    attendee: str
    start: datetime
    end: datetime
    status: str


class Sink(ABC):
    kind: ClassVar[str]
    object_types: ClassVar[frozenset[str]]
    batch_size: ClassVar[int] = 200
    # `deliver` yields each Outcome as soon as the write is done, and the engine commits it at
    # once: for targets where nothing can be looked up after a crash (SMTP), so a crash repeats
    # at most the one write in flight. Others are booked per batch.
    books_each: ClassVar[bool] = False
    reads_responses: ClassVar[bool] = False  # implements read_responses
    checks_availability: ClassVar[bool] = False  # implements find_conflicts
    # Write-back into an HR system addresses the employee by that system's own id: the
    # planner adds `employee_id`, the remote id of the switcher in the organisation's
    # source of the same kind (or the source named by the `employees_from` option).
    needs_employee_id: ClassVar[bool] = False
    # A target that files exchanges per learning place gets `learning_place` (code, name,
    # description) in its training records; other targets' payloads stay as they were.
    needs_learning_place: ClassVar[bool] = False

    def __init__(self, name: str, options: dict[str, Any], context: SinkContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    def problems(self) -> list[str]:
        return []

    def probe(self) -> list[str]:
        """Warnings that take a look at the target itself (`st-connector check` asks every
        sink; the default asks nothing). Never writes."""
        return []

    def takes(self) -> frozenset[str]:
        """What this target takes as configured; an option may switch an object type on."""
        return self.object_types

    @abstractmethod
    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> Iterable[Outcome]:
        """One Outcome per item, in order (a list, or yielded one by one). `known` holds what the target already has of these
        objects (by object id). Raise only for what stops the whole target."""


    def read_responses(self, cursor: str | None) -> tuple[list[Response], str | None]:
        """Attendee answers that changed since `cursor`, and the cursor for next time."""
        return [], cursor

    def find_conflicts(self, items: list[OutboxItem]) -> list[Conflict]:
        """For sessions just written: overlaps in the attendees' own calendars."""
        return []

    def read_problems(self) -> list[Problem]:
        """What the last `read_responses` left alone and why (a message that is not an answer
        to an invitation, a calendar part that cannot be read: warnings naming it), or an error
        when the answers could not be read at all (the cursor then stays where it was)."""
        return []


def reference(object_id: str) -> str:
    return f"{REFERENCE}{object_id}"


def describe(payload: dict[str, Any]) -> str:
    """Whom an outbox item is about, for error messages: a switcher and day, or a leerbewijs."""
    content = payload.get("content")
    if content:
        holder = (content.get("holder") or content.get("switcher") or {}).get("name")  # a coach's own, or the switcher's
        return f"{holder} (leerbewijs {content['number']})"
    if "change" in payload and "switcher" in payload:
        return f"{payload['switcher']} (note to their manager, {payload['change']})"
    if "year" in payload:
        return f"{payload['first_name']} {payload['last_name']} (exchange hours {payload['year']})"
    return f"{payload['first_name']} {payload['last_name']} ({payload['date']})"


def unknown_employee(payload: dict[str, Any], system: str) -> Outcome | None:
    """For sinks that need the switcher's id in the target system: an error while it is unknown.
    The planner supersedes the item once a pull brings the id."""
    if payload.get("employee_id"):
        return None
    return Outcome(ok=False, error=f"{describe(payload)} is not (yet) known in {system}: "
                                   "no employee record of theirs was pulled, so nothing was written")


def failed(error: HttpError, about: str, explain: Callable[[HttpError], str] = str) -> Outcome:
    """A write that raised: a failed Outcome, `uncertain` when the write may have landed."""
    return Outcome(ok=False, error=f"{about}: {explain(error)}", uncertain=error.uncertain)


def per_employee(items: list[OutboxItem], system: str, write: Callable[[OutboxItem, str], Outcome],
                 explain: Callable[[HttpError], str] = str) -> list[Outcome]:
    """Deliver for sinks that address the switcher by their id in `system`: one `write(item,
    employee_id)` per item. A switcher the system does not know yet, or an HTTP error, becomes
    that item's failed Outcome, naming whom it was about; the other items go on."""
    outcomes = []
    for item in items:
        unknown = unknown_employee(item.payload, system)
        if unknown is not None:
            outcomes.append(unknown)
            continue
        employee = str(item.payload["employee_id"])
        try:
            outcomes.append(write(item, employee))
        except HttpError as error:
            outcomes.append(failed(error, f"{describe(item.payload)}, {system} employee {employee}", explain))
    return outcomes


def sink_class(kind: str) -> type[Sink]:
    """The adapter for a kind lives in connector/sinks/<kind>.py and names itself SINK."""
    return load_adapter(__name__, kind, "SINK", "sink")

