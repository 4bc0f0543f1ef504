"""SAP SuccessFactors: users from the OData v2 API (`/odata/v2/User`).

Asks only the fields the mapping reads (`$select`), of every status (active and inactive:
SuccessFactors lists only active users unless told otherwise), in server-side pages that
follow `d.__next` with `paging=snapshot`, so a page cannot shift while it is read. With
`incremental = true`, later runs filter on `lastModifiedDateTime` since the last run;
leavers then show as status inactive.
Signing in is OAuth 2.0 with a SAML bearer assertion, as SuccessFactors documents it:
`/oauth/idp` makes the assertion for the API user from the OAuth client's private key,
`/oauth/token` exchanges it for a token (renewed before it expires or after a 401).
Options: `url` (the API server, e.g. https://api012.successfactors.eu), `company_id`,
`client_id`, `user_id` (the API user), `private_key` (the key registered with the OAuth
client), `incremental`, `page_size` (default 500), `ca_bundle`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, timedelta
from typing import Any

from connector.errors import AuthenticationFailed, ConfigError
from connector.http import (
    FetchedToken,
    HttpClient,
    HttpError,
    NextLinkInBody,
    tls_verify,
)
from connector.mapping import EntityMapping
from connector.runtime import Runtime
from connector.sources import Pull, RemoteRecord, Source

OVERLAP = timedelta(hours=1)
ALL_STATUSES = "status in 't','f','T','F','e','d'"  # active, inactive and their pending variants


def _secret(value: Any) -> str:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)


def required_options(owner: str, options: Mapping[str, Any], names: tuple[str, ...]) -> list[str]:
    missing = [n for n in names if not options.get(n)]
    return [f"{owner}: give {', '.join(f'`{m}`' for m in missing)}"] if missing else []


def sap_client(runtime: Runtime, name: str, options: Mapping[str, Any]) -> HttpClient:
    base = str(options["url"]).rstrip("/") + "/"
    verify = tls_verify(runtime.config.base_dir, options)

    def build() -> HttpClient:
        sign_in = HttpClient(f"successfactors-auth:{name}", base, stats=runtime.stats, verify=verify)

        def fetch() -> tuple[str, float]:
            form = {"client_id": str(options["client_id"]), "user_id": str(options["user_id"]),
                    "token_url": f"{base}oauth/token", "private_key": _secret(options["private_key"])}
            try:
                assertion = sign_in.request("POST", "oauth/idp", data=form).text.strip()
                answer = sign_in.json("POST", "oauth/token", data={
                    "company_id": str(options["company_id"]), "client_id": str(options["client_id"]),
                    "grant_type": "urn:ietf:params:oauth:grant-type:saml2-bearer", "assertion": assertion})
            except HttpError as error:
                raise AuthenticationFailed(f"SuccessFactors refused the OAuth client of '{name}': {error.detail}") from None
            return str(answer["access_token"]), float(answer.get("expires_in", 3600))

        return HttpClient(f"successfactors:{name}", base, FetchedToken(fetch), stats=runtime.stats, verify=verify)

    return runtime.client(f"successfactors:{name}|{base}", build)


class SuccessFactorsUsers(Source):
    kind = "successfactors"

    def problems(self) -> list[str]:
        return required_options(f"source '{self.config.name}'", self.config.options,
                                ("url", "company_id", "client_id", "user_id", "private_key"))

    def pull(self, entity: EntityMapping, cursor: str | None) -> Pull:
        if entity.entity != "people":
            raise ConfigError([f"source '{self.config.name}': successfactors delivers people"])
        incremental = bool(self.config.options.get("incremental")) and cursor is not None
        next_cursor = (self.context.as_of - OVERLAP).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        records = self._users(entity.remote_fields(), cursor if incremental else None)
        return Pull(records=records, complete=not incremental, cursor=next_cursor)

    def _users(self, fields: list[str], since: str | None) -> Iterator[RemoteRecord]:
        condition = ALL_STATUSES + (f" and lastModifiedDateTime gt datetimeoffset'{since}'" if since else "")
        params = {"$format": "json", "$select": ",".join(fields), "$filter": condition,
                  "$top": int(self.config.options.get("page_size", 500)), "paging": "snapshot"}
        client = sap_client(self.context.runtime, self.config.name, self.config.options)
        for page in client.paginate("odata/v2/User", NextLinkInBody(path="d.__next"), params=params, records_path="d.results"):
            for user in page.records:
                yield RemoteRecord(raw=user, location=f"user {user.get('userId')}")


SOURCE = SuccessFactorsUsers
