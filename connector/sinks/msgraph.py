"""Outlook invitations through Microsoft Graph: events in the ST-partner's project mailbox.

Exchange sends the invitations, updates and cancellations to the attendees. Every event
carries our key in a single-value extended property and a deterministic transactionId, so
a lost answer or a crash never yields a second event: a write that may already have landed
(the outbox marks it `uncertain`) is looked up by that property before anything is created.
Online sessions (the intro call) become Teams meetings and their join URL is kept.
Writes go in $batch requests of at most 20, up to `max_concurrency` batches at once.
Attendee answers are read back from the mailbox's calendarView delta (one request on a
quiet night); for sessions written in a run, attendees whose organisation is connected
through an msgraph_users source get their free/busy checked (getSchedule in their tenant).
Requires the application permission Calendars.ReadWrite, limited to the project mailbox
(RBAC for Applications in Exchange Online), and Calendars.Read in the tenants whose
free/busy is checked. Options: `tenant`, `mailbox`.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from connector.core.calendar import CalendarEvent
from connector.core.texts import text
from connector.plumbing.http import HttpClient, HttpError, NextLinkInBody
from connector.plumbing.msgraph import (
    BATCH_LIMIT,
    WINDOWS_ZONES,
    BatchResult,
    batch,
    graph_client,
)
from connector.sinks import CALENDAR, Conflict, Response, Sink
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem

# Our own property set GUID; the name makes the property recognisable in any mailbox.
KEY_PROPERTY = "String {9a1d3c55-2b1f-4e7a-8c3d-5f6e7a8b9c0d} Name SwitchingTalentKey"
TRANSACTION_NAMESPACE = uuid.UUID("c2f8e6a4-7b3d-4e1f-9a5c-0d2b4f6e8a1c")
SELECT = "id,iCalUId,changeKey,onlineMeeting,isCancelled"
BUSY = {"busy", "oof", "tentative", "workingElsewhere"}
RESYNC_CODES = {"syncStateNotFound", "resyncRequired", "SyncStateInvalid", "expiredToken"}


@dataclass
class _Job:
    item: OutboxItem
    event: CalendarEvent
    remote_id: str | None


class GraphCalendar(Sink):
    kind = "msgraph"
    object_types = frozenset({CALENDAR})
    batch_size = 4 * BATCH_LIMIT  # four $batch requests at a time per mailbox
    reads_responses = True
    checks_availability = True

    @property
    def mailbox(self) -> str:
        return str(self.options["mailbox"])

    def problems(self) -> list[str]:
        if self.context.runtime.config.tenant(str(self.options.get("tenant"))) is None:
            return [f"no [[tenants]] named '{self.options.get('tenant')}'"]
        return []

    def key(self, item: OutboxItem) -> str:
        return f"{self.context.config.partner.id}/{item.object_id}"

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        client = graph_client(self.context.runtime, str(self.options["tenant"]))
        jobs = [_Job(item, CalendarEvent.model_validate(item.payload["event"]), _remote_id(known.get(item.object_id))) for item in items]
        unknown = self._find_uncertain(client, [job for job in jobs if job.remote_id is None and job.item.uncertain])
        outcomes = self._write(client, [job for job in jobs if job.item.id not in unknown])
        outcomes.update(unknown)
        gone = [job for job in jobs if outcomes[job.item.id] is None]  # deleted in Outlook meanwhile: create anew
        for job in gone:
            job.remote_id = None
        if gone:
            outcomes.update(self._write(client, gone))
        return [outcomes[item.id] or Outcome(ok=False, error="event vanished twice") for item in items]

    def _find_uncertain(self, client: HttpClient, jobs: list[_Job]) -> dict[int, Outcome | None]:
        """Bind each job to the live event carrying its key, if one landed. A session that was
        cancelled and confirmed again has two events with that key: the cancelled one is not
        the session any more (a PATCH there reaches no one), so it is never bound to.
        Returns, by item id, the failures of jobs that could not be looked up: those wait,
        since creating them blind could make a second event."""
        requests_ = [{"method": "GET", "url": self._lookup_url(job.item)} for job in jobs]
        unknown: dict[int, Outcome | None] = {}
        for job, result in zip(jobs, self._batches(client, requests_), strict=True):
            if result.status != 200:
                unknown[job.item.id] = Outcome(ok=False, error=f"could not look for the event first: {_describe(result)}")
                continue
            live = [event for event in (result.body or {}).get("value", []) if not event.get("isCancelled")]
            if live:
                job.remote_id = str(live[0]["id"])
        return unknown

    def _lookup_url(self, item: OutboxItem) -> str:
        condition = f"singleValueExtendedProperties/Any(ep: ep/id eq '{KEY_PROPERTY}' and ep/value eq '{self.key(item)}')"
        return f"/users/{quote(self.mailbox)}/events?$filter={quote(condition, safe='')}&$select={SELECT}"

    def _write(self, client: HttpClient, jobs: list[_Job]) -> dict[int, Outcome | None]:
        outcomes: dict[int, Outcome | None] = {}
        sending: list[tuple[_Job, dict[str, Any]]] = []
        for job in jobs:
            if job.item.action == "cancel" and job.remote_id is None:
                outcomes[job.item.id] = Outcome(ok=True)  # never created: nothing to cancel
                continue
            sending.append((job, self._request(job)))
        results = self._batches(client, [request for _, request in sending])
        for (job, _), result in zip(sending, results, strict=True):
            outcomes[job.item.id] = self._outcome(job, result)
        return outcomes

    def _request(self, job: _Job) -> dict[str, Any]:
        events = f"/users/{quote(self.mailbox)}/events"
        headers = {"Content-Type": "application/json"}
        if job.item.action == "cancel":
            comment = text(job.event.language, "cancel.comment")
            return {"method": "POST", "url": f"{events}/{job.remote_id}/cancel", "body": {"comment": comment}, "headers": headers}
        body = graph_event(job.event)
        if job.remote_id is not None:
            return {"method": "PATCH", "url": f"{events}/{job.remote_id}", "body": body, "headers": headers}
        body["transactionId"] = str(uuid.uuid5(TRANSACTION_NAMESPACE, f"{self.key(job.item)}|{job.item.sequence}"))
        body["singleValueExtendedProperties"] = [{"id": KEY_PROPERTY, "value": self.key(job.item)}]
        return {"method": "POST", "url": events, "body": body, "headers": headers}

    def _outcome(self, job: _Job, result: BatchResult) -> Outcome | None:
        if job.item.action == "cancel":
            if result.status in (200, 202, 204, 404):
                return Outcome(ok=True, remote_id=job.remote_id)
            return Outcome(ok=False, error=_describe(result), uncertain=result.uncertain)
        if result.status == 404 and job.remote_id is not None:
            return None
        if result.status in (200, 201):
            body = result.body or {}
            join_url = ((body.get("onlineMeeting") or {}).get("joinUrl"))
            return Outcome(ok=True, remote_id=body.get("id"), uid=body.get("iCalUId"), etag=body.get("changeKey"),
                           details={"join_url": join_url} if join_url else None)
        return Outcome(ok=False, error=_describe(result), uncertain=result.uncertain)

    def _batches(self, client: HttpClient, requests_: list[dict[str, Any]], idempotent: bool | None = None) -> list[BatchResult]:
        chunks = [requests_[i:i + BATCH_LIMIT] for i in range(0, len(requests_), BATCH_LIMIT)]
        if not chunks:
            return []
        with ThreadPoolExecutor(max_workers=min(len(chunks), 4)) as pool:
            answers = list(pool.map(lambda chunk: batch(client, chunk, idempotent=idempotent), chunks))
        return [result for answer in answers for result in answer]


    # -- reading back ---------------------------------------------------------------------

    def read_responses(self, cursor: str | None) -> tuple[list[Response], str | None]:
        client = graph_client(self.context.runtime, str(self.options["tenant"]))
        state = json.loads(cursor) if cursor else None
        horizon = self.context.now + timedelta(days=365)
        if state is not None and datetime.fromisoformat(state["until"]) < horizon:
            state = None  # the window of this delta link closes within a year: open a new one
        try:
            return self._responses(client, state)
        except HttpError as error:
            if state is None or not (error.status == 410 or error.code in RESYNC_CODES):
                raise
            return self._responses(client, None)

    def _responses(self, client: HttpClient, state: dict[str, str] | None) -> tuple[list[Response], str | None]:
        if state is None:
            start, until = self.context.now - timedelta(days=1), self.context.now + timedelta(days=3 * 365)
            path, params = f"users/{quote(self.mailbox)}/calendarView/delta", {"startDateTime": _utc(start), "endDateTime": _utc(until)}
            state = {"until": until.isoformat()}
        else:
            path, params = state["link"], None
        found: list[Response] = []
        for page in client.paginate(path, NextLinkInBody(), params=params, records_path="value", headers={"Prefer": "odata.maxpagesize=200"}):
            for event in page.records:
                for attendee in [] if "@removed" in event else event.get("attendees", []):
                    address = (attendee.get("emailAddress") or {}).get("address", "").lower()
                    found.append(Response(str(event["id"]), address, (attendee.get("status") or {}).get("response", "none")))
            link = page.body.get("@odata.deltaLink") if isinstance(page.body, dict) else None
            if link:
                state["link"] = str(link)
        return found, json.dumps(state, sort_keys=True)

    def find_conflicts(self, items: list[OutboxItem]) -> list[Conflict]:
        tenants = {o.id: str(s.options["tenant"]) for o in self.context.config.organisations for s in o.sources if s.kind == "msgraph_users"}
        asked: dict[str, list[tuple[OutboxItem, CalendarEvent, str, dict[str, Any]]]] = {}
        for item in items:
            if item.action != "upsert":
                continue
            event = CalendarEvent.model_validate(item.payload["event"])
            for attendee in event.attendees:
                tenant = tenants.get(attendee.organisation or "")
                if tenant is None or attendee.role != "REQ-PARTICIPANT":
                    continue
                body = {"schedules": [attendee.email], "startTime": {"dateTime": _utc(event.start), "timeZone": "UTC"},
                        "endTime": {"dateTime": _utc(event.end), "timeZone": "UTC"}, "availabilityViewInterval": 15}
                request = {"method": "POST", "url": f"/users/{quote(attendee.email)}/calendar/getSchedule", "body": body,
                           "headers": {"Content-Type": "application/json"}}
                asked.setdefault(tenant, []).append((item, event, attendee.email, request))
        conflicts: list[Conflict] = []
        for tenant, questions in asked.items():
            results = self._batches(graph_client(self.context.runtime, tenant), [q[3] for q in questions], idempotent=True)  # reads
            for (item, event, address, _), result in zip(questions, results, strict=True):
                schedules = (result.body or {}).get("value", []) if result.status == 200 else []
                for entry in (schedules[0].get("scheduleItems", []) if schedules else []):
                    start, end = _parse_utc(entry["start"]["dateTime"]), _parse_utc(entry["end"]["dateTime"])
                    ours = start == event.start and end == event.end  # our own invitation, once they answered it
                    if not ours and entry.get("status") in BUSY and start < event.end and end > event.start:
                        conflicts.append(Conflict(item.object_id, address, start, end, str(entry["status"])))
        return conflicts


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text[:19]).replace(tzinfo=UTC)  # Graph writes seven fractional digits


def _remote_id(ref: ExternalRef | None) -> str | None:
    return ref.remote_id if ref is not None and not ref.cancelled else None


def _describe(result: BatchResult) -> str:
    error = (result.body or {}).get("error", {}) if isinstance(result.body, dict) else {}
    return f"HTTP {result.status} {error.get('code', '')}: {error.get('message', '')}".strip()


def graph_event(event: CalendarEvent) -> dict[str, Any]:
    """The Graph event resource for a session. Graph wants local wall time with a Windows
    zone name ("Romance Standard Time"); it refuses "Europe/Brussels"."""
    zone_name = WINDOWS_ZONES.get(event.timezone)
    zone = ZoneInfo(event.timezone if zone_name else "UTC")

    def moment(value: Any) -> dict[str, str]:
        return {"dateTime": value.astimezone(zone).replace(tzinfo=None).isoformat(timespec="seconds"), "timeZone": zone_name or "UTC"}

    def midnight(value: Any, days: int = 0) -> dict[str, str]:
        day = value.astimezone(zone).date() + timedelta(days=days)
        return {"dateTime": f"{day.isoformat()}T00:00:00", "timeZone": zone_name or "UTC"}

    body: dict[str, Any] = {
        "subject": event.summary,
        "body": {"contentType": "HTML", "content": "<p>" + escape(event.description).replace("\n", "<br>") + "</p>"},
        "start": midnight(event.start) if event.all_day else moment(event.start),
        "end": midnight(event.end, 1) if event.all_day else moment(event.end),
        "isAllDay": event.all_day,
        "location": {"displayName": event.location or ""},
        "attendees": [
            {"emailAddress": {"address": a.email, "name": a.name}, "type": "optional" if a.role == "OPT-PARTICIPANT" else "required"}
            for a in event.attendees
        ],
        "isOnlineMeeting": event.online,
        "allowNewTimeProposals": False,
        "responseRequested": True,
        "showAs": "busy",
        "categories": ["Switching Talent"],
    }
    if event.online:
        body["onlineMeetingProvider"] = "teamsForBusiness"
    return body


SINK = GraphCalendar
