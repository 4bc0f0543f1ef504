"""Microsoft Entra ID users through Microsoft Graph's delta query (`/users/delta`).

First run: the full listing (complete, so anyone absent later is gone) and the
`@odata.deltaLink` is stored as the cursor. Later runs: only what changed since, with
`@removed` for deleted users. A delta link the service no longer knows (410 Gone, or a
resync/expired-token error) restarts a full listing. Users outside the optional scope
(`company` = companyName, `domains` = mail domains, `group` = members of an Entra group,
nested groups included) count as removed. Because the users delta does not see group
membership, a `group` scope lists the members' ids every run (100 per request), remembers
them with the cursor, marks leavers removed and fetches joiners whole (in $batch).
Casting the members to users (`transitiveMembers/microsoft.graph.user`) is an advanced
query: it is sent with `ConsistencyLevel: eventual` and `$count=true`.
Requires the application permission User.Read.All (and GroupMember.Read.All with `group`);
`employeeLeaveDateTime` also needs User-LifeCycleInfo.Read.All, without which Graph
returns it as null: a complete listing with disabled accounts but not one leave date is
reported in the summary (`expect_leave_dates = false` silences that for a tenant that
keeps no leave dates).
Facts: tests/contracts/msgraph.json (Microsoft's CSDL metadata and the Graph docs).
Options: `tenant` (a [[tenants]] name), `company`, `domains`, `group` (object id),
`expect_leave_dates` (default true).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from connector.core.errors import ConfigError
from connector.core.mapping import EntityMapping
from connector.plumbing.http import HttpClient, HttpError, NextLinkInBody
from connector.plumbing.iterate import batched
from connector.plumbing.msgraph import BATCH_LIMIT, batch, graph_client
from connector.sources import Pull, RemoteRecord, Source

SELECT = ("id,givenName,surname,displayName,mail,userPrincipalName,jobTitle,department,officeLocation,"
          "employeeId,companyName,preferredLanguage,accountEnabled,employeeHireDate,employeeLeaveDateTime,employeeType")
ADVANCED_QUERY = {"ConsistencyLevel": "eventual"}
# The line manager (the `manager` navigation property). The users delta does not expand
# navigation properties, but takes `manager` in $select to track it, and answers it as the
# annotation `manager@delta`: a list with the manager's id, an entry marked `@removed` when the
# manager was taken away (concepts/delta-query-overview.md, "Optional query parameters" and
# "Resource representation in the delta query response"). A plain GET expands it
# (api/user-list-manager.md: $expand=manager, $select inside $expand).
DELTA_SELECT = SELECT + ",manager"
EXPAND = "manager"
MANAGER_DELTA = "manager@delta"
LEAVE_DATE = "employeeLeaveDateTime"
NO_LEAVE_DATES = ("not one user had employeeLeaveDateTime, though some accounts are disabled: Graph returns it as null "
                  "without the application permission User-LifeCycleInfo.Read.All; grant it (or set expect_leave_dates = false "
                  "if this tenant keeps no leave dates)")
RESYNC_CODES = {"syncStateNotFound", "resyncRequired", "SyncStateInvalid", "expiredToken", "InvalidDeltaToken"}


class GraphUsers(Source):
    kind = "msgraph_users"
    merges_raw = True  # delta pages carry changed fields only
    _members: set[str] | None = None  # the group scope of the current pull

    def problems(self) -> list[str]:
        tenant = self.config.options.get("tenant")
        if not tenant:
            return [f"source '{self.config.name}': `tenant` is missing (the name of a [[tenants]] block)"]
        if self.context.runtime.config.tenant(str(tenant)) is None:
            return [f"source '{self.config.name}': no [[tenants]] named '{tenant}'"]
        return []

    def pull(self, entity: EntityMapping, cursor: str | None) -> Pull:
        if entity.entity != "people":
            raise ConfigError([f"source '{self.config.name}': msgraph_users only delivers people"])
        state = json.loads(cursor) if cursor and cursor.startswith("{") else {"delta": cursor}
        result = Pull(records=iter(()), complete=state.get("delta") is None, partial=True)
        records = self._records(result, state)
        wants_leave = LEAVE_DATE in entity.remote_fields() and self.config.options.get("expect_leave_dates", True)
        result.records = _watch_leave_dates(records, result) if wants_leave else records
        return result

    def _records(self, result: Pull, state: dict[str, Any]) -> Iterator[RemoteRecord]:
        client = graph_client(self.context.runtime, str(self.config.options["tenant"]))
        group = self.config.options.get("group")
        self._members: set[str] | None = self._group_members(client, str(group)) if group else None
        link = state.get("delta")
        # Only a group's membership changes need the ids the delta named: without a group, a
        # first listing of 100,000 users would keep them all to the end of the pull.
        seen: set[str] | None = set() if self._members is not None else None
        try:
            yield from self._walk(client, result, link, seen)
        except HttpError as error:
            if link is None or not (error.status == 410 or error.code in RESYNC_CODES):
                raise
            # The delta link expired: list everyone again; whoever is absent now is gone.
            result.complete = True
            yield from self._walk(client, result, None, seen)
        if self._members is not None:
            before = set(state.get("members", []))
            if not result.complete:
                yield from self._membership_changes(client, before, seen or set())
            result.cursor = json.dumps({"delta": result.cursor, "members": sorted(self._members)})
        client.close_connections()  # read ahead in a network of many tenants, each would keep one open to the end

    def _group_members(self, client: HttpClient, group: str) -> set[str]:
        path = f"groups/{quote(group)}/transitiveMembers/microsoft.graph.user"
        # An OData cast on directory objects is an advanced query (learn.microsoft.com/graph/aad-advanced-queries).
        pages = client.paginate(path, NextLinkInBody(), params={"$select": "id", "$top": 100, "$count": "true"},
                                records_path="value", headers=ADVANCED_QUERY)
        return {str(member["id"]) for page in pages for member in page.records}

    def _membership_changes(self, client: HttpClient, before: set[str], seen: set[str]) -> Iterator[RemoteRecord]:
        """Users the delta did not mention whose membership changed since the last run."""
        members = self._members or set()
        for left in sorted(before - members - seen):
            yield RemoteRecord(raw={"id": left}, location=f"user {left} (left the group)", deleted=True)
        joined = sorted(members - before - seen)
        for part in batched(joined, BATCH_LIMIT):
            requests_ = [{"method": "GET", "url": f"/users/{user_id}?$select={SELECT}&$expand={EXPAND}($select=id)"} for user_id in part]
            for user_id, answer in zip(part, batch(client, requests_), strict=True):
                if answer.status == 200 and isinstance(answer.body, dict):
                    yield self._record(answer.body)
                elif answer.status != 404:
                    raise HttpError("GET", f"users/{user_id}", answer.status, "could not read a new group member")

    def _walk(self, client: HttpClient, result: Pull, cursor: str | None, seen: set[str] | None) -> Iterator[RemoteRecord]:
        path, params = (cursor, None) if cursor else ("users/delta", {"$select": DELTA_SELECT})
        for page in client.paginate(path, NextLinkInBody(), params=params, records_path="value"):
            for user in page.records:
                if seen is not None:
                    seen.add(str(user.get("id")))
                yield self._record(user)
            delta_link = page.body.get("@odata.deltaLink") if isinstance(page.body, dict) else None
            if delta_link:
                result.cursor = str(delta_link)

    def _record(self, user: dict[str, Any]) -> RemoteRecord:
        location = f"user {user.get('userPrincipalName') or user.get('id')}"
        if MANAGER_DELTA in user:
            user = _with_manager(user)
        if "@removed" in user:
            return RemoteRecord(raw=user, location=location, deleted=True)
        return RemoteRecord(raw=user, location=location, deleted=not self._in_scope(user))

    def _in_scope(self, user: dict[str, Any]) -> bool:
        if self._members is not None and str(user.get("id")) not in self._members:
            return False
        company = self.config.options.get("company")
        domains = [d.lower().lstrip("@") for d in self.config.options.get("domains", [])]
        if company and "companyName" in user and (user.get("companyName") or "").strip().lower() != str(company).strip().lower():
            return False
        address = (user.get("mail") or user.get("userPrincipalName") or "").lower()
        if domains and address and address.rsplit("@", 1)[-1] not in domains:
            return False
        return True


def _with_manager(user: dict[str, Any]) -> dict[str, Any]:
    """`manager@delta` as the plain `manager` a GET answers ({"id": ...}, or None once removed),
    so one mapping reads both; absent from a delta page means unchanged (the raw payloads merge)."""
    entries = [m for m in user.get(MANAGER_DELTA) or [] if isinstance(m, dict)]
    live = [m for m in entries if "@removed" not in m and m.get("id")]
    plain = {k: v for k, v in user.items() if k != MANAGER_DELTA}
    plain["manager"] = {"id": str(live[-1]["id"])} if live else None
    return plain


def _watch_leave_dates(records: Iterator[RemoteRecord], result: Pull) -> Iterator[RemoteRecord]:
    """Pass the records on; after a complete listing, warn when disabled accounts exist but no
    leave date arrived at all: the sign of a missing User-LifeCycleInfo.Read.All."""
    disabled = dated = False
    for record in records:
        disabled |= record.raw.get("accountEnabled") is False
        dated |= record.raw.get(LEAVE_DATE) is not None
        yield record
    if result.complete and disabled and not dated:
        result.warnings.append(NO_LEAVE_DATES)


SOURCE = GraphUsers
