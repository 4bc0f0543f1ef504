"""The leerbewijs as an Open Badges 3.0 credential (`OpenBadgeCredential`), signed as a VC-JWT.

The credential is built from the leerbewijs content fixed at issuance, so it is the same on
every render. The learner is identified by a salted SHA-256 hash of their e-mail address
(OB 3.0 IdentityObject), not by name, unless [signing] learner_name_in_credential is set.
The hours are `creditsEarned` of the AchievementSubject and each exchange day is one
Evidence entry. VC-JWT per OB 3.0 section 8.2: the JWT payload is the credential itself
with `iss`, `jti`, `nbf` (from validFrom) and `sub` (credentialSubject.id), signed EdDSA
(Ed25519). The JOSE header's `kid` is the URL where `keys publish` puts the public JWK
(section 8.2.3: a URI that dereferences to the JWK; then no `jwk` beside it); keys used
without a configuration keep the bare generation as `kid` and the JWK in `jwk`. Ed25519
signatures are deterministic, so the same content and key give the same token.

The learner's `credentialSubject.id` is a `urn:uuid` per learner and issuer (UUIDv5 of the
issuer's URL and the store's person id, itself derived from the source record): the same on
every leerbewijs of that person from that issuer, different per issuer, and not computable
from the e-mail address, which stays in `identifier` as a salted hash only.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import jwt

from connector.core.texts import format_number, text
from connector.leerbewijs.document import coach_or, holder_name
from connector.leerbewijs.issuer import IssuerProfile, PublicKey, SigningKeys, generation_of, public_jwk

CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
TYPES = ["VerifiableCredential", "OpenBadgeCredential"]


def recipient_identity(email: str, salt: str) -> str:
    """OB 3.0 IdentityHash: sha256 over the identifier with the salt appended."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode("utf-8")).hexdigest()


def learner_subject(issuer_url: str, person_id: str) -> str:
    """The learner's credentialSubject.id (and VC-JWT `sub`): `urn:uuid:` + UUIDv5 (RFC 9562)
    over the issuer's URL and the person's id in the store; stable per learner and issuer."""
    name = issuer_url.rstrip("/") + "/learners/" + person_id
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def status_entry(list_url: str, index: int) -> dict[str, str]:
    """`credentialStatus` as a W3C Bitstring Status List v1.0 `BitstringStatusListEntry` (section
    2.1): the index is a string of digits there, and `id` names the entry within the list."""
    return {"id": f"{list_url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
            "statusListIndex": str(index), "statusListCredential": list_url}


def _moment(day: str, zone: ZoneInfo) -> str:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), zone).isoformat()


def build_credential(content: dict[str, Any], profile: IssuerProfile, zone: ZoneInfo, with_name: bool = False) -> dict[str, Any]:
    language = content["language"]
    t = lambda key, **values: text(language, key, **values)  # noqa: E731
    recipient = content.get("recipient") or {  # leerbewijzen issued before credentials existed
        "salt": content["number"], "identity_hash": recipient_identity(holder_name(content), content["number"]),
        "identity_type": "name"}
    identifiers: list[dict[str, Any]] = [{"type": "IdentityObject", "hashed": True, "identityHash": recipient["identity_hash"],
                                          "identityType": recipient.get("identity_type", "emailAddress"), "salt": recipient["salt"]}]
    if with_name:
        identifiers.append({"type": "IdentityObject", "hashed": False, "identityHash": holder_name(content), "identityType": "name"})
    days = content["days"]
    where = {"host": content["host"]["name"], "place": content["place"]}
    number = content["number"]
    credential_id = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{profile.id}/leerbewijs/{number}')}"
    # leerbewijzen issued before subjects had an id: one per recipient hash, so still stable per credential
    subject_id = content.get("subject") or learner_subject(profile.id, recipient["identity_hash"])
    subject = {
        "id": subject_id,
        "type": ["AchievementSubject"],
        "identifier": identifiers,
        "activityStartDate": _moment(days[0]["date"], zone),
        "activityEndDate": _moment(days[-1]["date"], zone),
        "creditsEarned": float(content["total_hours"]),
        "narrative": t(coach_or(content, "ob.narrative"), question=content["question"]),
        "achievement": {
            "id": f"{profile.id}/achievements/switching-talent-learning-exchange",
            "type": ["Achievement"],
            "achievementType": "ext:LearningExchange",
            "name": t("ob.achievement"),
            "description": t("ob.description"),
            "criteria": {"narrative": t("ob.criteria")},
            "humanCode": content["number"],
            "inLanguage": language,
            "creator": {"id": profile.id, "type": ["Profile"], "name": profile.name},
        },
    }
    credential: dict[str, Any] = {
        "@context": CONTEXTS,
        "id": credential_id,
        "type": TYPES,
        "name": f"{t('lb.title')} {content['number']}",
        "issuer": {"id": profile.id, "type": ["Profile"], "name": profile.name, "url": profile.url, "email": profile.email},
        "validFrom": _moment(content["issued_on"], zone),
        "awardedDate": _moment(content["issued_on"], zone),
        "credentialSubject": subject,
        "evidence": [{"type": ["Evidence"], "name": t("ob.evidence", date=day["date"]),
                      "description": t("ob.evidence_text", hours=format_number(language, day["hours"]), **where)} for day in days],
    }
    if content.get("intro_call"):  # stated only when the intro call took place
        # (the credential names no learner: only the call and its date)
        credential["evidence"].insert(0, {"type": ["Evidence"], "name": f"{t('kind.intro_call')} {content['intro_call']}"})
    if content.get("learned"):  # the switcher's own words, stated only with their consent (OB 3.0 Evidence.narrative)
        credential["evidence"].append({"type": ["Evidence"], "name": t("ob.learned"), "narrative": content["learned"]})
    if content.get("replaces"):  # a corrected leerbewijs: the revoked one it replaces
        credential["description"] = t("lb.replaces", number=content["replaces"])
    status = content.get("status")  # absent in leerbewijzen issued before the status list
    if status:
        credential["credentialStatus"] = status_entry(status["list"], int(status["index"]))
    return credential


def sign(credential: dict[str, Any], keys: SigningKeys) -> str:
    """The VC-JWT of `credential` (OB 3.0 section 8.2): the credential as the payload with the
    registered claims iss, jti, nbf and sub (when the subject has an id), EdDSA-signed."""
    claims = {**credential, "iss": credential["issuer"]["id"], "jti": credential["id"],
              "nbf": int(datetime.fromisoformat(credential["validFrom"]).timestamp())}
    subject_id = (credential.get("credentialSubject") or {}).get("id")
    if subject_id:
        claims["sub"] = subject_id
    headers: dict[str, Any] = {"kid": keys.jose_kid, "typ": "JWT"}
    if keys.kid_url is None:  # no published key to point at: the key travels in the header (section 8.2.3: kid or jwk)
        headers["jwk"] = public_jwk(keys.credential_key.public_key())
    return jwt.encode(claims, keys.credential_key, algorithm="EdDSA", headers=headers)


class CredentialInvalid(Exception):
    """A token that is not a valid credential of this issuer; the message says why."""


def verify_token(token: str, keyring: dict[str, PublicKey]) -> tuple[dict[str, Any], PublicKey]:
    """The credential inside a VC-JWT, once its signature checks out against a key of ours.
    The `jwk` in the header is not trusted: only the keyring's key for its `kid` is."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise CredentialInvalid(f"not a JWT ({error})") from None
    key = keyring.get(generation_of(str(header.get("kid"))))
    if key is None:
        raise CredentialInvalid(f"signed with key '{header.get('kid')}', which is not in this issuer's keyring")
    if header.get("alg") != "EdDSA":
        raise CredentialInvalid(f"unexpected algorithm {header.get('alg')}")
    try:
        claims = jwt.decode(token, key.credential_key, algorithms=["EdDSA"], options={"verify_nbf": False, "verify_aud": False})
    except jwt.InvalidSignatureError:
        raise CredentialInvalid("the signature does not match: the credential was altered or signed by someone else") from None
    except jwt.PyJWTError as error:
        raise CredentialInvalid(str(error)) from None
    credential = {k: v for k, v in claims.items() if k not in ("iss", "jti", "nbf", "sub")}
    if claims.get("iss") != credential.get("issuer", {}).get("id") or claims.get("jti") != credential.get("id"):
        raise CredentialInvalid("iss/jti do not match the credential's issuer and id")
    subject_id = (credential.get("credentialSubject") or {}).get("id")
    if "sub" in claims and claims["sub"] != subject_id:
        raise CredentialInvalid("sub does not match credentialSubject.id")
    return credential, key
