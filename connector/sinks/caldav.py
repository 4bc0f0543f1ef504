"""A copy of every session in a CalDAV calendar collection (RFC 4791), e.g. the cohort
calendar of the ST-partner. It complements the invitation channels rather than replacing one.

Each session is one resource `<collection>/<uid>.ics` holding a VCALENDAR without METHOD.
Creation is conditional (`If-None-Match: *`), updates too (`If-Match: <etag>`), and the
ETag the server returns is kept in the external reference. A 412 means the resource
exists in another version (a crash after the PUT, or a hand edit): we read its current
ETag and write ours over it, since the cohort data is the source of truth. A cancelled
session is marked STATUS:CANCELLED, or deleted with `on_cancel = "delete"`.
Options: url, username, password, on_cancel, verify_tls, ca_bundle.

Scheduling servers (RFC 6638: Cyrus, Nextcloud/SabreDAV 4, SOGo, iCloud, Fastmail) send
invitations themselves for an object whose ORGANIZER is the calendar owner, next to the
connector's own. Every ATTENDEE we store is therefore marked `SCHEDULE-AGENT=CLIENT`
(RFC 6638 section 7.1) from its creation, and the reference remembers that
(`details["schedule_agent"]`). An object stored without the mark (by an earlier version, or
found after a lost store) is *brought over* before it is changed: adding the mark to it makes
Cyrus send every attendee a CANCEL, so we first store it without ORGANIZER and ATTENDEE (no
longer a scheduling object: Cyrus sends nothing), then write our marked version.

Attendees' answers are read back from the same collection: a scheduling server writes each
attendee's reply into the organizer's copy (RFC 6638 section 3.2.2.1, the ATTENDEE's PARTSTAT;
Cyrus does so for objects marked SCHEDULE-AGENT=CLIENT too, observed), so answers are there only
when the collection is the organizer's own (the login is the organizer's principal, or a
calendar shared with it). Changes are read with one sync-collection REPORT (RFC 6578; the
sync-token is the cursor; one request when nothing changed); a server without it is read with
PROPFIND and the ETags compared (the cursor then holds them), changed objects fetched with one
calendar-multiget (RFC 4791 section 7.9). The engine keeps the answers for the objects we wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from icalendar import Calendar

from connector.core.calendar import CalendarEvent, to_ics
from connector.core.itip import read_answers
from connector.plumbing.files import safe_filename
from connector.plumbing.http import HttpClient, HttpError
from connector.sinks import CALENDAR, Response, Sink
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem

CALENDAR_TYPE = "text/calendar; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
DAV, CALDAV = "DAV:", "urn:ietf:params:xml:ns:caldav"
# The connector invites every attendee itself (files, iMIP, Graph), so a scheduling server
# must not: the agent is the client (RFC 6638 section 7.1).
SCHEDULE_AGENT = "CLIENT"
MARKED = {"schedule_agent": SCHEDULE_AGENT}
NOT_SYNCABLE = (400, 403, 405, 409, 501)  # how servers without RFC 6578 (or with a stale token) refuse the REPORT
MAX_SYNC_PAGES = 50  # truncated answers followed (RFC 6578 section 3.6) before the rest waits for the next run


@dataclass(frozen=True)
class Stored:
    """A calendar object as the server holds it now."""

    etag: str
    data: bytes


def server_scheduled(data: bytes) -> bool:
    """Whether a scheduling server would act on this object (RFC 6638 section 3.2): it has an
    ORGANIZER and at least one ATTENDEE whose SCHEDULE-AGENT is not CLIENT (SERVER is the default)."""
    try:
        calendar = Calendar.from_ical(data)
    except ValueError:  # not iCalendar we can read: nothing to bring over, ours replaces it
        return False
    for component in calendar.walk("VEVENT"):
        if "ORGANIZER" not in component:
            continue
        attendees = component.get("ATTENDEE", [])
        for attendee in attendees if isinstance(attendees, list) else [attendees]:
            if str(attendee.params.get("SCHEDULE-AGENT", "SERVER")).upper() != SCHEDULE_AGENT:
                return True
    return False


def unscheduled(data: bytes) -> bytes:
    """The same object without ORGANIZER and ATTENDEE: no longer a scheduling object
    (RFC 6638 section 3.1). Cyrus 3.6 sends nothing when an object loses them (observed);
    other servers were not tried."""
    calendar = Calendar.from_ical(data)
    for component in calendar.walk("VEVENT"):
        component.pop("ORGANIZER", None)
        component.pop("ATTENDEE", None)
    return calendar.to_ical()


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
        deleting = item.action == "cancel" and self.options.get("on_cancel") == "delete"
        etag = ref.etag if ref is not None and not (ref.cancelled and self.options.get("on_cancel") == "delete") else None
        if etag and not marked(ref):  # written without the mark: look at it before changing it
            etag = self._bring_over(href)
        if deleting:
            return self._delete(href, etag)
        body = to_ics(event, None, item.payload["sequence"], datetime.fromisoformat(item.payload["dtstamp"]),
                      cancelled=item.action == "cancel", schedule_agent=SCHEDULE_AGENT)
        response = self.client.request("PUT", href, data=body, headers={"Content-Type": CALENDAR_TYPE, **condition(etag)}, accept=(412,))
        if response.status_code == 412:  # another version is there (or none is): bring it over, then write ours over it
            response = self.client.request("PUT", href, data=body, headers={"Content-Type": CALENDAR_TYPE, **condition(self._bring_over(href))})
        return Outcome(ok=True, remote_id=self.client.url(href), uid=event.uid, etag=response.headers.get("ETag") or self._etag(href),
                       details=MARKED)

    def _delete(self, href: str, etag: str | None) -> Outcome:
        if etag is None:  # nothing known (a lost store): an unmarked object there must not be deleted as it is
            etag = self._bring_over(href)
        headers: dict[str, Any] = {"If-Match": etag} if etag else {}
        response = self.client.request("DELETE", href, headers=headers, accept=(404, 412))
        if response.status_code == 412:
            current = self._bring_over(href)
            if current is not None:
                self.client.request("DELETE", href, headers={"If-Match": current}, accept=(404,))
        return Outcome(ok=True, remote_id=self.client.url(href), details=MARKED)

    def probe(self) -> list[str]:
        """A warning when the login is the organizer's principal: the calendar is then the
        organizer's and a scheduling server invites the attendees itself whenever an object
        lacks SCHEDULE-AGENT=CLIENT (RFC 6638 section 3.2). Two PROPFINDs: the login's
        DAV:current-user-principal (RFC 5397) on the collection, then that principal's
        calendar-user-address-set (RFC 6638 section 2.4.1)."""
        organizer = f"mailto:{self.context.config.partner.organiser_email}".lower()
        try:
            principal = self._property(self.client.url(""), DAV, "current-user-principal")
            addresses = self._property(urljoin(self.client.url(""), principal[0]), CALDAV, "calendar-user-address-set") if principal else []
        except HttpError as error:
            return [f"target '{self.name}': could not ask the CalDAV server who the login is: {error}"]
        if organizer in (address.lower() for address in addresses):
            return [f"target '{self.name}': the CalDAV login is the organizer's principal ({organizer}): a scheduling server "
                    "(Cyrus, Nextcloud, SOGo, iCloud, Fastmail) treats the calendar as the organizer's own. The connector "
                    "marks what it stores SCHEDULE-AGENT=CLIENT so the server sends nothing, but anything stored there "
                    "without it is scheduled by the server; log in as a principal that is not the organizer."]
        return []

    def _property(self, url: str, namespace: str, name: str) -> list[str]:
        """The hrefs inside one property of one resource (PROPFIND Depth 0, RFC 4918 section 9.1)."""
        body = (f'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="{DAV}" xmlns:p="{namespace}">'
                f"<d:prop><p:{name}/></d:prop></d:propfind>")
        response = self.client.request("PROPFIND", url, data=body.encode(), headers={"Depth": "0", "Content-Type": XML_TYPE})
        try:
            tree = ElementTree.fromstring(response.content)  # the configured server's own answer; expat refuses entity bombs
        except ElementTree.ParseError:
            return []
        return [(href.text or "").strip() for found in tree.iter(f"{{{namespace}}}{name}") for href in found.iter(f"{{{DAV}}}href")]

    def _bring_over(self, href: str) -> str | None:
        """The ETag of the object at `href` once a scheduling server can no longer act on it, or
        None if there is none. Adding SCHEDULE-AGENT=CLIENT to an object the server scheduled
        makes Cyrus CANCEL it for every attendee (observed; so does deleting it), which would
        take our own invitations out of their calendars. Storing it first without ORGANIZER
        and ATTENDEE makes Cyrus send nothing, and neither does the marked version after it."""
        current = self._current(href)
        if current is None or not server_scheduled(current.data):
            return current.etag if current else None
        response = self.client.request("PUT", href, data=unscheduled(current.data),
                                       headers={"Content-Type": CALENDAR_TYPE, "If-Match": current.etag})
        return response.headers.get("ETag") or self._etag(href)

    def _current(self, href: str) -> Stored | None:
        response = self.client.request("GET", href, accept=(404,))
        if response.status_code == 404:
            return None
        return Stored(response.headers.get("ETag", ""), response.content)

    def _etag(self, href: str) -> str:
        response = self.client.request("GET", href)
        return response.headers.get("ETag", "")

    # -- attendees' answers ----------------------------------------------------------------

    reads_responses = True

    def read_responses(self, cursor: str | None) -> tuple[list[Response], str | None]:
        """Every attendee's answer (Graph's vocabulary, see connector.core.itip) in the objects
        that changed since `cursor`, each under the object's URL (the remote id its write
        gave), and the cursor for next time: {"token": sync-token} (RFC 6578), or {"etags":
        {href: etag}} for a server without sync-collection. The first read (no cursor) reports
        every object. Raises HttpError when the collection cannot be read."""
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        if "etags" not in state:
            synced = self._sync(state.get("token"))
            if synced is not None:
                found, token = synced
                return self._answers(found), json.dumps({"token": token})
        current = self._etags()
        known = state.get("etags", {})
        changed = [href for href, etag in current.items() if known.get(href) != etag]
        return self._answers(self._multiget(changed)), json.dumps({"etags": current}, sort_keys=True)

    def _sync(self, token: str | None) -> tuple[dict[str, bytes | None], str] | None:
        """The members changed since `token` (all of them without one) with their calendar data
        where the server sends it along (None where it does not), and the new token; None when
        the server has no sync-collection. A token the server no longer knows (RFC 6578
        section 3.2, DAV:valid-sync-token) starts over from none."""
        found: dict[str, bytes | None] = {}
        collection = urlsplit(self.client.url("")).path
        for _ in range(MAX_SYNC_PAGES):
            response = self.client.request("REPORT", "", data=_sync_body(token), accept=NOT_SYNCABLE, idempotent=True,
                                           headers={"Depth": "0", "Content-Type": XML_TYPE})
            if response.status_code in NOT_SYNCABLE:
                if token is None:
                    return None
                token, found = None, {}
                continue
            tree = _xml(response.content)
            truncated = False
            for member in tree.iter(f"{{{DAV}}}response"):
                href = (member.findtext(f"{{{DAV}}}href") or "").strip()
                status = member.findtext(f"{{{DAV}}}status") or ""
                if unquote(urlsplit(href).path).rstrip("/") == unquote(collection).rstrip("/"):
                    truncated = truncated or " 507 " in f"{status} "  # RFC 6578 section 3.6: ask again from the new token
                    continue
                if href.endswith("/"):
                    continue  # a collection is never one of our objects
                if " 404 " in f"{status} ":
                    found.pop(href, None)  # removed: nothing to answer
                    continue
                data = member.findtext(f".//{{{CALDAV}}}calendar-data")
                found[href] = data.encode("utf-8") if data and data.strip() else None
            token = (tree.findtext(f"{{{DAV}}}sync-token") or "").strip() or token
            if not truncated:
                break
        return found, token or ""

    def _etags(self) -> dict[str, str]:
        """Every member's ETag (PROPFIND Depth 1, RFC 4918 section 9.1), by href."""
        body = (f'<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="{DAV}"><d:prop><d:getetag/></d:prop></d:propfind>')
        response = self.client.request("PROPFIND", "", data=body.encode(), headers={"Depth": "1", "Content-Type": XML_TYPE})
        etags = {}
        for member in _xml(response.content).iter(f"{{{DAV}}}response"):
            href = (member.findtext(f"{{{DAV}}}href") or "").strip()
            if href and not href.endswith("/"):
                etags[href] = (member.findtext(f".//{{{DAV}}}getetag") or "").strip()
        return etags

    def _multiget(self, hrefs: list[str]) -> dict[str, bytes | None]:
        """The calendar data of `hrefs` in one calendar-multiget REPORT (RFC 4791 section 7.9)."""
        if not hrefs:
            return {}
        listed = "".join(f"<d:href>{escape(href)}</d:href>" for href in hrefs)
        body = (f'<?xml version="1.0" encoding="utf-8"?><c:calendar-multiget xmlns:d="{DAV}" xmlns:c="{CALDAV}">'
                f"<d:prop><d:getetag/><c:calendar-data/></d:prop>{listed}</c:calendar-multiget>")
        response = self.client.request("REPORT", "", data=body.encode(), idempotent=True,
                                       headers={"Depth": "1", "Content-Type": XML_TYPE})
        found: dict[str, bytes | None] = {}
        for member in _xml(response.content).iter(f"{{{DAV}}}response"):
            data = member.findtext(f".//{{{CALDAV}}}calendar-data")
            found[(member.findtext(f"{{{DAV}}}href") or "").strip()] = data.encode("utf-8") if data and data.strip() else None
        return found

    def _answers(self, found: dict[str, bytes | None]) -> list[Response]:
        """The answers in each object, under the remote id `deliver` gave it: the collection's
        URL joined with the member's name, as we wrote it. Objects that are not iCalendar we can
        read were not written by us (ours always are): left alone."""
        answers = []
        for href, data in sorted(found.items()):
            if data is None:
                continue
            try:
                read = read_answers(data)
            except ValueError:
                continue
            remote_id = self.client.url(unquote(urlsplit(href).path.rsplit("/", 1)[-1]))
            answers.extend(Response(remote_id, answer.attendee, answer.response) for answer in read.answers)
        return answers


def _sync_body(token: str | None) -> bytes:
    """A sync-collection REPORT body (RFC 6578 section 6.1) asking for each changed member's
    ETag and calendar data; an empty DAV:sync-token asks for every member."""
    return (f'<?xml version="1.0" encoding="utf-8"?><d:sync-collection xmlns:d="{DAV}" xmlns:c="{CALDAV}">'
            f"<d:sync-token>{escape(token or '')}</d:sync-token><d:sync-level>1</d:sync-level>"
            "<d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>").encode()


def _xml(content: bytes) -> ElementTree.Element:
    """A multistatus answer of the configured server (expat refuses entity bombs); an empty
    element when it is not XML, so a broken answer reads as "nothing changed"."""
    try:
        return ElementTree.fromstring(content)
    except ElementTree.ParseError:
        return ElementTree.Element("empty")


def condition(etag: str | None) -> dict[str, str]:
    """Write only over the version we know, or only where nothing is (RFC 7232 section 3)."""
    return {"If-Match": etag} if etag else {"If-None-Match": "*"}


def marked(ref: ExternalRef | None) -> bool:
    """Whether we stored this object with SCHEDULE-AGENT=CLIENT ourselves."""
    return ref is not None and (ref.details or {}).get("schedule_agent") == SCHEDULE_AGENT


SINK = CaldavCalendar
