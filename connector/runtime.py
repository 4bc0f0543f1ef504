"""What the adapters of one sync share: the configuration, the clock, request counting and
one HTTP client per API target (so tokens, connections and concurrency caps are shared)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from connector.config import Config
from connector.http import HttpClient, RequestStats


@dataclass
class Runtime:
    config: Config
    now: datetime
    stats: RequestStats = field(default_factory=RequestStats)
    _clients: dict[str, HttpClient] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self, key: str, build: Callable[[], HttpClient]) -> HttpClient:
        with self._lock:
            if key not in self._clients:
                self._clients[key] = build()
            return self._clients[key]
