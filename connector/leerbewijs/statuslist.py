"""Revocation as a W3C Bitstring Status List v1.0 (W3C Recommendation, 2025).

Every Open Badges credential carries a `BitstringStatusListEntry` (spec section 2.1) pointing at
one bit of one list: `statusListIndex` is the leerbewijs's position, allocated once when it is
issued (sequentially: 0, 1, 2, ...; section 2.1 allows any allocation, and the list's minimum
size of 131,072 entries already hides which position belongs to whom) and never given again,
also after a store restore (the indices live in `issued-values.json` as well, see
connector/store/witness.py).

The list itself is a `BitstringStatusListCredential` (section 2.2): VC Data Model 2.0, issued by
the ST-partner, signed as a VC-JWT with the same Ed25519 key as the leerbewijzen, its
`encodedList` the GZIP-compressed bitstring as multibase base64url without padding (prefix
"u"). Bit order (section 3.1): index 0 is the left-most, most significant bit of the first byte.
A set bit (1) means revoked.

The connector writes the list beside `keyring.json` in [signing] keys_dir, as
`status-list.jwt` (what verifiers fetch from [signing] status_list_url) and `status-list.json`
(the same credential, readable), atomically and only when the revoked set or the signing key
changed. The keys folder is what a partner publishes.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import jwt

from connector.core.config import Config
from connector.leerbewijs.credential import CredentialInvalid, sign, status_entry, verify_token
from connector.leerbewijs.issuer import IssuerProfile, PublicKey, SigningKeys
from connector.plumbing.files import write_atomically

__all__ = ["status_entry", "status_list_url", "encode_list", "decode_list", "bit_set", "list_credential", "publish", "read_list",
           "status_of", "StatusList", "StatusUnknown", "publish_replacements", "replaced_by", "replacement_in", "replacements_url",
           "REPLACEMENTS"]

LIST_JWT = "status-list.jwt"
LIST_JSON = "status-list.json"
MIN_ENTRIES = 131_072  # section 2.2: at least 16KB of bits, so one entry cannot single out a person
PURPOSE = "revocation"
ENTRY_TYPE = "BitstringStatusListEntry"
LIST_TYPE = "BitstringStatusListCredential"
VC2_CONTEXT = "https://www.w3.org/ns/credentials/v2"  # holds the Bitstring Status List terms since VC 2.0


def status_list_url(config: Config) -> str:
    """[signing] status_list_url, or by default under the partner's website (or mail domain)."""
    return config.signing.status_list_url or f"{config.partner.issuer_url}/leerbewijs/status/1"


def list_size(revoked: Iterable[int]) -> int:
    """Entries in the list: the minimum, or whole multiples of it once indices pass it."""
    highest = max(revoked, default=-1)
    return MIN_ENTRIES * (highest // MIN_ENTRIES + 1)


def encode_list(revoked: Iterable[int], size: int | None = None) -> str:
    """`encodedList` (section 3.1, Generate Algorithm): bits set for `revoked`, GZIP, base64url
    without padding, multibase prefix "u". mtime=0 keeps the same list the same bytes."""
    indices = sorted(set(revoked))
    bits = bytearray((size or list_size(indices)) // 8)
    for index in indices:
        bits[index // 8] |= 0x80 >> (index % 8)  # index 0 is the most significant bit of byte 0
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode_list(encoded: str) -> bytes:
    """The bitstring of an `encodedList` (section 3.2, Expand Algorithm)."""
    if not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url (it must start with 'u')")
    text = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def bit_set(bits: bytes, index: int) -> bool:
    """Section 3.3 (Validate Algorithm), step for the status bit: index 0 is the left-most bit."""
    if index < 0 or index >= len(bits) * 8:
        raise IndexError(f"status index {index} outside the list of {len(bits) * 8} entries (section 3.3: a range error)")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def list_credential(list_url: str, profile: IssuerProfile, revoked: Iterable[int], valid_from: datetime,
                    highest_index: int = -1) -> dict[str, Any]:
    """The `BitstringStatusListCredential` (section 2.2), issued by the ST-partner; long enough
    for every index handed out (`highest_index`), so no verifier meets a range error."""
    revoked = sorted(set(revoked))
    return {
        "@context": [VC2_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", LIST_TYPE],
        "issuer": {"id": profile.id, "type": ["Profile"], "name": profile.name},
        "validFrom": valid_from.isoformat(timespec="seconds"),
        "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList", "statusPurpose": PURPOSE,
                              "encodedList": encode_list(revoked, list_size([*revoked, highest_index]))},
    }


def publish(keys_dir: Path, list_url: str, profile: IssuerProfile, revoked: Iterable[int], highest_index: int, keys: SigningKeys,
            now: datetime) -> bool:
    """Write the signed list beside keyring.json when it says something new (other bits, URL,
    issuer or signing key); True when written. An unchanged list keeps its file and validFrom,
    so a re-run writes nothing."""
    indices = sorted(set(revoked))
    current = _published(keys_dir)
    if current is not None:
        credential, kid = current
        subject = credential.get("credentialSubject", {})
        if (kid == keys.jose_kid and credential.get("id") == list_url and credential.get("issuer", {}).get("id") == profile.id
                and credential.get("issuer", {}).get("name") == profile.name
                and subject.get("encodedList") == encode_list(indices, list_size([*indices, highest_index]))):
            return False
    credential = list_credential(list_url, profile, indices, now, highest_index)
    token = sign(credential, keys)
    # the JWT first: it is what verifiers fetch; the JSON beside it is for people reading along
    write_atomically(keys_dir / LIST_JWT, (token + "\n").encode("ascii"))
    write_atomically(keys_dir / LIST_JSON, (json.dumps(credential, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return True


def _published(keys_dir: Path) -> tuple[dict[str, Any], str] | None:
    path = keys_dir / LIST_JWT
    try:
        token = path.read_text(encoding="ascii").strip()
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (OSError, ValueError, jwt.PyJWTError):
        return None  # missing or unreadable: written anew
    return claims, str(header.get("kid"))


# -- checking ------------------------------------------------------------------------------


class StatusUnknown(Exception):
    """The status could not be determined; the message says why."""


@dataclass(frozen=True)
class StatusList:
    """A status list credential whose signature checked out against the issuer's keyring."""

    url: str
    issuer: str
    bits: bytes

    def revoked(self, index: int) -> bool:
        return bit_set(self.bits, index)


def read_list(token: str, keyring: dict[str, PublicKey]) -> StatusList:
    """A status list VC-JWT, verified (section 3.3 step: the list credential must verify)."""
    try:
        credential, _ = verify_token(token, keyring)
    except CredentialInvalid as error:
        raise StatusUnknown(f"status list: {error}") from None
    subject = credential.get("credentialSubject", {})
    if LIST_TYPE not in credential.get("type", []) or subject.get("type") != "BitstringStatusList":
        raise StatusUnknown("status list: not a BitstringStatusListCredential")
    if subject.get("statusPurpose") != PURPOSE:
        raise StatusUnknown(f"status list: purpose {subject.get('statusPurpose')!r}, not {PURPOSE!r}")
    try:
        bits = decode_list(str(subject.get("encodedList", "")))
    except (ValueError, OSError, EOFError) as error:
        raise StatusUnknown(f"status list: encodedList cannot be decoded ({error})") from None
    if len(bits) * 8 < MIN_ENTRIES:
        raise StatusUnknown(f"status list: {len(bits) * 8} entries, fewer than the {MIN_ENTRIES} the spec requires")
    return StatusList(str(credential.get("id")), str(credential.get("issuer", {}).get("id")), bits)


def status_of(credential: dict[str, Any], status_list: StatusList | None) -> tuple[bool | None, str]:
    """Whether a credential is revoked: (None, why) when that cannot be said."""
    entries = credential.get("credentialStatus")
    entries = entries if isinstance(entries, list) else [entries] if entries else []
    entry = next((e for e in entries if e.get("type") == ENTRY_TYPE and e.get("statusPurpose") == PURPOSE), None)
    if entry is None:
        return None, "no status entry (issued before the status list existed)"
    if status_list is None:
        return None, f"status not checked: no status list at hand (it is published at {entry.get('statusListCredential')})"
    if entry.get("statusListCredential") != status_list.url:
        return None, f"status not checked: the credential points at {entry.get('statusListCredential')}, the list given is {status_list.url}"
    if status_list.issuer != credential.get("issuer", {}).get("id"):
        return None, "status not checked: the list is issued by someone else than the credential"  # section 3.3
    try:
        revoked = status_list.revoked(int(entry["statusListIndex"]))
    except (KeyError, ValueError, IndexError) as error:
        return None, f"status not checked: {error}"
    return revoked, f"revoked (bit {entry['statusListIndex']} of the status list is set)" if revoked else "not revoked"


REPLACEMENTS = "replacements.json"


def publish_replacements(keys_dir: Path, replacements: dict[str, str]) -> bool:
    """`replacements.json` beside the status list: which corrected leerbewijs replaces a revoked
    one, so `verify` can say "revoked, replaced by LB-...". Only numbers; the link itself is also
    signed into the corrected leerbewijs (`replaces`). Written only when it changes."""
    if not replacements:
        return False
    document = {"replaced_by": dict(sorted(replacements.items()))}
    return write_atomically(keys_dir / REPLACEMENTS, (json.dumps(document, indent=1) + "\n").encode("utf-8"))


def replacements_url(list_url: str) -> str:
    """Where `replacements.json` is published: beside the status list, in the same folder."""
    return urljoin(list_url, REPLACEMENTS)


def replaced_by(keys_dir: Path, number: str) -> str | None:
    """The leerbewijs that replaces `number`, as published beside the status list (None: none known)."""
    try:
        return replacement_in((keys_dir / REPLACEMENTS).read_bytes(), number)
    except OSError:
        return None


def replacement_in(data: bytes, number: str) -> str | None:
    """The replacement of `number` in a `replacements.json` document (None: absent or unreadable)."""
    try:
        document = json.loads(data)
    except ValueError:
        return None
    found = (document.get("replaced_by") or {}).get(number) if isinstance(document, dict) else None
    return str(found) if found else None
