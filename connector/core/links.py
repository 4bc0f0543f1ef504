"""Personal links: a signed, expiring token bound to one person, one exchange and one purpose.

Terms:
    link key     a secret of at least 32 bytes from the secrets file (`[web] link_keys`), never
                 in the store or a log. Several may be configured: the first (newest) signs,
                 every one verifies, so a key is rotated by putting a new one first and dropping
                 the old one once the links it signed have expired.
    purpose      what the link opens: "attendance" (the coach confirms a day), "evaluation"
                 (the role's questions), "reflection" (the switcher's look back on a day),
                 "action_plan" (the learning action plan after the intro call, which the
                 switcher and the coaches of one exchange write together)
    subject      the person's store id (a switcher, a coach, or the switcher's line manager
                 answering for the sending employer), or "hr:<organisation id>" for a sending employer's HR
                 address, or "host:<organisation id>" for a host's contact address (neither
                 is a person in the store)
    role         switcher | coach | employer | host: which questions the evaluation asks

The token is a JWS (RFC 7515) with HS256, made and read by PyJWT; its header names the key by
`kid` (the first 8 hex digits of the key's SHA-256), so verification need not try every key.
The claims are `sub`, `exc` (exchange code), `pur`, `rol`, `ses` (a session code or "") and
`exp` (RFC 7519, seconds since the epoch). There is no `iat`: the same link for the same
moment is the same string on every run, so a re-sync with no changes sends nothing new.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

PURPOSES = ("attendance", "evaluation", "reflection", "action_plan")
ROLES = ("switcher", "coach", "employer", "host")
MIN_KEY_BYTES = 32
ALGORITHM = "HS256"


class LinkError(ValueError):
    """A link that does not open: `reason` is one of "expired", "invalid" (forged, altered,
    signed with a key no longer configured, or not a token at all)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    """What one token grants: this person, this exchange, this purpose, until `expires` (UTC)."""

    subject: str
    exchange: str
    purpose: str
    role: str
    expires: datetime
    session: str = ""


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def sign_link(keys: list[str], link: Link) -> str:
    """The token for `link`, signed with the first (newest) of `keys`.

    Raises ValueError for an unknown purpose or role, or when no key is given."""
    if not keys:
        raise ValueError("no link key configured ([web] link_keys)")
    if link.purpose not in PURPOSES or link.role not in ROLES:
        raise ValueError(f"unknown purpose '{link.purpose}' or role '{link.role}'")
    claims = {"sub": link.subject, "exc": link.exchange, "pur": link.purpose, "rol": link.role, "ses": link.session,
              "exp": int(link.expires.timestamp())}
    return jwt.encode(claims, keys[0], algorithm=ALGORITHM, headers={"kid": key_id(keys[0])})


def read_link(keys: list[str], token: str, now: datetime | None = None) -> Link:
    """The link a token grants, if one of `keys` signed it and it has not expired at `now`.

    Raises LinkError("expired") or LinkError("invalid"); never says which part was wrong
    beyond that, so a forger learns nothing."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise LinkError("invalid") from None
    key = next((k for k in keys if key_id(k) == header.get("kid")), None)
    if key is None or header.get("alg") != ALGORITHM:
        raise LinkError("invalid")
    moment = now or datetime.now(UTC)
    try:
        # `exp` is checked here against `moment` rather than by PyJWT against the wall clock,
        # so tests and `--as-of` runs see the same answer.
        claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"verify_exp": False,
                                                                          "require": ["sub", "exc", "pur", "rol", "exp"]})
    except jwt.PyJWTError:
        raise LinkError("invalid") from None
    if claims["pur"] not in PURPOSES or claims["rol"] not in ROLES or not isinstance(claims["exp"], int):
        raise LinkError("invalid")
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    if expires <= moment:
        raise LinkError("expired")
    return Link(str(claims["sub"]), str(claims["exc"]), claims["pur"], claims["rol"], expires, str(claims.get("ses") or ""))
