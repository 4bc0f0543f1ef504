"""BambooHR: employees and the training records HR already keeps there.

People come from a custom report (`POST reports/custom`) asking exactly the fields the
mapping reads, for every employee, active or not; `status` says who is still employed.
With `incremental = true`, later runs ask `employees/changed` what was inserted, updated or
deleted since the last run and report only those (the report's `lastChanged` filter).
Training records are listed per employee (`training/record/employee/{id}`), one request
each; records the connector wrote itself (their notes carry `st-ref:`) are skipped, as the
store already holds those exchange days. A record names its training type by id only, so
the type's name (`training/type`, an object keyed by id) is added as `type_name`, the title.
`hours`, `instructor` and `credits` exist only when the company's training settings enable
them: `hours_when_missing` gives the hours of a record without any.
The custom report is asked `onlyCurrent=true` (today's values, not future-dated history;
it lists every status anyway). BambooHR marks `reports/custom` for deprecation in favour of
Datasets (`GET /api/v1/datasets/{name}`); the request stays here until that replacement
is generally available.
Planned learning comes from each employee's performance goals
(`performance/employees/{id}/goals`, OAuth scope `goal`): a goal's progress gives its
status (`progress` = done once it has a completion date, in_progress above 0 %, else open),
and the hashtags in its title or description (#switchingtalent) are its `tags`, so the rule
`candidates = "tag:switchingtalent"` can pick the goals meant for Switching Talent. The
list is read whole every run (the API has no changed-since filter for goals); change
detection keeps the unchanged ones unchanged.
Facts: tests/contracts/bamboohr.json (BambooHR's OpenAPI description, bhr-api-python).
Options: `company` (the subdomain: mycompany for mycompany.bamboohr.com), `api_key`,
`incremental`, `hours_when_missing`, `url` (another API base, for tests), `ca_bundle`.
Throttling is answered with 503 (until September 2026) or 429 with Retry-After; the shared
HTTP client waits and retries on both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from connector.core.errors import ConfigError
from connector.core.mapping import EntityMapping
from connector.plumbing.adapters import required_options
from connector.plumbing.http import HttpClient
from connector.plumbing.runtime import Runtime
from connector.sources import Pull, RemoteRecord, Source, since_cursor
from connector.store.outbox import REFERENCE

API = "https://api.bamboohr.com/api/gateway.php/{company}/v1/"


def bamboohr_problems(owner: str, options: Mapping[str, Any]) -> list[str]:
    problems = required_options(owner, options, ("api_key",), 'e.g. "${BAMBOOHR_API_KEY}"')
    if not options.get("company") and not options.get("url"):
        problems.append(f"{owner}: give `company`, the subdomain of your BambooHR address (mycompany for mycompany.bamboohr.com)")
    return problems


def bamboohr_client(runtime: Runtime, name: str, options: Mapping[str, Any]) -> HttpClient:
    """The API key is the Basic user name; BambooHR ignores the password."""
    url = options.get("url") or API.format(company=options["company"])
    return runtime.api_client(f"bamboohr:{name}", {**options, "url": url, "username": options["api_key"], "password": "x"})


def training_records(body: Any) -> list[dict[str, Any]]:
    """`training/record/employee/{id}` answers an object keyed by record id, or `[]` when the
    employee has none (BambooHR's TrainingRecordMap); a list of records is accepted too."""
    if isinstance(body, dict):
        values = list(body.values())
    elif isinstance(body, list):
        values = body
    else:
        return []
    records = []
    for value in values:
        if isinstance(value, dict) and "id" not in value and len(value) == 1:
            value = next(iter(value.values()))  # [{"<id>": {...}}]
        if isinstance(value, dict):
            records.append(value)
    return records


class BambooHRSource(Source):
    kind = "bamboohr"

    def problems(self) -> list[str]:
        return bamboohr_problems(f"source '{self.config.name}'", self.config.options)

    @property
    def client(self) -> HttpClient:
        return bamboohr_client(self.context.runtime, self.config.name, self.config.options)

    def pull(self, entity: EntityMapping, cursor: str | None) -> Pull:
        next_cursor = since_cursor(self.context.as_of)
        if entity.entity == "people":
            incremental = bool(self.config.options.get("incremental")) and cursor is not None
            records = self._changed_people(entity, str(cursor)) if incremental else self._people(entity.remote_fields())
            return Pull(records=records, complete=not incremental, cursor=next_cursor)
        if entity.entity == "training_records":
            return Pull(records=self._training(), complete=True)
        if entity.entity == "planned_learning":
            return Pull(records=self._goals(), complete=True)
        raise ConfigError([f"source '{self.config.name}': bamboohr delivers people, training_records and planned_learning"])

    def _report(self, fields: list[str], since: str | None = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"title": "Switching Talent Connector", "fields": list(dict.fromkeys(["id", *fields]))}
        if since:
            body["filters"] = {"lastChanged": {"includeNull": "no", "value": since}}
        # onlyCurrent=false would add future-dated history values; the report lists every status either way.
        answer = self.client.json("POST", "reports/custom", params={"format": "JSON", "onlyCurrent": "true"}, json=body,
                                  idempotent=True)  # a read
        employees = answer.get("employees") if isinstance(answer, dict) else None
        return [e for e in employees or [] if isinstance(e, dict)]

    def _people(self, fields: list[str], since: str | None = None) -> Iterator[RemoteRecord]:
        for employee in self._report(fields, since):
            yield RemoteRecord(raw=employee, location=f"employee {employee.get('id')}")

    def _changed_people(self, entity: EntityMapping, since: str) -> Iterator[RemoteRecord]:
        answer = self.client.json("GET", "employees/changed", params={"since": since})
        changes = (answer.get("employees") if isinstance(answer, dict) else None) or {}
        changes = changes.values() if isinstance(changes, dict) else changes
        deleted = [str(c.get("id")) for c in changes if isinstance(c, dict) and str(c.get("action", "")).lower() == "deleted"]
        for employee_id in deleted:
            yield RemoteRecord(raw={"id": employee_id}, location=f"employee {employee_id}", deleted=True)
        if len(deleted) < len(list(changes)):
            yield from self._people(entity.remote_fields(), since)

    def _training(self) -> Iterator[RemoteRecord]:
        names = training_type_names(self.client)
        fallback_hours = self.config.options.get("hours_when_missing")
        employees = self._report(["employeeNumber", "workEmail"])
        for employee in employees:
            body = self.client.json("GET", f"training/record/employee/{employee['id']}")
            for record in training_records(body):
                if REFERENCE in str(record.get("notes") or ""):
                    continue
                raw = {**record, "employee": employee, "type_name": names.get(str(record.get("type")))}
                if raw.get("hours") in (None, "") and fallback_hours is not None:
                    raw["hours"] = fallback_hours  # the company's settings leave hours out
                yield RemoteRecord(raw=raw, location=f"training record {record.get('id')} of employee {employee['id']}")

    def _goals(self) -> Iterator[RemoteRecord]:
        for employee in self._report(["employeeNumber", "workEmail"]):
            body = self.client.json("GET", f"performance/employees/{employee['id']}/goals")
            goals = body.get("goals") if isinstance(body, dict) else None
            for goal in goals or []:
                if isinstance(goal, dict):
                    raw = {**goal, "employee": employee, "progress": goal_progress(goal), "tags": hashtags(goal)}
                    yield RemoteRecord(raw=raw, location=f"goal {goal.get('id')} of employee {employee['id']}")


def goal_progress(goal: Mapping[str, Any]) -> str:
    """open, in_progress or done, from what every goal carries (its status texts are not documented)."""
    if goal.get("completionDate"):
        return "done"
    return "in_progress" if (goal.get("percentComplete") or 0) > 0 else "open"


def hashtags(goal: Mapping[str, Any]) -> list[str]:
    """The #words of a goal's title and description, lower-case, without the #."""
    text = f"{goal.get('title') or ''} {goal.get('description') or ''}"
    return sorted({word.strip(".,;:!?()").lower()[1:] for word in text.split() if word.startswith("#") and len(word) > 1})


def training_type_names(client: HttpClient) -> dict[str, str]:
    """Training type id → name; `GET training/type` answers an object keyed by type id."""
    listed = client.json("GET", "training/type")
    values = listed.values() if isinstance(listed, dict) else listed if isinstance(listed, list) else []
    return {str(t.get("id")): str(t.get("name")) for t in values if isinstance(t, dict)}


SOURCE = BambooHRSource
