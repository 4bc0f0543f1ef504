"""Free/busy from Microsoft 365: Graph `getSchedule` in each person's own tenant.

An organisation whose people come from an `msgraph_users` source names its tenant there;
its people's calendars are asked in that tenant (application permission Calendars.Read),
as the Outlook sink does for conflicts. Per tenant: POST /users/{first}/calendar/getSchedule
with up to 20 addresses in `schedules` and a window of at most 62 days (Graph's limits), in
UTC. Items with status busy, oof, tentative or workingElsewhere count as busy; a schedule
that comes back with an `error` (unknown mailbox, no permission) is left out, so that
person is planned on working hours alone. A tenant that cannot be reached is the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from connector.core.config import Config
from connector.matching.dates import Interval
from connector.plumbing.http import HttpClient, HttpError
from connector.plumbing.msgraph import graph_client
from connector.plumbing.runtime import Runtime

BUSY = frozenset({"busy", "oof", "tentative", "workingElsewhere"})
SCHEDULES_PER_REQUEST = 20
MAX_WINDOW = timedelta(days=62)
log = logging.getLogger(__name__)


class GraphCalendars:
    """`Calendars` over Graph: `tenant_of(email)` names the tenant to ask, or None (not readable)."""

    def __init__(self, client_for: Callable[[str], HttpClient], tenant_of: Callable[[str], str | None]) -> None:
        self.client_for = client_for
        self.tenant_of = tenant_of

    def busy(self, emails: list[str], start: datetime, end: datetime) -> Mapping[str, list[Interval]]:
        by_tenant: dict[str, list[str]] = {}
        for email in emails:
            tenant = self.tenant_of(email)
            if tenant is not None:
                by_tenant.setdefault(tenant, []).append(email)
        found: dict[str, list[Interval]] = {}
        for tenant, addresses in sorted(by_tenant.items()):
            try:
                client = self.client_for(tenant)
                for first in range(0, len(addresses), SCHEDULES_PER_REQUEST):
                    chunk = addresses[first:first + SCHEDULES_PER_REQUEST]
                    for window_start, window_end in windows(start, end):
                        _ask(client, chunk, window_start, window_end, found)
            except (HttpError, OSError) as error:  # an unreachable tenant: plan on working hours
                log.warning("free/busy of tenant %s could not be read: %s", tenant, error)
        return found


def windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into pieces Graph accepts (at most 62 days each)."""
    pieces = []
    while start < end:
        pieces.append((start, min(end, start + MAX_WINDOW)))
        start += MAX_WINDOW
    return pieces


def request_body(schedules: list[str], start: datetime, end: datetime) -> dict[str, object]:
    """The getSchedule request as Microsoft documents it, with times in UTC."""
    return {"schedules": schedules, "startTime": {"dateTime": _utc(start), "timeZone": "UTC"},
            "endTime": {"dateTime": _utc(end), "timeZone": "UTC"}, "availabilityViewInterval": 30}


def _ask(client: HttpClient, chunk: list[str], start: datetime, end: datetime, found: dict[str, list[Interval]]) -> None:
    body = client.json("POST", f"/users/{quote(chunk[0])}/calendar/getSchedule", json=request_body(chunk, start, end),
                       idempotent=True)  # a read, safe to repeat
    for information in body.get("value", []) if isinstance(body, dict) else []:
        address = str(information.get("scheduleId", "")).casefold()
        if not address or "error" in information:
            continue
        intervals = found.setdefault(address, [])
        for item in information.get("scheduleItems", []):
            if item.get("status") in BUSY:
                intervals.append((_parse(item["start"]), _parse(item["end"])))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _parse(value: Mapping[str, str]) -> datetime:
    """A dateTimeTimeZone Graph answered in UTC (we asked in UTC); seven fractional digits cut."""
    return datetime.fromisoformat(value["dateTime"][:19]).replace(tzinfo=UTC)


def graph_calendars(config: Config, runtime: Runtime, emails_of: Mapping[str, str]) -> GraphCalendars | None:
    """Calendars for the organisations connected through an msgraph_users source, or None.

    `emails_of`: work e-mail (casefolded) -> organisation id."""
    tenants = {o.id: str(s.options["tenant"]) for o in config.organisations for s in o.sources
               if s.kind == "msgraph_users" and "tenant" in s.options}
    if not tenants or not config.matching.free_busy:
        return None
    return GraphCalendars(lambda tenant: graph_client(runtime, tenant), lambda email: tenants.get(emails_of.get(email.casefold(), "")))
