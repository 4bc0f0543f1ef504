"""A small, honest stand-in for Microsoft Graph and the identity platform, on loopback HTTPS.

What it enforces, as the real service documents it:
- OpenID discovery and the client-credentials token endpoint (wrong secret: 401 invalid_client);
  tokens expire, and an expired or unknown token gets 401 InvalidAuthenticationToken.
- /users/delta: pages of `page_size` with @odata.nextLink, a final @odata.deltaLink; later
  rounds return only changed users (with just the changed properties) and `@removed`;
  an unknown delta token answers 410 syncStateNotFound.
- $batch: at most 20 requests (more: 400), each answered with its own status.
- Events in a mailbox: POST with transactionId returns the existing event for a repeated
  transactionId; $filter on our single-value extended property; PATCH; /cancel (202) marks
  the event cancelled; GET by id. Online meetings get a Teams join URL.
- Throttling on demand: `throttle(n, retry_after)` answers the next n requests with 429.

It counts every HTTP request, so tests and the benchmark can compare with the minimum.
Every Graph request (and each request inside a $batch) and every answer is held to
tests/contracts/msgraph.json (generated from Microsoft's CSDL metadata, with the docs'
statuses): a request Graph would refuse gets 400, an answer Graph would never give is not
served (599), and `stop()` fails the test with either.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from tests.contracts import checker
from tests.fakes.tls import HttpsFake

TENANT = "8f3c2c7e-1b7a-4d3e-9b6f-5b8e2f0d1a22"
CLIENT_ID = "5d1c6c0e-4f3a-4b1e-8f0e-2a9c7b6d5e41"
CLIENT_SECRET = "fake-graph-secret"
BATCH_LIMIT = 20
PROPERTY_FILTER = re.compile(r"ep/id eq '([^']+)' and ep/value eq '([^']+)'")


@dataclass
class _User:
    data: dict[str, Any]
    version: int
    changed: set[str] = field(default_factory=set)
    deleted: bool = False


class FakeGraph(HttpsFake):
    def __init__(self, page_size: int = 200, token_lifetime: int = 3600) -> None:
        self.page_size = page_size
        self.token_lifetime = token_lifetime
        self.contract = checker.load("msgraph")
        self.version = 0
        self.users: dict[str, _User] = {}
        self.events: dict[str, dict[str, dict[str, Any]]] = {}
        self.transactions: dict[str, str] = {}
        self.event_versions: dict[str, int] = {}  # event id -> version of its last change (calendarView delta)
        self.busy: dict[str, list[tuple[str, str, str]]] = {}
        self.groups: dict[str, set[str]] = {}  # group id -> member user ids (transitive)
        self.certificates: list[x509.Certificate] = []  # registered for certificate sign-in  # address -> (start, end, status) in UTC, for getSchedule
        self.tokens: dict[str, float] = {}
        self.requests: Counter[str] = Counter()
        self.operations: Counter[str] = Counter()  # "GET /users/delta", "POST /$batch", ...
        self.batch_sizes: list[int] = []
        self._throttle = 0
        self._retry_after = 1
        self._expire_after: int | None = None
        self._lock = threading.RLock()
        self._serve(_handler(self))
        self.graph_url = f"{self.base}/v1.0"

    def tenant_toml(self, name: str = "partner", secret_variable: str = "ST_TEST_GRAPH_SECRET") -> str:
        """The [[tenants]] block that points the connector at this fake."""
        return f"""[[tenants]]
name = "{name}"
tenant_id = "{TENANT}"
client_id = "{CLIENT_ID}"
client_secret = "${{{secret_variable}}}"
authority_host = "{self.base}"
graph_url = "{self.graph_url}"
ca_bundle = "{self.ca_file}"
"""

    # -- control -----------------------------------------------------------------------
    def stop(self) -> None:
        super().stop()
        self.contract.assert_clean()

    def checked(self, method: str, target: str, headers: dict[str, str], raw: bytes,
                answer: Callable[[], tuple[int, dict[str, str], Any]]) -> tuple[int, dict[str, str], Any]:
        """Graph's answer to a request, both held to the contract."""
        refused = self.contract.check_request(method, target, headers, raw)
        if refused:
            return 400, {}, _error("BadRequest", "; ".join(refused))
        status, headers_out, body = answer()
        wrong = self.contract.check_response(method, target, status, body)
        return (checker.VIOLATION_STATUS, {}, _error("ContractViolation", "; ".join(wrong))) if wrong else (status, headers_out, body)

    def throttle(self, count: int, retry_after: int = 1) -> None:
        with self._lock:
            self._throttle, self._retry_after = count, retry_after

    def expire_tokens(self, after_requests: int = 0) -> None:
        """Make every token issued so far expire, now or after that many more Graph requests."""
        with self._lock:
            if after_requests:
                self._expire_after = self.requests["graph"] + after_requests
            else:
                self.tokens = {token: 0.0 for token in self.tokens}

    def add_user(self, user: dict[str, Any]) -> None:
        with self._lock:
            self.version += 1
            self.users[user["id"]] = _User(dict(user), self.version, set(user))

    def update_user(self, object_id: str, **changes: Any) -> None:
        with self._lock:
            self.version += 1
            user = self.users[object_id]
            user.data.update(changes)
            user.version, user.changed = self.version, set(changes)

    def delete_user(self, object_id: str) -> None:
        with self._lock:
            self.version += 1
            self.users[object_id].deleted, self.users[object_id].version = True, self.version

    def respond(self, event_id: str, address: str, response: str) -> None:
        """An attendee answers; the organiser's copy of the event changes (as in Exchange)."""
        with self._lock:
            for events in self.events.values():
                if event_id in events:
                    for attendee in events[event_id]["attendees"]:
                        if attendee["emailAddress"]["address"].lower() == address.lower():
                            attendee["status"] = {"response": response, "time": "2026-11-22T10:00:00Z"}
                    self._touch(event_id)

    def _touch(self, event_id: str) -> None:
        self.version += 1
        self.event_versions[event_id] = self.version

    def mailbox(self, address: str) -> dict[str, dict[str, Any]]:
        return self.events.setdefault(address.lower(), {})

    @property
    def graph_requests(self) -> int:
        return self.requests["graph"]

    # -- the API -----------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: Any) -> tuple[int, dict[str, str], Any]:
        path, query = urlsplit(target).path, parse_qs(urlsplit(target).query)
        if path.endswith("/.well-known/openid-configuration"):
            return 200, {}, {"token_endpoint": f"{self.base}/{TENANT}/oauth2/v2.0/token", "issuer": f"{self.base}/{TENANT}/v2.0",
                             "authorization_endpoint": f"{self.base}/{TENANT}/oauth2/v2.0/authorize"}
        if path.endswith("/oauth2/v2.0/token"):
            return self._token(body)
        if path == "/_stats":  # test instrumentation, not part of Graph
            with self._lock:
                events = sum(len(m) for m in self.events.values())
                return 200, {}, {"operations": dict(self.operations), "max_batch": max(self.batch_sizes, default=0), "events": events}
        with self._lock:
            if self._expire_after is not None and self.requests["graph"] > self._expire_after:
                self.tokens = {token: 0.0 for token in self.tokens}
                self._expire_after = None
            if self._throttle > 0:
                self._throttle -= 1
                return 429, {"Retry-After": str(self._retry_after)}, _error("TooManyRequests", "Too many requests")
        token = headers.get("authorization", "").removeprefix("Bearer ")
        if self.tokens.get(token, 0.0) < dt.datetime.now().timestamp():
            return 401, {}, _error("InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        return self.route(method, path.removeprefix("/v1.0"), query, body)

    def _token(self, form: Any) -> tuple[int, dict[str, str], Any]:
        fields = parse_qs(form) if isinstance(form, str) else {}
        if "client_assertion" in fields:
            accepted = self._valid_assertion(fields["client_assertion"][0], fields.get("client_assertion_type", [""])[0])
        else:
            accepted = fields.get("client_secret", [""])[0] == CLIENT_SECRET and fields.get("client_id", [""])[0] == CLIENT_ID
        if not accepted:
            return 401, {}, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}
        value = uuid.uuid4().hex
        with self._lock:
            self.tokens[value] = dt.datetime.now().timestamp() + self.token_lifetime
        return 200, {}, {"token_type": "Bearer", "expires_in": self.token_lifetime, "access_token": value}

    def _valid_assertion(self, assertion: str, kind: str) -> bool:
        """A client assertion (RFC 7523) signed RS256 by the key of a registered certificate."""
        if kind != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" or assertion.count(".") != 2:
            return False
        head, body, signature = assertion.split(".")
        decode = lambda part: base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))  # noqa: E731
        claims = json.loads(decode(body))
        fresh = claims.get("exp", 0) > dt.datetime.now().timestamp()
        addressed = claims.get("aud") == f"{self.base}/{TENANT}/oauth2/v2.0/token" and claims.get("iss") == claims.get("sub") == CLIENT_ID
        if not (fresh and addressed):
            return False
        for certificate in self.certificates:
            try:
                certificate.public_key().verify(decode(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg]
                return True
            except InvalidSignature:
                continue
        return False

    def route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, dict[str, str], Any]:
        if path == "/$batch" and method == "POST":
            return self._batch(body)
        if path == "/users/delta" and method == "GET":
            return self._delta(query)
        match = re.fullmatch(r"/groups/([^/]+)/transitiveMembers/microsoft.graph.user", path)
        if match and method == "GET":
            return self._members(match.group(1), query)
        match = re.fullmatch(r"/users/([^/@]+)", path)
        if match and method == "GET":
            with self._lock:
                found = self.users.get(match.group(1))
                if found is None or found.deleted:
                    return 404, {}, _error("Request_ResourceNotFound", f"Resource '{match.group(1)}' does not exist.")
                return 200, {}, dict(found.data)
        match = re.fullmatch(r"/users/([^/]+)/calendarView/delta", path)
        if match and method == "GET":
            return self._calendar_delta(unquote(match.group(1)), query)
        match = re.fullmatch(r"/users/([^/]+)/calendar/getSchedule", path)
        if match and method == "POST":
            return self._schedule(body)
        match = re.fullmatch(r"/users/([^/]+)/events(?:/([^/]+))?(/cancel)?", path)
        if match:
            return self._events(method, unquote(match.group(1)), match.group(2), bool(match.group(3)), query, body)
        return 404, {}, _error("ResourceNotFound", f"no route for {method} {path}")

    def _batch(self, body: Any) -> tuple[int, dict[str, str], Any]:
        requests_ = (body or {}).get("requests", [])
        if len(requests_) > BATCH_LIMIT:
            return 400, {}, _error("BadRequest", f"Too many requests in the batch: {len(requests_)} (limit {BATCH_LIMIT}).")
        self.batch_sizes.append(len(requests_))
        carries = next((kind for kind, mark in (("getSchedule", "/getSchedule"), ("events", "/events"), ("users", "/users/"))
                        if all(mark in r["url"] for r in requests_)), "mixed")
        with self._lock:
            self.operations[f"POST /$batch ({carries})"] += 1
        answers = []
        for request in requests_:
            url = request["url"] if request["url"].startswith("/") else "/" + request["url"]
            split = urlsplit(url)
            raw = b"" if request.get("body") is None else json.dumps(request["body"]).encode()
            status, headers, answer = self.checked(
                request["method"], "/v1.0" + url, request.get("headers") or {}, raw,
                lambda r=request, p=split: self.route(r["method"], p.path, parse_qs(p.query), r.get("body")))
            answers.append({"id": request["id"], "status": status, "headers": headers, "body": answer})
        return 200, {}, {"responses": answers}

    def _delta(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        """Skip tokens read `<f|d>.<since>.<base>.<offset>`: a full listing or the changes since
        a version, frozen at version `base`, from `offset`. The delta token is a version."""
        with self._lock:
            if "$skiptoken" in query:
                kind, since, base, offset = query["$skiptoken"][0].split(".")
            elif "$deltatoken" in query:
                token = query["$deltatoken"][0]
                if not token.isdigit() or int(token) > self.version:
                    return 410, {}, _error("syncStateNotFound", "The sync state is no longer available.")
                kind, since, base, offset = "d", token, str(self.version), "0"
            else:
                kind, since, base, offset = "f", "0", str(self.version), "0"
            rows = self._delta_rows(kind, int(since), int(base))
            start = int(offset)
            page: dict[str, Any] = {"@odata.context": f"{self.graph_url}/$metadata#users", "value": rows[start: start + self.page_size]}
            if start + self.page_size < len(rows):
                page["@odata.nextLink"] = f"{self.graph_url}/users/delta?$skiptoken={kind}.{since}.{base}.{start + self.page_size}"
            else:
                page["@odata.deltaLink"] = f"{self.graph_url}/users/delta?$deltatoken={base}"
            return 200, {}, page

    def _delta_rows(self, kind: str, since: int, base: int) -> list[dict[str, Any]]:
        ordered = sorted(self.users.values(), key=lambda u: u.data["id"])
        if kind == "f":
            return [dict(u.data) for u in ordered if not u.deleted]
        changed = [u for u in ordered if since < u.version <= base]
        return [_removed(u) if u.deleted else {"id": u.data["id"], **{k: u.data[k] for k in u.changed}} for u in changed]

    def _events(self, method: str, mailbox: str, event_id: str | None, cancel: bool, query: dict[str, list[str]], body: Any) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            events = self.mailbox(mailbox)
            if event_id is None and method == "POST":
                return self._create(events, body)
            if event_id is None and method == "GET":
                condition = PROPERTY_FILTER.search(query.get("$filter", [""])[0])
                if condition is None:
                    return 400, {}, _error("ErrorInvalidUrlQueryFilter", "unsupported filter")
                prop, value = condition.groups()
                found = [e for e in events.values() if any(p["id"] == prop and p["value"] == value for p in e.get("singleValueExtendedProperties", []))]
                return 200, {}, {"value": [_public(e) for e in found]}
            event = events.get(event_id or "")
            if event is None:
                return 404, {}, _error("ErrorItemNotFound", "The specified object was not found in the store.")
            if cancel and method == "POST":
                event["isCancelled"] = True
                self._touch(event["id"])
                return 202, {}, None
            if method == "PATCH":
                event.update(body or {})
                event["changeKey"] = uuid.uuid4().hex[:12]
                self._touch(event["id"])
                return 200, {}, _public(event)
            if method == "GET":
                return 200, {}, _public(event)
            return 405, {}, _error("MethodNotAllowed", method)

    def _create(self, events: dict[str, dict[str, Any]], body: Any) -> tuple[int, dict[str, str], Any]:
        body = dict(body or {})
        for name in ("subject", "start", "end", "attendees"):
            if name not in body:
                return 400, {}, _error("ErrorInvalidRequest", f"missing {name}")
        if body["start"].get("timeZone") == "Europe/Brussels":
            return 400, {}, _error("TimeZoneNotSupportedException", "A valid TimeZone value must be specified.")
        transaction = body.get("transactionId")
        if transaction and transaction in self.transactions and self.transactions[transaction] in events:
            return 201, {}, _public(events[self.transactions[transaction]])
        event_id = "AAMkAD" + uuid.uuid4().hex
        body.update(id=event_id, iCalUId="040000008200E00074C5B7101A82E008" + uuid.uuid4().hex, changeKey=uuid.uuid4().hex[:12], isCancelled=False)
        if body.get("isOnlineMeeting"):
            body["onlineMeeting"] = {"joinUrl": f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{uuid.uuid4().hex}%40thread.v2/0"}
        for attendee in body["attendees"]:
            attendee.setdefault("status", {"response": "none", "time": "0001-01-01T00:00:00Z"})
        events[event_id] = body
        self._touch(event_id)
        if transaction:
            self.transactions[transaction] = event_id
        return 201, {}, _public(body)


    def _calendar_delta(self, mailbox: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        """Tokens read `<since>.<base>.<offset>`; the window is not enforced (every event counts)."""
        with self._lock:
            if "$skiptoken" in query:
                since, base, offset = (int(p) for p in query["$skiptoken"][0].split("."))
            elif "$deltatoken" in query:
                since, base, offset = int(query["$deltatoken"][0]), self.version, 0
            else:
                if "startDateTime" not in query or "endDateTime" not in query:
                    return 400, {}, _error("ErrorInvalidParameter", "startDateTime and endDateTime are required")
                since, base, offset = 0, self.version, 0
            changed = sorted((e for e in self.mailbox(mailbox).values() if since < self.event_versions.get(e["id"], 0) <= base),
                             key=lambda e: e["id"])
            page: dict[str, Any] = {"value": [_public(e) for e in changed[offset: offset + self.page_size]]}
            if offset + self.page_size < len(changed):
                page["@odata.nextLink"] = f"{self.graph_url}/users/{mailbox}/calendarView/delta?$skiptoken={since}.{base}.{offset + self.page_size}"
            else:
                page["@odata.deltaLink"] = f"{self.graph_url}/users/{mailbox}/calendarView/delta?$deltatoken={base}"
            return 200, {}, page

    def _members(self, group: str, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        if group not in self.groups:
            return 404, {}, _error("Request_ResourceNotFound", f"Resource '{group}' does not exist.")
        top = int(query.get("$top", ["100"])[0])
        offset = int(query.get("$skiptoken", ["0"])[0])
        ids = sorted(self.groups[group])
        page: dict[str, Any] = {"@odata.count": len(ids),
                                "value": [{"@odata.type": "#microsoft.graph.user", "id": i} for i in ids[offset: offset + top]]}
        if offset + top < len(ids):  # the link repeats the query, $count=true included
            page["@odata.nextLink"] = (f"{self.graph_url}/groups/{group}/transitiveMembers/microsoft.graph.user"
                                       f"?$count=true&$select=id&$top={top}&$skiptoken={offset + top}")
        return 200, {}, page

    def _schedule(self, body: Any) -> tuple[int, dict[str, str], Any]:
        start, end = body["startTime"]["dateTime"], body["endTime"]["dateTime"]
        answers = []
        for address in body["schedules"]:
            items = [{"status": status, "start": {"dateTime": s, "timeZone": "UTC"}, "end": {"dateTime": e, "timeZone": "UTC"}}
                     for s, e, status in self.busy.get(address.lower(), []) if s < end and e > start]
            answers.append({"scheduleId": address, "availabilityView": "", "scheduleItems": items})
        return 200, {}, {"value": answers}


def _public(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "singleValueExtendedProperties"}


def _removed(user: _User) -> dict[str, Any]:
    return {"id": user.data["id"], "@removed": {"reason": "deleted"}}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"request-id": str(uuid.uuid4())}}}


def _handler(fake: FakeGraph) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            body: Any = raw.decode() if "x-www-form-urlencoded" in content_type else (json.loads(raw) if raw else None)
            path = urlsplit(self.path).path
            with fake._lock:
                if path != "/_stats":
                    fake.requests["login" if ("oauth2" in path or "well-known" in path) else "graph"] += 1
                    fake.operations[f"{self.command} {re.sub(r'/users/[^/]+/', '/users/{id}/', path.removeprefix('/v1.0'))}"] += 1
            headers_in = {k.lower(): v for k, v in self.headers.items()}
            if path == "/_stats" or "oauth2" in path or "well-known" in path:  # the identity platform is not Graph
                status, headers, answer = fake.handle(self.command, self.path, headers_in, body)
            else:
                status, headers, answer = fake.checked(self.command, self.path, headers_in, raw,
                                                       lambda: fake.handle(self.command, self.path, headers_in, body))
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
