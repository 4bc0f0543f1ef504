"""Faults after the write landed, for any loopback fake (Graph, BambooHR, Personio...).

`lose_answers(fake, "POST", r"/\\$batch$", times=1)` lets the fake act on the next matching
request (the event is created, the record added) and then loses its answer: the connection
closes without a byte, as after a reset, a proxy's idle cut or a read timeout. With
`instead=...` the client gets that answer in place of the real one (a gateway's 502).
`refuse(fake, "POST", path, answer)` answers without acting (a 429 with Retry-After).
It wraps the fake's entry point (`handle` of FakeGraph, `dispatch` of LoopbackAPI), so no
fake needs to know about it.

`forget_transaction_ids(graph)` makes the Graph stand-in behave like a server that does not
deduplicate `transactionId`, so only our own look-before-create keeps events single.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit


class AnswerLost(ConnectionAbortedError):
    """Raised inside the fake's request handler: the server closes the connection unanswered."""


def lose_answers(fake: Any, method: str, path: str, times: int = 1, instead: Callable[[], Any] | None = None) -> list[str]:
    """After the fake handled each of the next `times` requests of `method` whose path matches
    `path` (a regular expression), lose the answer (or give `instead()`). Returns the list of
    paths whose answers were lost, filled as it happens."""
    def after(handled: Callable[[], Any], where: str) -> Any:
        handled()
        if instead is not None:
            return instead()
        raise AnswerLost(f"answer to {method} {where} lost after it was carried out (test fault)")

    return _intercept(fake, method, path, times, after)


def refuse(fake: Any, method: str, path: str, answer: Callable[[], Any], times: int = 1) -> list[str]:
    """Answer the next `times` matching requests with `answer()` without acting on them (a
    429 or 503 with Retry-After, as a throttled server does)."""
    return _intercept(fake, method, path, times, lambda handled, where: answer())


def _intercept(fake: Any, method: str, path: str, times: int, act: Callable[[Callable[[], Any], str], Any]) -> list[str]:
    entry = "dispatch" if hasattr(fake, "dispatch") else "handle"
    real = getattr(fake, entry)
    pattern = re.compile(path)
    hits: list[str] = []
    left = [times]
    lock = threading.Lock()

    def intercepted(request_method: str, target: str, *rest: Any) -> Any:
        where = urlsplit(target).path
        with lock:
            hit = request_method == method and pattern.search(where) is not None and left[0] > 0
            if hit:
                left[0] -= 1
                hits.append(where)
        if not hit:
            return real(request_method, target, *rest)
        return act(lambda: real(request_method, target, *rest), where)

    setattr(fake, entry, intercepted)
    quiet_server_errors(fake)
    return hits


def quiet_server_errors(fake: Any) -> None:
    """The fakes' servers print a traceback for every lost answer; these are intended."""
    server = getattr(fake, "server", None) or getattr(fake, "_server", None)
    if server is not None:
        server.handle_error = lambda request, client_address: None


def forget_transaction_ids(graph: Any) -> None:
    """Graph deduplicates a repeated transactionId; many servers have nothing like it."""

    class Forgetful(dict):  # type: ignore[type-arg]
        def __contains__(self, key: object) -> bool:
            return False

    graph.transactions = Forgetful()
