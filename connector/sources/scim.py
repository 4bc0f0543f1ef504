"""SCIM 2.0 Users (RFC 7643/7644): Entra ID and Okta provisioning endpoints, and many HR
systems, with the enterprise extension (employeeNumber, department, organization, manager).

Every run lists the Users resource in pages (`startIndex`/`count`, 1-based, up to
`totalResults`), so someone absent from the listing is gone. With `incremental = true` a
run asks only for users changed since the last one (`meta.lastModified gt ...`, where the
server supports that filter); removals then only show as `active: false`. Reads only.
Options: `url` (the SCIM base, e.g. https://hr.example/scim/v2), `token` (bearer) or
`username`/`password`, `filter` (a SCIM filter, e.g. `active eq true`), `page_size`
(default 100), `incremental`, `ca_bundle`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connector.core.errors import ConfigError
from connector.core.mapping import EntityMapping
from connector.plumbing.http import (
    HttpClient,
    OffsetLimit,
)
from connector.sources import Pull, RemoteRecord, Source


class ScimUsers(Source):
    kind = "scim"

    def problems(self) -> list[str]:
        if not str(self.config.options.get("url", "")).startswith(("http://", "https://")):
            return [f"source '{self.config.name}': `url` must be the SCIM base URL (https://.../scim/v2)"]
        if not (self.config.options.get("token") or self.config.options.get("username")):
            return [f"source '{self.config.name}': give `token` (bearer) or `username` and `password`"]
        return []

    def _client(self) -> HttpClient:
        return self.context.runtime.api_client(f"scim:{self.config.name}", self.config.options,
                                               {"Accept": "application/scim+json, application/json"})

    def pull(self, entity: EntityMapping, cursor: str | None) -> Pull:
        if entity.entity != "people":
            raise ConfigError([f"source '{self.config.name}': scim only delivers people"])
        incremental = bool(self.config.options.get("incremental")) and cursor is not None
        result = Pull(records=iter(()), complete=not incremental, cursor=cursor)
        result.records = self._records(result, cursor if incremental else None)
        return result

    def _records(self, result: Pull, since: str | None) -> Iterator[RemoteRecord]:
        conditions = [f"({self.config.options['filter']})"] if self.config.options.get("filter") else []
        if since:
            conditions.append(f'meta.lastModified gt "{since}"')
        params: dict[str, Any] = {"filter": " and ".join(conditions)} if conditions else {}
        size = int(self.config.options.get("page_size", 100))
        paging = OffsetLimit(limit=size, offset_param="startIndex", limit_param="count", base=1, total_path="totalResults")
        for page in self._client().paginate("Users", paging, params=params, records_path="Resources"):
            for user in page.records:
                # The server's own clock, as it wrote it: no skew with ours, no rounding.
                modified = (user.get("meta") or {}).get("lastModified")
                if modified and (result.cursor is None or str(modified) > result.cursor):
                    result.cursor = str(modified)
                yield RemoteRecord(raw=user, location=f"user {user.get('userName') or user.get('id')}")


SOURCE = ScimUsers
