"""Training hours that other tools recorded in a learning record store (xAPI 1.0.3).

Reads `statements` since the last run (`since` = the newest `stored` seen), page by page
through the LRS's `more` links: xAPI 1.0.3 (adlnet/xAPI-Spec, xAPI-Communication.md 2.1.3,
StatementResult) defines `more` as a relative IRL holding the full path from the server's
root, so it is resolved against the LRS's address, not appended to the endpoint. Only statements with a `result.duration` and one of the
configured verbs count as training; our own statements (platform "Switching Talent
Connector") are skipped, as the store already holds those exchange days. Voided
statements are left out by the LRS itself.
Options: `url`, `username`, `password`, `verbs` (default completed, attended, passed),
`page_size` (`limit`, default 500), `ca_bundle`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connector.core.errors import ConfigError
from connector.core.mapping import EntityMapping
from connector.plumbing.http import HttpClient, NextLinkInBody
from connector.sources import Pull, RemoteRecord, Source

# Our own statements say so in context.platform, which is how this source skips them.
PLATFORM = "Switching Talent Connector"
XAPI_HEADERS = {"X-Experience-API-Version": "1.0.3"}
DEFAULT_VERBS = ("http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/attended", "http://adlnet.gov/expapi/verbs/passed")


class XapiSource(Source):
    kind = "xapi"

    def _client(self) -> HttpClient:
        return self.context.runtime.api_client(f"xapi:{self.config.name}", self.config.options, XAPI_HEADERS)

    def problems(self) -> list[str]:
        if not str(self.config.options.get("url", "")).startswith(("http://", "https://")):
            return [f"source '{self.config.name}': `url` must be the LRS endpoint (https://.../xAPI/)"]
        return []

    def pull(self, entity: EntityMapping, cursor: str | None) -> Pull:
        if entity.entity != "training_records":
            raise ConfigError([f"source '{self.config.name}': xapi only delivers training_records"])
        result = Pull(records=iter(()), complete=False, cursor=cursor)
        result.records = self._records(result, cursor)
        return result

    def _records(self, result: Pull, since: str | None) -> Iterator[RemoteRecord]:
        verbs = set(self.config.options.get("verbs", DEFAULT_VERBS))
        params: dict[str, Any] = {"limit": int(self.config.options.get("page_size", 500)), **({"since": since} if since else {})}
        for page in self._client().paginate("statements", NextLinkInBody(path="more"), params=params, records_path="statements"):
            for statement in page.records:
                stored = statement.get("stored")
                if stored and (result.cursor is None or stored > result.cursor):
                    result.cursor = stored
                if (statement.get("context") or {}).get("platform") == PLATFORM:
                    continue
                if (statement.get("verb") or {}).get("id") not in verbs or not (statement.get("result") or {}).get("duration"):
                    continue
                yield RemoteRecord(raw=statement, location=f"statement {statement.get('id')}")


SOURCE = XapiSource
