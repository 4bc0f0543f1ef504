"""A loopback HTTP server for stand-ins of SaaS APIs (BambooHR, Personio, SAP SuccessFactors).

Each stand-in registers routes (method + path pattern) and keeps its own state; this base
adds what the connector must survive, on demand and for any route:
- `fail(n, status, headers, body)`: the next n requests get that answer (429 with
  Retry-After, 503, 500...);
- `drop(n)`: the next n requests get no answer at all (the connection closes);
- `garble(n)`: the next n successful JSON answers are cut in half (truncated JSON).
Every request is counted per route name, so tests can compare with the minimum.
A stand-in built with `contract="<vendor>"` holds both directions to
tests/contracts/<vendor>.json: a request the vendor would refuse gets 400, an answer the
vendor would never send is not served (599), and `stop()` fails the test with either.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.contracts import checker


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match[str]

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, Any]:
        """A multipart/form-data or urlencoded body: fields as text, files as (name, bytes)."""
        kind = self.headers.get("content-type", "")
        if kind.startswith("application/x-www-form-urlencoded"):
            return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + self.body)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True)
            fields[str(name)] = (filename, payload) if filename else payload.decode()
        return fields

    def param(self, name: str, default: str | None = None) -> str | None:
        return self.query.get(name, [default])[0]


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Request], Answer]


class LoopbackAPI:
    def __init__(self, contract: str | None = None) -> None:
        self.contract = checker.load(contract) if contract else None
        self.routes: list[tuple[str, str, re.Pattern[str], Handler]] = []
        self.requests: Counter[str] = Counter()
        self.log: list[tuple[str, str]] = []
        self._faults: list[Answer | str] = []
        self._garble = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def route(self, name: str, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((name, method, re.compile(f"^{pattern}$"), handler))

    # -- faults --------------------------------------------------------------------------

    def fail(self, times: int, status: int, headers: dict[str, str] | None = None, body: Any = None) -> None:
        self._faults.extend([Answer(status, body, headers or {})] * times)

    def drop(self, times: int) -> None:
        self._faults.extend(["drop"] * times)

    def garble(self, times: int) -> None:
        self._garble += times

    # -- serving -------------------------------------------------------------------------

    @property
    def base(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LoopbackAPI:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = api.dispatch(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                if answer is None:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if isinstance(answer.body, bytes):
                    data = answer.body
                    kind = answer.headers.get("Content-Type", "application/octet-stream")
                else:
                    data = b"" if answer.body is None else json.dumps(answer.body).encode()
                    kind = "application/json"
                self.send_response(answer.status)
                self.send_header("Content-Type", kind)
                for key, value in answer.headers.items():
                    if key != "Content-Type":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.contract is not None:
            self.contract.assert_clean()

    def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer | None:
        if self.contract is not None:
            refused = self.contract.check_request(method, target, headers, body)
            if refused:
                return Answer(400, {"contract": refused})
        parts = urlsplit(target)
        for name, route_method, pattern, handler in self.routes:
            match = pattern.match(parts.path)
            if route_method != method or match is None:
                continue
            with self._lock:
                self.requests[name] += 1
                self.log.append((method, target))
                fault = self._faults.pop(0) if self._faults else None
            if fault == "drop":
                return None
            if isinstance(fault, Answer):
                return self._served(method, target, fault)
            answer = self._served(method, target, handler(Request(method, parts.path, parse_qs(parts.query), headers, body, match)))
            with self._lock:
                if self._garble and answer.status < 300 and answer.body is not None and not isinstance(answer.body, bytes):
                    self._garble -= 1
                    text = json.dumps(answer.body).encode()
                    return Answer(answer.status, text[: len(text) // 2], {"Content-Type": "application/json"})
            return answer
        return Answer(404, {"error": f"no route for {method} {parts.path}"})

    def _served(self, method: str, target: str, answer: Answer) -> Answer:
        """The answer, unless the vendor's contract says it would never send it."""
        if self.contract is None:
            return answer
        body = None if isinstance(answer.body, bytes) else answer.body
        wrong = self.contract.check_response(method, target, answer.status, body)
        return Answer(checker.VIOLATION_STATUS, {"contract": wrong}) if wrong else answer
