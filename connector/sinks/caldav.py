"""A copy of every session in a CalDAV calendar collection (RFC 4791), e.g. the cohort
calendar of the ST-partner. CalDAV servers store events, they do not send invitations:
this complements the invitation channels rather than replacing one.

Each session is one resource `<collection>/<uid>.ics` holding a VCALENDAR without METHOD.
Creation is conditional (`If-None-Match: *`), updates too (`If-Match: <etag>`), and the
ETag the server returns is kept in the external reference. A 412 means the resource
exists in another version (a crash after the PUT, or a hand edit): we read its current
ETag and write ours over it, since the cohort data is the source of truth. A cancelled
session is marked STATUS:CANCELLED, or deleted with `on_cancel = "delete"`.
Options: url, username, password, on_cancel, verify_tls, ca_bundle.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connector.core.calendar import CalendarEvent, to_ics
from connector.plumbing.files import safe_filename
from connector.plumbing.http import HttpClient, HttpError
from connector.sinks import CALENDAR, Sink
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem

CALENDAR_TYPE = "text/calendar; charset=utf-8"


class CaldavCalendar(Sink):
    kind = "caldav"
    object_types = frozenset({CALENDAR})
    batch_size = 100

    @property
    def client(self) -> HttpClient:
        return self.context.runtime.api_client(f"caldav:{self.name}", self.options, {"Accept": "*/*"})

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        outcomes = []
        for item in items:
            try:
                outcomes.append(self._apply(item, known.get(item.object_id)))
            except HttpError as error:
                outcomes.append(Outcome(ok=False, error=str(error)))
        return outcomes

    def _apply(self, item: OutboxItem, ref: ExternalRef | None) -> Outcome:
        event = CalendarEvent.model_validate(item.payload["event"])
        href = f"{safe_filename(event.uid)}.ics"
        etag = ref.etag if ref is not None and not (ref.cancelled and self.options.get("on_cancel") == "delete") else None
        if item.action == "cancel" and self.options.get("on_cancel") == "delete":
            return self._delete(href, etag)
        body = to_ics(event, None, item.payload["sequence"], datetime.fromisoformat(item.payload["dtstamp"]), cancelled=item.action == "cancel")
        condition = {"If-Match": etag} if etag else {"If-None-Match": "*"}
        response = self.client.request("PUT", href, data=body, headers={"Content-Type": CALENDAR_TYPE, **condition}, accept=(412,))
        if response.status_code == 412:  # another version is there: take its ETag and write ours over it
            response = self.client.request("PUT", href, data=body, headers={"Content-Type": CALENDAR_TYPE, "If-Match": self._etag(href)})
        return Outcome(ok=True, remote_id=self.client.url(href), uid=event.uid, etag=response.headers.get("ETag") or self._etag(href))

    def _delete(self, href: str, etag: str | None) -> Outcome:
        headers: dict[str, Any] = {"If-Match": etag} if etag else {}
        response = self.client.request("DELETE", href, headers=headers, accept=(404, 412))
        if response.status_code == 412:
            self.client.request("DELETE", href, headers={"If-Match": self._etag(href)}, accept=(404,))
        return Outcome(ok=True, remote_id=self.client.url(href))

    def _etag(self, href: str) -> str:
        response = self.client.request("GET", href)
        return response.headers.get("ETag", "")


SINK = CaldavCalendar
