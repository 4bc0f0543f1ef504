"""Microsoft Entra ID users through Microsoft Graph's delta query (`/users/delta`).

First run: the full listing (complete, so anyone absent later is gone) and the
`@odata.deltaLink` is stored as the cursor. Later runs: only what changed since, with
`@removed` for deleted users. A delta link the service no longer knows (410 Gone, or a
resync/expired-token error) restarts a full listing. Users outside the optional scope
(`company` = companyName, `domains` = mail domains) count as removed.
Requires the application permission User.Read.All. Options: `tenant` (a [[tenants]] name),
`company`, `domains`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connector.errors import ConfigError
from connector.http import HttpError, NextLinkInBody
from connector.mapping import EntityMapping
from connector.msgraph import graph_client
from connector.sources import Pull, RemoteRecord, Source

SELECT = ("id,givenName,surname,displayName,mail,userPrincipalName,jobTitle,department,officeLocation,"
          "employeeId,companyName,preferredLanguage,accountEnabled,employeeHireDate,employeeLeaveDateTime,employeeType")
RESYNC_CODES = {"syncStateNotFound", "resyncRequired", "SyncStateInvalid", "expiredToken", "InvalidDeltaToken"}


class GraphUsers(Source):
    kind = "msgraph_users"

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
        result = Pull(records=iter(()), complete=cursor is None, partial=True)
        result.records = self._records(result, cursor)
        return result

    def _records(self, result: Pull, cursor: str | None) -> Iterator[RemoteRecord]:
        client = graph_client(self.context.runtime, str(self.config.options["tenant"]))
        try:
            yield from self._walk(client, result, cursor)
        except HttpError as error:
            if cursor is None or not (error.status == 410 or error.code in RESYNC_CODES):
                raise
            # The delta link expired: list everyone again; whoever is absent now is gone.
            result.complete = True
            yield from self._walk(client, result, None)

    def _walk(self, client: Any, result: Pull, cursor: str | None) -> Iterator[RemoteRecord]:
        path, params = (cursor, None) if cursor else ("users/delta", {"$select": SELECT})
        for page in client.paginate(path, NextLinkInBody(), params=params, records_path="value"):
            for user in page.records:
                yield self._record(user)
            delta_link = page.body.get("@odata.deltaLink") if isinstance(page.body, dict) else None
            if delta_link:
                result.cursor = str(delta_link)

    def _record(self, user: dict[str, Any]) -> RemoteRecord:
        location = f"user {user.get('userPrincipalName') or user.get('id')}"
        if "@removed" in user:
            return RemoteRecord(raw=user, location=location, deleted=True)
        return RemoteRecord(raw=user, location=location, deleted=not self._in_scope(user))

    def _in_scope(self, user: dict[str, Any]) -> bool:
        company = self.config.options.get("company")
        domains = [d.lower().lstrip("@") for d in self.config.options.get("domains", [])]
        if company and "companyName" in user and (user.get("companyName") or "").strip().lower() != str(company).strip().lower():
            return False
        address = (user.get("mail") or user.get("userPrincipalName") or "").lower()
        if domains and address and address.rsplit("@", 1)[-1] not in domains:
            return False
        return True


SOURCE = GraphUsers
