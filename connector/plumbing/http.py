"""The one HTTP client every API adapter uses: auth, timeouts, retries, throttling, paging.

- Retries: connection errors, timeouts and 5xx with exponential backoff and full jitter,
  bounded in attempts and in seconds; 429 and 503 wait what `Retry-After` says (seconds or an
  HTTP date), capped, else back off.
- Writes are never repeated blindly. A request is *repeatable* when its method is idempotent
  (RFC 9110 section 9.2.2: GET, HEAD, OPTIONS, PUT, DELETE) or the call declares it so
  (`idempotent=True`: a read sent as POST, an upsert by a key of ours, statements with our
  ids; or `idempotency_key=`, sent as the `Idempotency-Key` header, for a vendor that honours
  it). Any other request (POST, PATCH) is repeated only when it provably did not reach the
  server: the connection was never made (refused, DNS failure, connect timeout), or the server
  refused it unprocessed (429, or 503 with Retry-After). Otherwise, when the answer is lost (a
  reset after sending, a read timeout, a 5xx from a gateway, a truncated body) the client
  raises `AnswerLost` at once: the write may have landed, and the caller looks before it
  creates it again.
- Waits (Retry-After, backoff) sleep in slices that check the run's stop request, and raise
  `Interrupted` when it comes, so SIGTERM is answered within a second, not after 120 s.
- Auth: an `Auth` object adds headers to each request; after a 401 it may refresh once (an
  expired token), then the request is repeated.
- Concurrency: at most `max_concurrency` requests in flight per client (per target).
- Counting: every attempt counts in the run's RequestStats, reported in the sync summary.
- Paging: adapters declare a Paginator (next link in the body, offset/limit, page number,
  cursor, Link header); `paginate` runs them all. No adapter writes its own loop.
- Secrets: request headers are never logged or put in errors; URLs are logged without the
  values of query parameters that look like credentials.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import random
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from connector.core.mapping import lookup_path
from connector.plumbing.killpoint import reached

log = logging.getLogger("connector.plumbing.http")

SENSITIVE_QUERY = ("token", "key", "secret", "password", "signature", "code", "sig", "auth")
USER_AGENT = "switching-talent-connector/0.1 (+https://github.com/)"
# RFC 9110 section 9.2.2: sending these twice has the effect of sending them once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
WAIT_SLICE = 0.25  # seconds between two looks at the stop request while waiting


class Auth(Protocol):
    def headers(self) -> dict[str, str]: ...

    def refresh(self) -> bool:
        """Called once after a 401: renew credentials; True when repeating the request makes sense."""
        ...


class BasicAuth:
    """HTTP Basic authentication (CalDAV servers; BambooHR uses the API key as user name)."""

    def __init__(self, username: str, password: str) -> None:
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self._header = {"Authorization": f"Basic {token}"}

    def headers(self) -> dict[str, str]:
        return self._header

    def refresh(self) -> bool:
        return False  # the same credentials would be refused again


class BearerToken:
    """A static bearer token (SCIM servers and other APIs with long-lived tokens)."""

    def __init__(self, token: str) -> None:
        self._header = {"Authorization": f"Bearer {token}"}

    def headers(self) -> dict[str, str]:
        return self._header

    def refresh(self) -> bool:
        return False


class FetchedToken:
    """A bearer token the API hands out for credentials (Personio /v1/auth, SAP's OAuth
    endpoints): fetched on first use, fetched again shortly before it expires or after a 401.
    `fetch` returns the token and its lifetime in seconds."""

    def __init__(self, fetch: Callable[[], tuple[str, float]], clock: Callable[[], float] = time.monotonic,
                 margin: float = 60.0) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin = margin
        self._token: str | None = None
        self._expires = 0.0
        self._lock = threading.Lock()

    def headers(self) -> dict[str, str]:
        with self._lock:
            if self._token is None or self._clock() >= self._expires - self._margin:
                self._token, lifetime = self._fetch()
                self._expires = self._clock() + lifetime
            return {"Authorization": f"Bearer {self._token}"}

    def refresh(self) -> bool:
        with self._lock:
            self._token = None
        return True


class RequestStats:
    """Requests made during one sync, per target; shared by all clients of the run."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count(self, target: str) -> None:
        with self._lock:
            self._counts[target] += 1

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self._counts.items()))

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    retry_after_cap: float = 300.0
    budget_seconds: float = 600.0  # never wait longer than this for one request in total
    statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})


class HttpError(Exception):
    """A response the adapter must deal with (4xx), or a failure after all retries.
    `uncertain` says whether a write may have landed although this error came back."""

    uncertain = False

    def __init__(self, method: str, url: str, status: int | None, detail: str, code: str | None = None) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.detail = detail
        self.code = code
        shown = f"HTTP {status}" if status is not None else "no answer"
        super().__init__(f"{method} {url}: {shown}: {detail}")


class AnswerLost(HttpError):
    """A write that is not repeatable was sent and its answer was lost (connection reset after
    sending, read timeout, 5xx, a truncated body): it may have landed. Never repeated blindly;
    the caller books it `uncertain` and looks for it before creating it again."""

    uncertain = True


class Interrupted(HttpError):
    """A stop was requested (SIGTERM) while waiting to send or repeat a request: nothing was
    sent after the wait began, so the item stays pending (or uncertain, as it was)."""


def refused_unprocessed(status: int, headers: Mapping[str, str]) -> bool:
    """The server says it did not act on the request: 429 Too Many Requests (RFC 6585
    section 4, a refusal), or 503 with Retry-After (RFC 9110 section 15.6.4: not handling
    requests now, come back then). A 503 without it may come from a gateway after the
    backend took the write, so it proves nothing."""
    return status == 429 or (status == 503 and any(k.lower() == "retry-after" for k in headers))


def never_connected(error: requests.RequestException) -> bool:
    """No byte of the request reached the server: connection refused, DNS failure, or a
    timeout while connecting (requests wraps urllib3's reason in its error's first argument)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))  # NameResolutionError is a NewConnectionError


def auth_from_options(options: Mapping[str, Any]) -> Auth | None:
    """`token` (bearer), else `username` and `password` (Basic), else none. Passwords may come
    as SecretStr (typed configuration blocks) or plain strings (adapter options)."""
    if options.get("token"):
        return BearerToken(secret_text(options["token"]))
    if options.get("username"):
        return BasicAuth(str(options["username"]), secret_text(options.get("password")))
    return None


def secret_text(value: Any) -> str:
    """A secret option as text: SecretStr from typed configuration blocks, str from adapter options."""
    return value.get_secret_value() if hasattr(value, "get_secret_value") else str(value or "")


def tls_verify(base_dir: Path, options: Mapping[str, Any]) -> bool | str:
    """requests' `verify` from an adapter's options: False when `verify_tls` is off, the path of
    `ca_bundle` (relative to the configuration) when one is given, else True."""
    if not options.get("verify_tls", True):
        return False
    bundle = options.get("ca_bundle")
    if not bundle:
        return True
    path = Path(str(bundle))
    return str(path if path.is_absolute() else base_dir / path)


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [(k, "***" if any(word in k.lower() for word in SENSITIVE_QUERY) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="$*,()'"), parts.fragment))


def retry_after_seconds(value: str | None, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - now()).total_seconds())


def error_detail(response: requests.Response) -> tuple[str, str | None]:
    """The API's own error message and code, short; never the request."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip().replace("\n", " ")
        return (text[:200] or response.reason or "no body"), None
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            code = error.get("code") or error.get("error")
            message = error.get("message") or error.get("error_description") or error.get("detail") or str(error)[:200]
            return str(message)[:300], (str(code) if code else None)
        if isinstance(error, str):
            return (str(body.get("error_description") or body.get("message") or error))[:300], error
    return str(body)[:200], None


class HttpClient:
    def __init__(
        self,
        target: str,
        base_url: str,
        auth: Auth | None = None,
        *,
        stats: RequestStats | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: tuple[float, float] = (10.0, 60.0),
        max_concurrency: int = 4,
        verify: bool | str = True,
        sleep: Callable[[float], None] | None = None,
        default_headers: Mapping[str, str] | None = None,
        stop: Callable[[], bool] = lambda: False,
        repeatable: bool = False,
    ) -> None:
        """`sleep` replaces the wait between attempts (tests); by default it sleeps in slices
        and raises Interrupted once `stop()` is true. `repeatable` declares every request of
        this client safe to repeat (a sign-in endpoint: a second token does no harm)."""
        self.target = target
        self.base_url = base_url.rstrip("/") + "/"
        self.auth = auth
        self.stats = stats or RequestStats()
        self.retry = retry
        self.timeout = timeout
        self.verify = verify
        self.sleep = sleep or self._pause
        self.stop = stop
        self.repeatable = repeatable
        self.default_headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **(default_headers or {})}
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._local = threading.local()

    def _pause(self, seconds: float) -> None:
        """Wait `seconds`, looking at the stop request every WAIT_SLICE; raises Interrupted."""
        remaining = seconds
        while True:
            if self.stop():
                raise Interrupted("(wait)", self.target, None, "stopped on request while waiting")  # callers say what for
            if remaining <= 0:
                return
            piece = min(WAIT_SLICE, remaining)
            time.sleep(piece)
            remaining -= piece

    def is_repeatable(self, method: str, idempotent: bool | None = None) -> bool:
        """Whether a request may be sent again after an answer that proves nothing."""
        if idempotent is not None:
            return idempotent
        return self.repeatable or method.upper() in IDEMPOTENT_METHODS

    @property
    def _session(self) -> requests.Session:
        # A requests.Session per thread: sessions are not guaranteed thread-safe.
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            self._local.session = session
        return session

    def close_connections(self) -> None:
        """Let go of this thread's open connections (a TLS connection holds about 100 KB); the
        next request opens one again. For a client whose work is done for now, e.g. one tenant's
        listing in a network of hundreds, whose connections would otherwise all stay open until
        the run ends."""
        session = getattr(self._local, "session", None)
        if session is not None:
            session.close()
            self._local.session = None

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urljoin(self.base_url, path_or_url.lstrip("/"))

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (),
        idempotent: bool | None = None,
        idempotency_key: str | None = None,
    ) -> requests.Response:
        """Send with retries; returns a 2xx (or an `accept`ed) response, else raises HttpError.

        `idempotent` declares whether sending this request twice equals sending it once
        (default: by its method); `idempotency_key` goes out as the `Idempotency-Key` header
        (draft-ietf-httpapi-idempotency-key-header), only for vendors that honour it, and
        makes the request repeatable. A request that is not repeatable raises AnswerLost as
        soon as its answer is lost; Interrupted when a stop comes during a wait."""
        url = self.url(path_or_url)
        shown = redact_url(url)
        repeatable = idempotency_key is not None or self.is_repeatable(method, idempotent)
        if idempotency_key is not None:
            headers = {**(headers or {}), "Idempotency-Key": idempotency_key}
        started = time.monotonic()
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            wait: float | None = None
            try:
                response = self._send(method, url, params, json, data, files, headers)
                if not repeatable or method in ("PUT", "PATCH", "DELETE"):
                    reached("write")  # crash tests: die right after a write's answer came in
            except (requests.ConnectionError, requests.Timeout) as error:
                failure = f"{type(error).__name__}"
                log.debug("%s %s -> %s (attempt %d)", method, shown, failure, attempt)
                if not repeatable and not never_connected(error):
                    raise AnswerLost(method, shown, None, f"{failure} after sending: the write may have landed") from None
                if attempt >= self.retry.attempts:
                    raise HttpError(method, shown, None, f"{failure} after {attempt} attempts") from None
            else:
                status = response.status_code
                log.debug("%s %s -> %d (attempt %d)", method, shown, status, attempt)
                if 200 <= status < 300 or status in accept:
                    return response
                if status == 401 and self.auth is not None and not refreshed:
                    refreshed = True
                    if self.auth.refresh():
                        attempt -= 1  # a renewed token is a fresh start, not a retry
                        continue
                detail, code = error_detail(response)
                if not repeatable and status >= 500 and not refused_unprocessed(status, response.headers):
                    raise AnswerLost(method, shown, status, f"{detail} (the write may have landed)", code)
                if status not in self.retry.statuses or attempt >= self.retry.attempts:
                    raise HttpError(method, shown, status, detail, code)
                if status in (429, 503):
                    announced = retry_after_seconds(response.headers.get("Retry-After"))
                    wait = min(announced, self.retry.retry_after_cap) if announced is not None else None
            if wait is None:
                wait = random.uniform(0, min(self.retry.backoff_cap, self.retry.backoff_base * 2 ** (attempt - 1)))
            if time.monotonic() - started + wait > self.retry.budget_seconds:
                raise HttpError(method, shown, None, f"gave up after {attempt} attempts: waiting {wait:.0f} s more exceeds the budget")
            try:
                self.sleep(wait)
            except Interrupted:
                raise Interrupted(method, shown, None, f"stopped on request while waiting {wait:.0f} s to send it again") from None

    def _send(self, method: str, url: str, params: Any, json: Any, data: Any, files: Any, headers: Mapping[str, str] | None) -> requests.Response:
        merged = {**self.default_headers, **(self.auth.headers() if self.auth else {}), **(headers or {})}
        with self._slots:
            self.stats.count(self.target)
            return self._session.request(method, url, params=params, json=json, data=data, files=files, headers=merged,
                                         timeout=self.timeout, verify=self.verify)

    def json(self, method: str, path_or_url: str, **kwargs: Any) -> Any:
        """`request`, then the body as JSON; a write whose answer is cut off raises AnswerLost."""
        response = self.request(method, path_or_url, **kwargs)
        try:
            return parse_json(response, method, redact_url(self.url(path_or_url)))
        except HttpError as error:
            if kwargs.get("idempotency_key") is None and not self.is_repeatable(method, kwargs.get("idempotent")):
                raise AnswerLost(error.method, error.url, error.status, f"{error.detail}; the write landed") from None
            raise

    def paginate(
        self,
        path: str,
        paginator: Paginator,
        *,
        params: Mapping[str, Any] | None = None,
        records_path: str | None = None,
        method: str = "GET",
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> Iterator[Page]:
        """Every page of a listing, as the paginator walks it (`idempotent=True` for listings
        read with POST)."""
        request = PageRequest(url=path, params=dict(params or {}), json=json)
        paginator.start(request)
        while True:
            response = self.request(method, request.url, params=request.params or None, json=request.json, headers=headers,
                                    idempotent=idempotent)
            body = parse_json(response, method, redact_url(self.url(request.url)))
            records = lookup_path(body, records_path) if records_path else body
            if records is None:
                records = []
            if not isinstance(records, list):
                raise HttpError(method, redact_url(self.url(request.url)), response.status_code, f"expected a list at '{records_path}'")
            yield Page(records=records, body=body, response=response)
            if not paginator.advance(request, response, body, records):
                return


def parse_json(response: requests.Response, method: str, shown_url: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise HttpError(method, shown_url, response.status_code, "the answer is not valid JSON (truncated or malformed)") from None


@dataclass
class PageRequest:
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None


@dataclass
class Page:
    records: list[Any]
    body: Any
    response: requests.Response


# -- pagination strategies -----------------------------------------------------------------
# Each one sets up the first request and, from a response, either changes the request into
# the next one (True) or says the listing is complete (False).

class Paginator(ABC):
    def start(self, request: PageRequest) -> None:
        """Adjust the first request (add the page size, the first offset...)."""

    @abstractmethod
    def advance(self, request: PageRequest, response: requests.Response, body: Any, records: list[Any]) -> bool: ...


@dataclass
class NextLinkInBody(Paginator):
    """Microsoft Graph: `{"value": [...], "@odata.nextLink": "https://.../users/delta?$skiptoken=..."}`.
    The link already carries every parameter, so they are dropped from the next request.
    A relative link is resolved against the URL that answered (RFC 3986 section 5): xAPI's
    `more` is a path from the server's root, `/xAPI/statements?...`, not from the endpoint."""

    path: str = "@odata.nextLink"

    def advance(self, request: PageRequest, response: requests.Response, body: Any, records: list[Any]) -> bool:
        link = lookup_path(body, self.path) if isinstance(body, dict) else None
        if not link:
            return False
        request.url, request.params = urljoin(response.url, str(link)), {}
        return True


@dataclass
class OffsetLimit(Paginator):
    """Personio v1 `?limit=100&offset=0`; SCIM `?startIndex=1&count=100` (offset base 1).
    Stops on a short page, or when the reported total is reached."""

    limit: int
    offset_param: str = "offset"
    limit_param: str = "limit"
    base: int = 0
    total_path: str | None = None
    offset: int = field(default=0, init=False)

    def start(self, request: PageRequest) -> None:
        self.offset = self.base
        request.params.update({self.offset_param: self.offset, self.limit_param: self.limit})

    def advance(self, request: PageRequest, response: requests.Response, body: Any, records: list[Any]) -> bool:
        self.offset += len(records)
        total = lookup_path(body, self.total_path) if self.total_path and isinstance(body, dict) else None
        if not records or (total is not None and self.offset - self.base >= int(total)) or (total is None and len(records) < self.limit):
            return False
        request.params[self.offset_param] = self.offset
        return True


@dataclass
class PageNumber(Paginator):
    """`?page=1&per_page=50`, optionally with the number of pages in the body."""

    page_param: str = "page"
    size: int | None = None
    size_param: str | None = None
    first: int = 1
    total_pages_path: str | None = None
    page: int = field(default=1, init=False)

    def start(self, request: PageRequest) -> None:
        self.page = self.first
        request.params[self.page_param] = self.page
        if self.size and self.size_param:
            request.params[self.size_param] = self.size

    def advance(self, request: PageRequest, response: requests.Response, body: Any, records: list[Any]) -> bool:
        pages = lookup_path(body, self.total_pages_path) if self.total_pages_path and isinstance(body, dict) else None
        if not records or (pages is not None and self.page - self.first + 1 >= int(pages)) or (self.size and len(records) < self.size):
            return False
        self.page += 1
        request.params[self.page_param] = self.page
        return True


@dataclass
class Cursor(Paginator):
    """Personio v2 and others: `{"_meta": {"links": {"next": {"cursor": "..."}}}}` → `?cursor=...`."""

    cursor_path: str
    cursor_param: str = "cursor"

    def advance(self, request: PageRequest, response: requests.Response, body: Any, records: list[Any]) -> bool:
        cursor = lookup_path(body, self.cursor_path) if isinstance(body, dict) else None
        if not cursor:
            return False
        request.params[self.cursor_param] = cursor
        return True


@dataclass
class LinkHeader(Paginator):
    """RFC 8288 `Link: <https://api/x?page=2>; rel="next"`."""

    rel: str = "next"

    def advance(self, request: PageRequest, response: requests.Response, body: Any, records: list[Any]) -> bool:
        link = response.links.get(self.rel, {}).get("url")
        if not link:
            return False
        request.url, request.params = link, {}
        return True
