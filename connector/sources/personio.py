"""Personio: employees, with any custom attribute the mapping names.

Signs in at `/v1/auth` with the API credentials (a token valid for a day, renewed before it
runs out or after a 401) and lists `/v1/company/employees` in pages of at most 100
(`limit`/`offset`, offset counting employees). An offset listing can shift while it is read
(someone hired or removed between two pages): people are then skipped or listed twice. So
duplicates are dropped, and when the number read does not match Personio's
`metadata.total_elements` (or the total changed between pages) the listing is read once
more; if it is still inconsistent, nobody is taken as removed this run and the summary
says so. With `incremental = true`, later runs ask only for employees `updated_since` the
last run; removals then show only as status inactive.
Personio has no training records in its API: see the write-back (the leerbewijs as an
employee document) in connector/sinks/personio.py.
The v2 API (document metadata, used by the write-back) takes its own token: OAuth 2.0
client credentials at `POST /v2/auth/token`, form-encoded (`personio_v2_client`).
Facts: tests/contracts/personio.json (personio/api-docs OpenAPI and the v2 reference).
Options: `client_id`, `client_secret`, `incremental`, `page_size` (max 100),
`url` (default https://api.personio.de/v1/), `ca_bundle`.
Rate limits: 300 requests a minute on employees, 429 beyond; the shared client waits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from connector.core.errors import AuthenticationFailed, ConfigError
from connector.core.mapping import EntityMapping
from connector.plumbing.adapters import required_options
from connector.plumbing.http import HttpClient, HttpError, OffsetLimit, secret_text
from connector.plumbing.runtime import Runtime
from connector.sources import Pull, RemoteRecord, Source, since_cursor

API = "https://api.personio.de/v1/"
TOKEN_LIFETIME = 24 * 3600.0
HEADERS = {"X-Personio-App-ID": "SWITCHING_TALENT_CONNECTOR"}
PASSES = 2


def personio_problems(owner: str, options: Mapping[str, Any]) -> list[str]:
    return required_options(owner, options, ("client_id", "client_secret"), "Personio: Settings > Integrations > API credentials")


def personio_client(runtime: Runtime, options: Mapping[str, Any]) -> HttpClient:
    """One client per set of credentials: the source and the write-back share a token."""
    client_id = str(options["client_id"])

    def sign_in(client: HttpClient) -> tuple[str, float]:
        try:
            answer = client.json("POST", "auth", json={"client_id": client_id, "client_secret": secret_text(options["client_secret"])})
        except HttpError as error:
            raise AuthenticationFailed(f"Personio refused the API credentials {client_id}: {error.detail}") from None
        token = (answer.get("data") or {}).get("token") if isinstance(answer, dict) else None
        if not token:
            raise AuthenticationFailed(f"Personio gave no token for the API credentials {client_id}")
        return str(token), TOKEN_LIFETIME

    return runtime.token_client(f"personio:{client_id}", str(options.get("url") or API), options, sign_in, HEADERS)


def personio_v2_client(runtime: Runtime, options: Mapping[str, Any]) -> HttpClient:
    """The v2 API at the server's root, with a token of its own: `POST /v2/auth/token`
    (grant_type client_credentials, form-encoded) answers `{access_token, expires_in}`.
    The v1 `/v1/auth` token is not accepted there."""
    client_id = str(options["client_id"])
    root = str(options.get("url") or API).rstrip("/").removesuffix("/v1") + "/"

    def sign_in(client: HttpClient) -> tuple[str, float]:
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret_text(options["client_secret"])}
        try:
            answer = client.json("POST", "v2/auth/token", data=form)
        except HttpError as error:
            raise AuthenticationFailed(f"Personio (v2) refused the API credentials {client_id}: {error.detail}") from None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not token:
            raise AuthenticationFailed(f"Personio (v2) gave no token for the API credentials {client_id}")
        return str(token), float(answer.get("expires_in") or 3600)

    return runtime.token_client(f"personio-v2:{client_id}", root, options, sign_in, HEADERS)


class PersonioSource(Source):
    kind = "personio"

    def problems(self) -> list[str]:
        return personio_problems(f"source '{self.config.name}'", self.config.options)

    @property
    def client(self) -> HttpClient:
        return personio_client(self.context.runtime, self.config.options)

    def pull(self, entity: EntityMapping, cursor: str | None) -> Pull:
        if entity.entity != "people":
            raise ConfigError([f"source '{self.config.name}': personio delivers people (its API has no training records)"])
        incremental = bool(self.config.options.get("incremental")) and cursor is not None
        next_cursor = since_cursor(self.context.as_of, "%Y-%m-%dT%H:%M:%S")
        result = Pull(records=iter(()), complete=not incremental, cursor=next_cursor)
        result.records = self._employees(result, cursor if incremental else None)
        return result

    def _employees(self, result: Pull, since: str | None) -> Iterator[RemoteRecord]:
        seen: set[str] = set()
        for _ in range(PASSES):
            walk = _Walk()
            this_pass: set[str] = set()
            for employee in self._listing(since, walk):
                employee_id = str(((employee.get("attributes") or {}).get("id") or {}).get("value"))
                if employee_id in this_pass:
                    walk.steady = False  # a page shifted: this person was on an earlier page
                this_pass.add(employee_id)
                if employee_id not in seen:  # a second reading only adds whom the first one missed
                    seen.add(employee_id)
                    yield RemoteRecord(raw=employee, location=f"employee {employee_id}")
            if walk.steady:
                return
        if result.complete:
            result.complete = False
            result.warnings.append(f"the employee listing changed while it was read ({PASSES} times); "
                                   "nobody is taken as removed this run")

    def _listing(self, since: str | None, walk: _Walk) -> Iterator[dict[str, Any]]:
        size = min(int(self.config.options.get("page_size", 100)), 100)
        paging = OffsetLimit(limit=size, total_path="metadata.total_elements")
        totals: set[int] = set()
        read = 0
        for page in self.client.paginate("company/employees", paging, params={"updated_since": since} if since else None,
                                         records_path="data"):
            total = (page.body.get("metadata") or {}).get("total_elements") if isinstance(page.body, dict) else None
            if total is not None:
                totals.add(int(total))
            read += len(page.records)
            yield from (e for e in page.records if isinstance(e, dict))
        walk.steady &= len(totals) <= 1 and (not totals or read == next(iter(totals)))


class _Walk:
    """Whether one walk through the pages saw a listing that held still."""

    steady = True


SOURCE = PersonioSource
