"""SAP SuccessFactors: users from the OData v2 API (`/odata/v2/User`).

Asks only the fields the mapping reads (`$select`), of every status (active and inactive:
SuccessFactors lists only active users unless told otherwise), in server-side pages that
follow `d.__next` with `paging=snapshot`, so a page cannot shift while it is read. The page
size is `customPageSize` (at most 1000): `$top` would cap the whole result, not the page,
and a pull cut short that way would look complete (SAP KBAs 2489065 and 3308165; facts in
tests/contracts/successfactors.json). With
`incremental = true`, later runs filter on `lastModifiedDateTime` since the last run;
leavers then show as status inactive.
Signing in is OAuth 2.0 with a SAML bearer assertion, as SuccessFactors documents it:
`/oauth/idp` makes the assertion for the API user from the OAuth client's private key,
`/oauth/token` exchanges it for a token (renewed before it expires or after a 401).
Development goals (entity `planned_learning`) come from the development goal plan's
entity `DevGoal_<template id>` (option `devgoal_template`, e.g. 2001), with `$expand=goalOwner`
so the owner's empId and e-mail identify the employee, in the same server-side pages; with
`incremental = true` later runs filter on `lastModified` and then list the live goals' ids
only (`$select=id`, a thousand per page), since OData v2 has no deletion feed: a goal whose id
is no longer listed was deleted (under the removal guard). Entity facts: the SFOData metadata of DevGoal_<id> (as
generated into SAP's Cloud SDK: id Edm.Int64, which OData v2 JSON writes as a string;
start, due and lastModified Edm.DateTime as /Date(ms)/; state and stateLabel texts).
Options: `url` (the API server, e.g. https://api012.successfactors.eu), `company_id`,
`client_id`, `user_id` (the API user), `private_key` (the key registered with the OAuth
client), `incremental`, `page_size` (default and most 1000), `ca_bundle`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from connector.core.errors import AuthenticationFailed, ConfigError, RecordError, SourceUnavailable
from connector.core.mapping import EntityMapping
from connector.plumbing.adapters import required_options
from connector.plumbing.http import HttpClient, HttpError, NextLinkInBody, secret_text
from connector.plumbing.runtime import Runtime
from connector.sources import Pull, RemoteRecord, Source, since_cursor

ALL_STATUSES = "status in 't','f','T','F','e','d'"  # active, inactive and their pending variants
PAGE_LIMIT = 1000  # the largest server-side page SuccessFactors gives


def bearer_token(answer: Any, system: str, name: str) -> tuple[str, float]:
    """An OAuth token answer `{access_token, expires_in}`, or a clear refusal."""
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not token:
        raise AuthenticationFailed(f"{system} gave no access token to '{name}'")
    return str(token), float(answer.get("expires_in") or 1800)


def sap_client(runtime: Runtime, name: str, options: Mapping[str, Any]) -> HttpClient:
    base = str(options["url"]).rstrip("/") + "/"

    def sign_in(client: HttpClient) -> tuple[str, float]:
        form = {"client_id": str(options["client_id"]), "user_id": str(options["user_id"]),
                "token_url": f"{base}oauth/token", "private_key": secret_text(options["private_key"])}
        try:
            assertion = client.request("POST", "oauth/idp", data=form).text.strip()
            answer = client.json("POST", "oauth/token", data={
                "company_id": str(options["company_id"]), "client_id": str(options["client_id"]),
                "grant_type": "urn:ietf:params:oauth:grant-type:saml2-bearer", "assertion": assertion})
        except HttpError as error:
            raise AuthenticationFailed(f"SuccessFactors refused the OAuth client of '{name}': {error.detail}") from None
        return bearer_token(answer, "SuccessFactors", name)

    return runtime.token_client(f"successfactors:{name}", base, options, sign_in)


class SuccessFactorsUsers(Source):
    kind = "successfactors"

    def problems(self) -> list[str]:
        return required_options(f"source '{self.config.name}'", self.config.options,
                                ("url", "company_id", "client_id", "user_id", "private_key"))

    def pull(self, entity: EntityMapping, cursor: str | None) -> Pull:
        if entity.entity == "planned_learning":
            return self._planned(entity, cursor)
        if entity.entity != "people":
            raise ConfigError([f"source '{self.config.name}': successfactors delivers people and planned_learning"])
        incremental = bool(self.config.options.get("incremental")) and cursor is not None
        next_cursor = since_cursor(self.context.as_of)
        records = self._users(entity, cursor if incremental else None)
        return Pull(records=records, complete=not incremental, cursor=next_cursor)

    def _users(self, entity: EntityMapping, since: str | None) -> Iterator[RemoteRecord]:
        condition = ALL_STATUSES + (f" and lastModifiedDateTime gt datetimeoffset'{since}'" if since else "")
        size = min(int(self.config.options.get("page_size", PAGE_LIMIT)), PAGE_LIMIT)
        # A path through a navigation property (manager.userId) is selected as manager/userId
        # and expanded (OData v2 $select and $expand), as the development goals' owner is.
        paths = [path for rule in entity.rules for path in rule.remote_paths]
        select = list(dict.fromkeys(path.replace(".", "/") if "." in path else path for path in paths))
        expand = sorted({path.split(".", 1)[0] for path in paths if "." in path})
        params: dict[str, Any] = {"$format": "json", "$select": ",".join(select), "$filter": condition, "paging": "snapshot",
                                  "customPageSize": size}
        if expand:
            params["$expand"] = ",".join(expand)
        client = sap_client(self.context.runtime, self.config.name, self.config.options)
        for page in client.paginate("odata/v2/User", NextLinkInBody(path="d.__next"), params=params, records_path="d.results"):
            for user in page.records:
                yield RemoteRecord(raw=user, location=f"user {user.get('userId')}")

    def _planned(self, entity: EntityMapping, cursor: str | None) -> Pull:
        template = str(self.config.options.get("devgoal_template", "")).strip()
        if not template.isdigit():
            raise ConfigError([f"source '{self.config.name}': planned_learning needs `devgoal_template`, the id of the "
                               "development goal plan template (DevGoal_<id>, e.g. 2001)"])
        incremental = bool(self.config.options.get("incremental")) and cursor is not None
        next_cursor = since_cursor(self.context.as_of, "%Y-%m-%dT%H:%M:%S")
        return Pull(records=self._dev_goals(entity, template, cursor if incremental else None), complete=not incremental,
                    cursor=next_cursor, live_ids=(lambda: self._dev_goal_ids(entity, template)) if incremental else None)

    def _dev_goal_ids(self, entity: EntityMapping, template: str) -> Iterator[str]:
        """Every live goal's remote id, `$select=id` only (a thousand per page): OData v2 has no
        deletion feed, so a deleted goal is seen as an id no longer listed."""
        size = min(int(self.config.options.get("page_size", PAGE_LIMIT)), PAGE_LIMIT)
        params = {"$format": "json", "$select": "id", "customPageSize": size}
        client = sap_client(self.context.runtime, self.config.name, self.config.options)
        for page in client.paginate(f"odata/v2/DevGoal_{template}", NextLinkInBody(path="d.__next"), params=params, records_path="d.results"):
            for goal in page.records:
                try:
                    yield entity.identify(goal, {})
                except RecordError as error:  # an id we cannot read: better remove nobody than the wrong goal
                    raise SourceUnavailable(f"a development goal in the id listing {error.message}") from None

    def _dev_goals(self, entity: EntityMapping, template: str, since: str | None) -> Iterator[RemoteRecord]:
        paths = [path for rule in entity.rules for path in rule.remote_paths]
        select = list(dict.fromkeys(["id", *(path.replace(".", "/") for path in paths)]))
        expand = sorted({path.split(".", 1)[0] for path in paths if "." in path})
        size = min(int(self.config.options.get("page_size", PAGE_LIMIT)), PAGE_LIMIT)
        params: dict[str, Any] = {"$format": "json", "$select": ",".join(select), "customPageSize": size}
        if expand:
            params["$expand"] = ",".join(expand)
        if since:
            params["$filter"] = f"lastModified gt datetime'{since}'"
        client = sap_client(self.context.runtime, self.config.name, self.config.options)
        for page in client.paginate(f"odata/v2/DevGoal_{template}", NextLinkInBody(path="d.__next"), params=params, records_path="d.results"):
            for goal in page.records:
                yield RemoteRecord(raw=goal, location=f"development goal {goal.get('id')} of user {goal.get('userId')}")


SOURCE = SuccessFactorsUsers
