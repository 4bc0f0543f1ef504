"""Holds every stand-in to the vendors' published contracts, in both directions.

A contract (tests/contracts/<vendor>.json) lists, for each endpoint the connector calls,
the facts taken from the vendor's own specification: method, path template, query
parameters (type, enum, maximum, required), the request body's media type and JSON Schema,
the headers the vendor requires, and per documented status the JSON Schema of the answer.
Each endpoint names the document it was taken from (`source`).

- `check_request`: a request the vendor would reject (unknown endpoint, undocumented or
  wrongly typed query parameter, missing header, body against the schema) is a violation.
- `check_response`: an answer the vendor would never send (undocumented status, body
  against the schema) is a violation.
Stand-ins answer a violating request with 400 and a violating answer with 599 and keep the
violations; `assert_clean` fails the test with them (LoopbackAPI.stop and ContractMock do).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema

HERE = Path(__file__).resolve().parent
# Statuses a stand-in may inject on any route (throttling, outages, expired tokens): each
# contract lists which of them its vendor documents, under "common_statuses".
VIOLATION_STATUS = 599


class ContractViolation(AssertionError):
    """A stand-in saw a request the vendor would refuse, or was made to answer what it never sends."""


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]

    @property
    def statuses(self) -> dict[str, Any]:
        return self.spec.get("responses", {})


@dataclass
class Contract:
    vendor: str
    common_statuses: frozenset[int]
    endpoints: list[Endpoint]
    violations: list[str] = field(default_factory=list)

    def endpoint(self, method: str, path: str) -> Endpoint | None:
        path = unquote(path)
        return next((e for e in self.endpoints if e.method == method and e.pattern.fullmatch(path)), None)

    # -- requests ----------------------------------------------------------------------------

    def check_request(self, method: str, target: str, headers: dict[str, str], body: bytes) -> list[str]:
        """Violations of one request (`target` is the path with its query string)."""
        parts = urlsplit(target)
        endpoint = self.endpoint(method, parts.path)
        if endpoint is None:
            return self._keep([f"{self.vendor}: {method} {unquote(parts.path)} is not an endpoint of the contract"])
        where = f"{self.vendor} {endpoint.name}"
        problems = _query_problems(endpoint.spec.get("query", {}), parse_qs(parts.query, keep_blank_values=True))
        lowered = {k.lower(): v for k, v in headers.items()}
        for name, rule in endpoint.spec.get("headers", {}).items():
            value = lowered.get(name.lower())
            if value is None:
                problems.append(f"header {name} is required")
            elif "enum" in rule and value not in rule["enum"]:
                problems.append(f"header {name}: {value!r} is not one of {rule['enum']}")
        problems += _body_problems(endpoint.spec.get("request"), lowered.get("content-type", ""), body)
        return self._keep([f"{where}: {p}" for p in problems])

    # -- answers -----------------------------------------------------------------------------

    def check_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Violations of one answer; `body` is the decoded JSON (None when empty or not JSON)."""
        endpoint = self.endpoint(method, urlsplit(path).path)
        if endpoint is None:
            return []  # the request was refused already
        where = f"{self.vendor} {endpoint.name}"
        documented = endpoint.statuses.get(str(status))
        if documented is None:
            if status in self.common_statuses:
                return []
            return self._keep([f"{where}: status {status} is not documented (documented: {sorted(endpoint.statuses)})"])
        schema = documented.get("schema")
        if schema is None:
            return []
        return self._keep([f"{where} answer {status}: {e}" for e in _schema_errors(schema, body)])

    def _keep(self, problems: list[str]) -> list[str]:
        self.violations.extend(problems)
        return problems

    def assert_clean(self) -> None:
        if self.violations:
            found, self.violations = self.violations, []
            raise ContractViolation("\n".join(found))


def _template(path: str) -> re.Pattern[str]:
    """`/users/{id}/x('{key}')` → a regex: each {name} is one path segment (or key value)."""
    pieces = re.split(r"(\{[^}]+\})", path)
    return re.compile("".join("[^/']+" if p.startswith("{") else re.escape(p) for p in pieces))


def _query_problems(rules: dict[str, Any], query: dict[str, list[str]]) -> list[str]:
    problems = [f"query parameter {name} is required" for name, rule in rules.items() if rule.get("required") and name not in query]
    for name, values in query.items():
        rule = rules.get(name)
        if rule is None:
            problems.append(f"query parameter {name} is not documented")
            continue
        for value in values:
            problem = _scalar_problem(rule, value)
            if problem:
                problems.append(f"query parameter {name}={value!r}: {problem}")
    return problems


def _scalar_problem(rule: dict[str, Any], value: str) -> str | None:
    kind = rule.get("type", "string")
    try:
        if kind == "integer":
            number: float = int(value)
        elif kind == "number":
            number = float(value)
        elif kind == "boolean":
            if value not in ("true", "false"):
                return "not a boolean (true or false)"
            number = 0
        else:
            number = 0
    except ValueError:
        return f"not an {kind}"
    if "enum" in rule and value not in rule["enum"]:
        return f"not one of {rule['enum']}"
    unknown = [item for item in value.split(",") if item not in rule.get("list_of", [item])]
    if unknown:
        return f"{', '.join(unknown)} not among the documented names"
    if "maximum" in rule and number > rule["maximum"]:
        return f"above the documented maximum {rule['maximum']}"
    if "minimum" in rule and number < rule["minimum"]:
        return f"below the documented minimum {rule['minimum']}"
    if "pattern" in rule and not re.search(rule["pattern"], value):
        return f"does not match {rule['pattern']}"
    return None


def _body_problems(rule: dict[str, Any] | None, content_type: str, body: bytes) -> list[str]:
    if rule is None:
        return ["a body is sent where none is documented"] if body else []
    wanted = rule["content_type"]
    if not content_type.startswith(wanted):
        return [f"body must be {wanted}, not {content_type or 'absent'}"]
    if wanted == "application/json":
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return ["body is not JSON"]
    elif wanted == "application/x-www-form-urlencoded":
        data = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    else:
        data = _multipart_fields(content_type, body)
    return [f"body: {e}" for e in _schema_errors(rule.get("schema", {}), data)]


def _multipart_fields(content_type: str, body: bytes) -> dict[str, Any]:
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition"))
        fields[name] = {"filename": part.get_filename()} if part.get_filename() else part.get_payload(decode=True).decode()
    return fields


def _schema_errors(schema: dict[str, Any], data: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(data)][:5]


@cache
def _document(vendor: str) -> dict[str, Any]:
    return json.loads((HERE / f"{vendor}.json").read_text(encoding="utf-8"))


def load(vendor: str) -> Contract:
    """A fresh checker (its own violations) for tests/contracts/<vendor>.json."""
    document = _document(vendor)
    base = document.get("base_path", "")
    endpoints = [Endpoint(e["name"], e["method"], _template(base + e["path"]), e) for e in document["endpoints"]]
    return Contract(document["vendor"], frozenset(document.get("common_statuses", {}).get("statuses", [])), endpoints)
