"""What the adapters of one sync share: the configuration, the clock, request counting and
one HTTP client per API target (so tokens, connections and concurrency caps are shared)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connector.core.config import Config
from connector.plumbing.http import (
    FetchedToken,
    HttpClient,
    RequestStats,
    auth_from_options,
    tls_verify,
)


@dataclass
class Runtime:
    config: Config
    now: datetime
    stats: RequestStats = field(default_factory=RequestStats)
    _clients: dict[str, HttpClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # How to read (or make) the issuer's signing keys: given by the engine, which owns them,
    # so that this layer needs nothing of the leerbewijs package. Returns (keys, kid made now).
    load_signing_keys: Callable[[], tuple[Any, str | None]] | None = None
    _signing: Any = None
    created_key: str | None = None  # a key generation made on first use, to tell the user
    # The run's stop request (SIGTERM): every client's waits look at it, so a stop is
    # answered within a second even during a 120 s Retry-After.
    should_stop: Callable[[], bool] = lambda: False

    def signing_keys(self) -> Any:
        """The issuer's current keys (a `connector.leerbewijs.issuer.SigningKeys`), read once
        per run, made on first use."""
        with self._lock:
            if self._signing is None:
                if self.load_signing_keys is None:
                    raise RuntimeError("this run was started without the issuer's signing keys")
                self._signing, self.created_key = self.load_signing_keys()
            return self._signing

    def client(self, key: str, build: Callable[[], HttpClient]) -> HttpClient:
        with self._lock:
            if key not in self._clients:
                self._clients[key] = build()
            return self._clients[key]

    def api_client(self, target: str, options: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> HttpClient:
        """The client of an adapter configured by `url`, credentials (`token`, or `username`
        and `password`) and TLS options (`verify_tls`, `ca_bundle`)."""
        def build() -> HttpClient:
            return HttpClient(target, str(options["url"]), auth_from_options(options), stats=self.stats,
                              verify=tls_verify(self.config.base_dir, options), default_headers=headers, stop=self.should_stop)

        return self.client(f"{target}|{options['url']}", build)

    def token_client(self, target: str, base_url: str, options: Mapping[str, Any],
                     fetch: Callable[[HttpClient], tuple[str, float]], headers: Mapping[str, str] | None = None) -> HttpClient:
        """The client of an API that hands out bearer tokens for credentials (Personio, SAP):
        `fetch` signs in with a plain client on the same server and returns the token and its
        lifetime; the token is fetched again before it expires or after a 401."""
        def build() -> HttpClient:
            verify = tls_verify(self.config.base_dir, options)
            # Asking for a token twice does no harm: the sign-in client may repeat its POSTs.
            sign_in = HttpClient(f"{target}:sign-in", base_url, stats=self.stats, verify=verify, default_headers=headers,
                                 stop=self.should_stop, repeatable=True)
            return HttpClient(target, base_url, FetchedToken(lambda: fetch(sign_in)), stats=self.stats, verify=verify,
                              default_headers=headers, stop=self.should_stop)

        return self.client(f"{target}|{base_url}", build)
