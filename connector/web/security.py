"""The web pages' defences, each small and in one place: password hashes, login throttling,
CSRF tokens and the response headers every page carries.

Choices (README "Web pages" says why): passwords are argon2id hashes made by argon2-cffi with
its defaults (RFC 9106's second recommended option); CSRF is the synchroniser-token pattern
of the OWASP CSRF cheat sheet (a random token in the signed session, a hidden field in every
form, compared in constant time); headers follow the OWASP Secure Headers project.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_hasher = PasswordHasher()

# A hash checked for unknown accounts too, so that the time a failed login takes does not
# tell whether the account exists.
_DUMMY_HASH = _hasher.hash("not a password of anyone")

# 'self' only: no inline script or style, no other origin; frames refused (clickjacking);
# forms post only back here.
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    # A personal link's token is in its path: never pass it on to another site.
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
    "cache-control": "no-store",
}


def hash_password(password: str) -> str:
    """The argon2id PHC string ("$argon2id$v=19$m=65536,t=3,p=4$...") of `password`."""
    return _hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches the configured hash; False for a malformed hash or none."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


class Throttle:
    """At most `limit` events per key within `window` seconds (a sliding window in memory:
    one `serve` process, as the README says; a restart forgets)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._events: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        events, cutoff = self._events[key], self.clock() - self.window
        while events and events[0] <= cutoff:
            events.popleft()
        return events

    def blocked(self, *keys: str) -> bool:
        return any(len(self._recent(key)) >= self.limit for key in keys)

    def hit(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(self.clock())


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_valid(session: MutableMapping[str, Any], sent: object) -> bool:
    expected = session.get("csrf")
    return isinstance(expected, str) and isinstance(sent, str) and hmac.compare_digest(expected, sent)


class SecurityHeaders:
    """ASGI middleware: HEADERS on every response, HSTS too when the request came over https."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = scope.get("scheme") == "https"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
                if secure:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


Endpoint = Callable[..., Awaitable[Any]]
