"""Microsoft Graph plumbing shared by the msgraph_users source and the msgraph calendar sink:
signing in with msal (client secret or certificate), one HTTP client per tenant, $batch."""

from __future__ import annotations

import functools
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msal
import requests
from msal.throttled_http_client import NormalizedResponse

from connector.core.config import Config, TenantConfig
from connector.core.errors import AuthenticationFailed, ConfigError
from connector.plumbing.http import (
    IDEMPOTENT_METHODS,
    HttpClient,
    HttpError,
    refused_unprocessed,
    tls_verify,
)
from connector.plumbing.runtime import Runtime

BATCH_LIMIT = 20  # Graph's maximum number of requests in one $batch
# Graph reads dateTimeTimeZone in Windows zone names; Europe/Brussels is not accepted.
WINDOWS_ZONES = {
    "Europe/Brussels": "Romance Standard Time", "Europe/Paris": "Romance Standard Time",
    "Europe/Amsterdam": "W. Europe Standard Time", "Europe/Luxembourg": "W. Europe Standard Time",
    "Europe/Berlin": "W. Europe Standard Time", "Europe/London": "GMT Standard Time", "UTC": "UTC",
}

log = logging.getLogger(__name__)
INDEX = "_index_"  # msal's ExpiringMapping keeps its expiry times under this key of the mapping


class DiscoveryCache:
    """msal's `http_cache` (the sign-in endpoint's discovery answers, e.g. GET
    {authority}/v2.0/.well-known/openid-configuration, which msal keeps for 24 hours, and the
    throttling of refused sign-ins), kept between runs in `state/msal-http-cache.json`, so that a
    nightly run signs in with the token request alone. One mapping per tenant (msal locks each
    application's mapping with a lock of its own), all in one JSON file: {tenant: {key: value,
    "_index_": [heap, {key: [expires_at, created_at]}]}}, each value an HTTP answer as
    {"status_code", "text", "headers"}. msal documents that the cache holds no tokens and no
    personal data; the file is written owner-only all the same, only when msal added to it, and
    one that cannot be read (another version's layout, a torn file) is started afresh."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._tenants: dict[str, dict[str, Any]] = {}
        self._saved = ""
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            self._tenants = {name: self._decoded(mapping) for name, mapping in stored.items()}
            self._saved = self._text()
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self._tenants = {}

    @staticmethod
    def _decoded(mapping: dict[str, Any]) -> dict[str, Any]:
        return {key: value if key == INDEX else NormalizedResponse(_Answer(**value)) for key, value in mapping.items()}

    def mapping(self, tenant: str) -> dict[str, Any]:
        with self._lock:
            return self._tenants.setdefault(tenant, {})

    def _text(self) -> str:
        return json.dumps({name: {key: value if key == INDEX else
                                  {"status_code": value.status_code, "text": value.text, "headers": dict(value.headers)}
                                  for key, value in mapping.items() if key == INDEX or hasattr(value, "status_code")}
                           for name, mapping in sorted(self._tenants.items())}, sort_keys=True)

    def save(self) -> None:
        """Write the file when it changed; a state folder that cannot be written costs a
        discovery request next time, nothing more."""
        with self._lock:
            text = self._text()
            if text == self._saved:
                return
            try:
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                temporary = self.path.with_name(f".{self.path.name}.tmp")
                descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    handle.write(text)
                temporary.replace(self.path)
                self._saved = text
            except OSError as error:
                log.debug("msal's http cache not kept in %s: %s", self.path, error)


@dataclass(frozen=True)
class _Answer:
    """A stored HTTP answer in the shape NormalizedResponse copies from."""
    status_code: int
    text: str
    headers: dict[str, str]


_caches: dict[Path, DiscoveryCache] = {}
_caches_lock = threading.Lock()


def discovery_cache(config: Config) -> DiscoveryCache:
    """The process's DiscoveryCache of this configuration's state folder (beside the SQLite
    store: `[paths] state`, else the configuration's folder, then `state/`)."""
    base = config.path(config.paths.state) if config.paths.state else config.base_dir
    path = base / "state" / "msal-http-cache.json"
    with _caches_lock:
        if path not in _caches:
            _caches[path] = DiscoveryCache(path)
        return _caches[path]


class GraphAuth:
    """Bearer tokens from msal's confidential client; cached in memory for the run (never on
    disk: a token is a secret). The sign-in endpoint's discovery answers are kept between runs
    in `cache` (see DiscoveryCache)."""

    def __init__(self, tenant: TenantConfig, base_dir: Path, cache: DiscoveryCache | None = None) -> None:
        self.tenant = tenant
        self.base_dir = base_dir
        self.cache = cache
        self.scopes = [tenant.graph_url.split("/v1.0")[0].split("/beta")[0].rstrip("/") + "/.default"]
        self._app: msal.ConfidentialClientApplication | None = None
        self._session: requests.Session | None = None
        self._lock = threading.Lock()

    def _credential(self) -> Any:
        if self.tenant.client_secret is not None:
            return self.tenant.client_secret.get_secret_value()
        path = Path(self.tenant.certificate_path or "")
        path = path if path.is_absolute() else self.base_dir / path
        try:
            key = path.read_text(encoding="utf-8")
        except OSError as error:
            raise AuthenticationFailed(f"tenant '{self.tenant.name}': certificate {path} unreadable ({error.strerror})") from None
        return {"private_key": key, "thumbprint": self.tenant.certificate_thumbprint}

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            session = self._session = msal_http_client(self.verify)
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.tenant.client_id,
                    client_credential=self._credential(),
                    authority=f"{self.tenant.authority_host.rstrip('/')}/{self.tenant.tenant_id}",
                    http_client=session,
                    instance_discovery=self.tenant.authority_host == "https://login.microsoftonline.com",
                    http_cache=self.cache.mapping(self.tenant.name) if self.cache is not None else None,
                )
            except (ValueError, requests.RequestException) as error:
                raise AuthenticationFailed(f"tenant '{self.tenant.name}': sign-in endpoint unusable: {type(error).__name__}: {str(error)[:200]}") from None
            if self.cache is not None:
                self.cache.save()  # the discovery answer msal just fetched, for the next run
        return self._app

    @property
    def verify(self) -> bool | str:
        return tls_verify(self.base_dir, {"ca_bundle": self.tenant.ca_bundle})

    def headers(self) -> dict[str, str]:
        with self._lock:
            result = self._application().acquire_token_for_client(scopes=self.scopes)
            if self._session is not None:
                self._session.close()  # a token lasts an hour: no connection to the sign-in endpoint kept open meanwhile
        if "access_token" not in result:
            if self.cache is not None:
                self.cache.save()  # msal remembers a throttled or refused sign-in for a while
            raise AuthenticationFailed(
                f"tenant '{self.tenant.name}': {result.get('error', 'no token')}: {str(result.get('error_description', ''))[:300]}")
        return {"Authorization": f"Bearer {result['access_token']}"}

    def refresh(self) -> bool:
        with self._lock:
            if self._app is not None:
                self._app.remove_tokens_for_client()
        return True


def msal_http_client(verify: bool | str) -> requests.Session:
    """The HTTP client msal signs in through: TLS verified against `verify` (True: the system's
    authorities; a path: that PEM bundle), a timeout on every request."""
    session = requests.Session()
    # Per request, not session.verify: requests lets REQUESTS_CA_BUNDLE override the
    # session's setting, which would silently ignore a configured ca_bundle. msal also
    # sets no timeout of its own, and a hung login endpoint must not hang the night.
    session.request = functools.partial(session.request, verify=verify, timeout=(10, 60))  # type: ignore[method-assign]
    return session


def graph_client(runtime: Runtime, tenant_name: str) -> HttpClient:
    tenant = runtime.config.tenant(tenant_name)
    if tenant is None:
        raise ConfigError([f"no [[tenants]] named '{tenant_name}'"])

    def build() -> HttpClient:
        auth = GraphAuth(tenant, runtime.config.base_dir, discovery_cache(runtime.config))
        return HttpClient(f"msgraph:{tenant.name}", tenant.graph_url, auth, stats=runtime.stats, stop=runtime.should_stop,
                          max_concurrency=tenant.max_concurrency, verify=auth.verify)

    return runtime.client(f"msgraph:{tenant.name}", build)


@dataclass(frozen=True)
class BatchResult:
    status: int
    body: Any
    headers: dict[str, str]
    uncertain: bool = False  # a write answered 5xx: it may have landed


def batch(client: HttpClient, requests_: list[dict[str, Any]], attempts: int = 4, idempotent: bool | None = None) -> list[BatchResult]:
    """Send up to 20 requests as one $batch; items answered 429/503/5xx are sent again (in a
    smaller batch, after the longest Retry-After they gave), the others are returned as they are.
    Results come back in the order of `requests_`.

    The client's rule for writes holds per item: a request that is not repeatable (POST,
    PATCH; unless `idempotent` declares the batch so, as for getSchedule reads) is sent again
    only when Graph refused it unprocessed (429, 503 with Retry-After); after another 5xx it
    comes back `uncertain`. The $batch POST itself is repeatable only when all its items are,
    so a lost answer to a batch of writes raises AnswerLost."""
    if len(requests_) > BATCH_LIMIT:
        raise ValueError(f"a Graph batch holds at most {BATCH_LIMIT} requests")
    if idempotent is None:
        idempotent = all(str(r["method"]).upper() in IDEMPOTENT_METHODS for r in requests_)
    results: dict[str, BatchResult] = {}
    waiting = {str(i): {**r, "id": str(i)} for i, r in enumerate(requests_)}
    for attempt in range(attempts):
        if not waiting:
            break
        body = client.json("POST", "$batch", json={"requests": list(waiting.values())}, idempotent=idempotent)
        retry_after = 0.0
        for answer in body.get("responses", []):
            key = str(answer.get("id"))
            status = int(answer.get("status", 0))
            headers = {str(k): str(v) for k, v in (answer.get("headers") or {}).items()}
            failed = status in (429, 503, 500, 502, 504)
            repeatable = idempotent or refused_unprocessed(status, headers)
            results[key] = BatchResult(status, answer.get("body"), headers, uncertain=failed and not repeatable)
            if failed and repeatable and attempt < attempts - 1:
                retry_after = max(retry_after, float(headers.get("Retry-After", "1") or 1))
            else:
                waiting.pop(key, None)
        missing = [k for k in waiting if k not in results]
        if missing:
            raise HttpError("POST", client.url("$batch"), 200, f"batch answer lacks {len(missing)} of its responses")
        if waiting:
            client.sleep(min(retry_after, client.retry.retry_after_cap))  # in slices that heed a stop
    return [results[str(i)] for i in range(len(requests_))]
