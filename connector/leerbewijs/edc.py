"""The leerbewijs as a European Digital Credential for Learning (EDC), sealed as JAdES baseline-B.

An EDC is the European Learning Model (ELM 3.2) on the W3C Verifiable Credentials Data Model 2.0:
the format the Europass wallet imports. For a leerbewijs it says:

    issuer             the ST-partner (Organisation: legal name, Belgian location, website, e-mail)
    credentialSubject  the switcher (Person: full name), who
      hasClaim         took part in a LearningActivity: the exchange, titled by the learning
                       question, its dates (`temporal`), its attended hours as an ISO 8601
                       duration (`workload`, e.g. PT14H30M), directed by the coach (a Person,
                       member of the host organisation; the coach's role is said in a Note),
                       at the host's learning place, specified as "Learning exchange (Switching
                       Talent)" and awarded by the partner
    credentialStatus   the same status-list entry as the Open Badges credential (see below)
    displayParameter   the title and a PNG rendering (ELM requires one per language shown)

Labels are in the switcher's language; fixed ones (title, kind of activity, language names) also in
Dutch, French and English. The credential validates against the published "Europass EDC
credential" JSON Schema (bundled in `schemas/`, see its README for source and licence).

**Revocation.** That schema allows `credentialStatus` only as `{id, type}` with type
`CredentialStatus` (or EBSI's `TrustedCredentialStatus2021`), no further properties. The EDC
therefore carries the Open Badges credential's `BitstringStatusListEntry` by its id,
`<status list URL>#<index>`, typed `CredentialStatus`: the same bit of the same W3C Bitstring
Status List, so revoking the leerbewijs revokes both. `verify_edc` reads list and index from it.

**The seal** (ETSI TS 119 182-1, JAdES baseline B-B): a JWS in the general JSON serialization
with an unencoded payload (RFC 7797 `b64: false`, so the credential stays readable in the file),
signed by the issuer's certificate: alg (ES256/384/512 for EC keys, RS256 for RSA), `x5c` (the
chain, signing certificate first), `x5t#S256`, `kid` (base64 DER IssuerSerial, clause 5.1.4),
`sigT` (claimed signing time, clause 5.2.1) and `crit` naming `b64` and `sigT`. `sigT` is not the
clock: it is the issue day's start (or the certificate's start, if later), and EC signatures are
deterministic (RFC 6979), so the same leerbewijs and certificate give the same bytes on every run.

Production uses the partner's own seal certificate ([signing] seal_certificate: PKCS#12, or PEM
with chain); without it the self-signed PDF certificate of the current key generation seals it,
which Europass shows as not verified (it only accepts seals it can trace to the EU trusted lists).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import textwrap
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from jwt.api_jws import PyJWS
from jwt.exceptions import InvalidSignatureError, PyJWTError
from jwt.utils import der_to_raw_signature

from connector.core.config import Config
from connector.core.errors import ConfigError
from connector.core.texts import format_number, long_date, text
from connector.leerbewijs.document import coach_or, holder_name, is_coach
from connector.leerbewijs.issuer import IssuerProfile, PublicKey, SigningKeys, b64url, unb64url
from connector.plumbing.files import write_atomically
from connector.plumbing.runtime import Runtime

SCHEMA_FILE = Path(__file__).parent / "schemas" / "europass-edc-credential-2.1.0.json"
# The schema's id in the EBSI Trusted Schemas Registry (multibase form), and ELM's SHACL shape
SCHEMA_ID = "https://api-pilot.ebsi.eu/trusted-schemas-registry/v3/schemas/z6CZj2KLNFkFqeDrJ9h27Rgc2RhszhFRHJ5QTJ3W8p6B1"
SHACL_ID = "http://data.europa.eu/snb/model/ap/edc-generic-full"
CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "http://data.europa.eu/snb/model/context/edc-ap"]
TYPES = ["VerifiableCredential", "VerifiableAttestation", "EuropeanDigitalCredential"]
SUFFIX = ".edc.jsonld"
MEDIA_TYPE = "application/ld+json"
PUBLISHED_CHAIN = "seal-certificates.pem"  # beside keyring.json: the partner's seal chain, public
LANGUAGES = ("nl", "fr", "en")
_LANGUAGE_CODE = {"nl": "NLD", "fr": "FRA", "en": "ENG"}  # EU Publications Office authority table "language"
_LANGUAGE_NAME = {"nl": {"nl": "Nederlands", "fr": "néerlandais", "en": "Dutch"},
                  "fr": {"nl": "Frans", "fr": "français", "en": "French"},
                  "en": {"nl": "Engels", "fr": "anglais", "en": "English"}}
BELGIUM = {"id": "http://publications.europa.eu/resource/authority/country/BEL", "type": "Concept",
           "inScheme": {"id": "http://publications.europa.eu/resource/authority/country", "type": "ConceptScheme"},
           "notation": "BEL", "prefLabel": {"nl": "België", "fr": "Belgique", "en": "Belgium"}}
GENERIC_PROFILE = {"id": "http://data.europa.eu/snb/credential/e34929035b", "type": "Concept",
                   "inScheme": {"id": "http://data.europa.eu/snb/credential/25831c2", "type": "ConceptScheme"},
                   "prefLabel": {"en": "Generic"}}
JADES_CRIT = ["b64", "sigT"]


# -- the credential ------------------------------------------------------------------------


def workload(hours: float) -> str:
    """Hours as an ISO 8601 duration (ELM `workload`): 14 -> PT14H, 7.5 -> PT7H30M."""
    minutes = round(float(hours) * 60)
    whole, rest = divmod(minutes, 60)
    return "PT" + (f"{whole}H" if whole else "") + (f"{rest}M" if rest or not whole else "")


def _moment(day: str, zone: ZoneInfo) -> str:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), zone).isoformat()


def _language(code: str) -> dict[str, Any]:
    concept: dict[str, Any] = {
        "id": f"http://publications.europa.eu/resource/authority/language/{_LANGUAGE_CODE.get(code, code.upper())}",
        "type": "Concept", "inScheme": {"id": "http://publications.europa.eu/resource/authority/language", "type": "ConceptScheme"},
        "notation": code}
    if code in _LANGUAGE_NAME:
        concept["prefLabel"] = dict(_LANGUAGE_NAME[code])
    return concept


def _labels(key: str, **values: object) -> dict[str, str]:
    """A fixed label in Dutch, French and English (ELM LangString)."""
    return {language: text(language, key, **values) for language in LANGUAGES}


def _organisation(urn: str, name: str, language: str, **extra: Any) -> dict[str, Any]:
    return {"id": urn, "type": "Organisation", "legalName": {language: name},
            "location": {"id": f"{urn}:location", "type": "Location", "address": {
                "id": f"{urn}:address", "type": "Address", "countryCode": BELGIUM}}, **extra}


def credential_id(profile: IssuerProfile, number: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{profile.id}/leerbewijs/{number}/edc')}"


def build_edc(content: dict[str, Any], profile: IssuerProfile, zone: ZoneInfo) -> dict[str, Any]:
    """The EDC of a leerbewijs, from the content fixed when it was issued (the same every time)."""
    language = content["language"]
    number = content["number"]
    base = f"urn:epass:switching-talent:{uuid.uuid5(uuid.NAMESPACE_URL, f'{profile.id}/leerbewijs/{number}')}"
    days = content["days"]
    issuer = _organisation(f"{base}:issuer", profile.name, language,
                           homepage={"id": f"{base}:issuer:homepage", "type": "WebResource", "contentURL": profile.url},
                           contactPoint={"id": f"{base}:issuer:contact", "type": "ContactPoint",
                                         "emailAddress": {"id": f"mailto:{profile.email}", "type": "Mailbox"}})
    issuer["id"] = profile.id
    host = _organisation(f"{base}:host", content["host"]["name"], language)
    coaches = [{"id": f"{base}:coach:{i}", "type": "Person", "fullName": {language: name}, "memberOf": host}
               for i, name in enumerate(content["coaches"], 1)]
    notes = [{"id": f"{base}:note:coach", "type": "Note",
              "noteLiteral": {language: text(language, "edc.coach_role", coach=", ".join(content["coaches"]) or "–",
                                             host=content["host"]["name"], place=content["place"])}}]
    if content.get("learned"):  # the switcher's own words, stated only with their consent (issue 17)
        notes.append({"id": f"{base}:note:learned", "type": "Note", "noteLiteral": {language: content["learned"]}})
    activity: dict[str, Any] = {
        "id": f"{base}:activity", "type": "LearningActivity",
        "title": {language: content["question"]},
        "description": {language: text(language, coach_or(content, "ob.narrative"), question=content["question"])},
        "temporal": {"id": f"{base}:period", "type": "PeriodOfTime", "startDate": _moment(days[0]["date"], zone),
                     "endDate": _moment(days[-1]["date"], zone)},
        "workload": workload(content["total_hours"]),
        "location": {"id": f"{base}:place", "type": "Location", "description": {language: f"{content['place']}, {content['host']['name']}"},
                     "address": {"id": f"{base}:place:address", "type": "Address", "countryCode": BELGIUM}},
        "additionalNote": notes,
        "awardedBy": {"id": f"{base}:awarding", "type": "AwardingProcess", "awardingBody": [issuer],
                      "awardingDate": _moment(content["issued_on"], zone)},
        "specifiedBy": {"id": f"{profile.id}/achievements/switching-talent-learning-exchange", "type": "LearningActivitySpecification",
                        "title": _labels("ob.achievement"), "description": _labels("lb.subtitle"),
                        "language": _language(language), "volumeOfLearning": workload(content["total_hours"])},
        "identifier": {"id": f"{base}:number", "type": "Identifier", "notation": number, "schemeName": "leerbewijs"},
    }
    if coaches:
        activity["directedBy"] = coaches
    credential: dict[str, Any] = {
        "@context": CONTEXTS,
        "id": credential_id(profile, number),
        "type": TYPES,
        "credentialProfiles": [GENERIC_PROFILE],
        "credentialSchema": [{"id": SCHEMA_ID, "type": "JsonSchema"}, {"id": SHACL_ID, "type": "ShaclValidator2017"}],
        "issuer": issuer,
        "issued": _moment(content["issued_on"], zone),
        "validFrom": _moment(content["issued_on"], zone),
        "credentialSubject": {"id": f"{base}:switcher", "type": "Person", "fullName": {language: holder_name(content)},
                              "hasClaim": activity},
        "displayParameter": {
            "id": f"{base}:display", "type": "DisplayParameter",
            "title": _labels("edc.title", number=number),
            "language": [_language(language)], "primaryLanguage": _language(language),
            "individualDisplay": [{"id": f"{base}:display:{language}", "type": "IndividualDisplay", "language": _language(language),
                                   "displayDetail": [{"id": f"{base}:display:{language}:1", "type": "DisplayDetail", "page": 1,
                                                      "image": _image_object(content, profile, f"{base}:display:{language}:image")}]}],
        },
    }
    status = content.get("status")
    if status:  # the Open Badges entry's id: <list URL>#<index>, in the only shape ELM allows
        credential["credentialStatus"] = {"id": f"{status['list']}#{int(status['index'])}", "type": "CredentialStatus"}
    return credential


def _image_object(content: dict[str, Any], profile: IssuerProfile, urn: str) -> dict[str, Any]:
    return {"id": urn, "type": "MediaObject",
            "contentType": {"id": "http://publications.europa.eu/resource/authority/file-type/PNG", "type": "Concept",
                            "inScheme": {"id": "http://publications.europa.eu/resource/authority/file-type", "type": "ConceptScheme"},
                            "notation": "file-type", "prefLabel": {"en": "PNG"}},
            "contentEncoding": {"id": "http://data.europa.eu/snb/encoding/6146cde7dd", "type": "Concept",
                                "inScheme": {"id": "http://data.europa.eu/snb/encoding/25831c2", "type": "ConceptScheme"},
                                "prefLabel": {"en": "base64"}},
            "content": base64.b64encode(render_png(content, profile)).decode("ascii")}


def render_png(content: dict[str, Any], profile: IssuerProfile) -> bytes:
    """What a wallet shows of the credential (ELM DisplayDetail): a plain card, the same bytes for
    the same content. Pillow comes with ReportLab."""
    from PIL import Image, ImageDraw, ImageFont

    language = content["language"]
    t = lambda key, **values: text(language, key, **values)  # noqa: E731
    image = Image.new("RGB", (1000, 460), "white")
    draw = ImageDraw.Draw(image)
    import reportlab

    fonts = Path(reportlab.__file__).parent / "fonts"  # Bitstream Vera, shipped with ReportLab: Latin-1 and more
    big, normal, small = (ImageFont.truetype(str(fonts / name), size) for name, size in (("VeraBd.ttf", 38), ("Vera.ttf", 21), ("Vera.ttf", 17)))
    draw_text = draw.text

    def write(xy: tuple[int, int], value: str, **style: Any) -> None:
        draw_text(xy, "".join(c if c in _VERA else _plain(c) for c in value), **style)

    draw.text = write  # type: ignore[method-assign]
    draw.rectangle((0, 0, 1000, 12), fill="#1f5f8b")
    y = 36
    draw.text((48, y), profile.name, font=normal, fill="#1f5f8b")
    y += 40
    draw.text((48, y), f"{t('lb.title')} {content['number']}", font=big, fill="black")
    y += 64
    for line in textwrap.wrap(f"“{content['question']}”", 70)[:3]:
        draw.text((48, y), line, font=normal, fill="black")
        y += 30
    y += 14
    first, last = (date.fromisoformat(content["days"][i]["date"]) for i in (0, -1))
    when = long_date(language, first) + ("" if first == last else f" – {long_date(language, last)}")
    rows = [(t("label.coach") if is_coach(content) else t("label.switcher"), holder_name(content)), (t("label.host"), content["host"]["name"]),
            (t("label.place"), content["place"]), (t("label.coach"), ", ".join(content["coaches"]) or "–"),
            (t("lb.date"), when), (t("lb.total"), f"{format_number(language, content['total_hours'])} {t('lb.hours').lower()}")]
    for label, value in rows:
        draw.text((48, y), label, font=small, fill="#5a6470")
        draw.text((300, y), textwrap.shorten(value, 60), font=small, fill="black")
        y += 32
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


# What Vera draws: Latin-1, and the typographic signs of Windows-1252; other letters lose their accent
_VERA = {chr(c) for c in range(0x20, 0x100)} | set("–—‘’“”•…€")


def _plain(char: str) -> str:
    import unicodedata

    return {"ı": "i", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D"}.get(char) or unicodedata.normalize("NFKD", char).encode(
        "ascii", "ignore").decode() or "?"


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return dict(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def schema_errors(credential: dict[str, Any]) -> list[str]:
    """Where a credential departs from the published Europass EDC schema (empty: it validates)."""
    validator = jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
            for error in sorted(validator.iter_errors(credential), key=lambda e: list(e.absolute_path))]


# -- the seal --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    """The key and certificate chain (signing certificate first) that seal the EDCs."""

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...]

    @property
    def algorithm(self) -> str:
        if isinstance(self.key, rsa.RSAPrivateKey):
            return "RS256"
        return {256: "ES256", 384: "ES384", 521: "ES512"}[self.key.curve.key_size]


def load_seal(path: Path, password: str | None = None, key_pem: str | None = None) -> Seal:
    """The partner's seal: a PKCS#12 file (.p12/.pfx) or PEM holding the certificate chain (and the
    private key, unless given apart as `key_pem`)."""
    secret = password.encode() if password else None
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError([f"[signing] seal_certificate {path}: cannot be read ({error.strerror})"]) from None
    try:
        if b"-----BEGIN" not in data:
            key, certificate, others = pkcs12.load_key_and_certificates(data, secret)
            if key is None or certificate is None:
                raise ValueError("the PKCS#12 file holds no private key with its certificate")
            chain = [certificate, *others]
        else:
            chain = x509.load_pem_x509_certificates(data)
            block = re.search(rb"-----BEGIN (?:ENCRYPTED |RSA |EC )?PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----", data, re.S)
            source = key_pem.encode() if key_pem else block.group(0) if block else None
            if source is None:
                raise ValueError("no private key: put it in the PEM file or give [signing] seal_key")
            key = serialization.load_pem_private_key(source, password=secret)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise ConfigError([f"[signing] seal_certificate {path}: {error}"]) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ConfigError([f"[signing] seal_certificate {path}: the key is neither RSA nor EC (JAdES seals use those)"])
    mine = [c for c in chain if c.public_key().public_numbers() == key.public_key().public_numbers()]
    if not mine:
        raise ConfigError([f"[signing] seal_certificate {path}: no certificate in it belongs to the private key"])
    return Seal(key, (mine[0], *[c for c in chain if c is not mine[0]]))


def seal_of(config: Config, keys: SigningKeys) -> Seal:
    """[signing] seal_certificate when given (its chain is published beside keyring.json, so
    `leerbewijs verify --keyring` knows it); else the key generation's self-signed PDF certificate."""
    signing = config.signing
    if not signing.seal_certificate:
        return Seal(keys.pdf_key, (keys.certificate,))
    password = signing.seal_password.get_secret_value() if signing.seal_password else None
    key_pem = signing.seal_key.get_secret_value() if signing.seal_key else None
    seal = load_seal(config.path(signing.seal_certificate), password, key_pem)
    publish_chain(config.path(signing.keys_dir), seal)
    return seal


def check_seal(config: Config) -> None:
    """[signing] seal_certificate, when given, opens with its password or key (ConfigError
    naming what is wrong); nothing is written (`check`)."""
    signing = config.signing
    if signing.seal_certificate:
        password = signing.seal_password.get_secret_value() if signing.seal_password else None
        key_pem = signing.seal_key.get_secret_value() if signing.seal_key else None
        load_seal(config.path(signing.seal_certificate), password, key_pem)


def publish_chain(keys_dir: Path, seal: Seal) -> bool:
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in seal.chain)
    path = keys_dir / PUBLISHED_CHAIN
    if path.exists() and path.read_bytes() == pem:
        return False  # a re-run writes nothing
    write_atomically(path, pem)
    return True


def published_seals(keys_dir: Path) -> tuple[x509.Certificate, ...]:
    """The seal certificates published beside a keyring (none when the PDF certificates seal)."""
    try:
        return tuple(x509.load_pem_x509_certificates((keys_dir / PUBLISHED_CHAIN).read_bytes()))
    except (OSError, ValueError):
        return ()


class _DeterministicEC(ECAlgorithm):
    """ES256/384/512 with RFC 6979 nonces: the same credential gives the same seal."""

    def sign(self, msg: bytes, key: Any) -> bytes:
        try:
            der = key.sign(msg, ec.ECDSA(self.hash_alg(), deterministic_signing=True))
        except UnsupportedAlgorithm:  # an OpenSSL without RFC 6979: a valid seal still, only not byte-stable
            der = key.sign(msg, ec.ECDSA(self.hash_alg()))
        return der_to_raw_signature(der, key.curve)


class _JAdES(PyJWS):
    _supported_crit = {"b64", "sigT"}  # understood and checked by verify_edc


def _jws() -> _JAdES:
    jws = _JAdES()
    for name, algorithm in (("ES256", _DeterministicEC(ECAlgorithm.SHA256)), ("ES384", _DeterministicEC(ECAlgorithm.SHA384)),
                            ("ES512", _DeterministicEC(ECAlgorithm.SHA512)), ("RS256", RSAAlgorithm(RSAAlgorithm.SHA256))):
        jws.unregister_algorithm(name)
        jws.register_algorithm(name, algorithm)
    return jws


def issuer_serial(certificate: x509.Certificate) -> str:
    """`kid` per TS 119 182-1 clause 5.1.4: base64 of the DER IssuerSerial (RFC 5035) of the signing certificate."""
    parsed = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    value = asn1_cms.IssuerSerial({"issuer": [asn1_x509.GeneralName(name="directory_name", value=parsed.issuer)],
                                   "serial": parsed.serial_number})
    return base64.b64encode(value.dump()).decode("ascii")


def signing_time(credential: dict[str, Any], certificate: x509.Certificate) -> str:
    """`sigT`: the start of the issue day, or of the certificate's validity if that is later; never the clock."""
    issued = datetime.fromisoformat(credential["validFrom"]).astimezone(UTC)
    return max(issued, certificate.not_valid_before_utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def seal(credential: dict[str, Any], sealer: Seal) -> bytes:
    """The sealed EDC file: JWS JSON serialization, unencoded payload, JAdES baseline-B header."""
    payload = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    leaf = sealer.chain[0]
    der = leaf.public_bytes(serialization.Encoding.DER)
    headers = {"typ": "jose+json", "cty": "vc+ld+json", "kid": issuer_serial(leaf),
               "x5t#S256": b64url(hashlib.sha256(der).digest()),
               "x5c": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in sealer.chain],
               "sigT": signing_time(credential, leaf), "b64": False, "crit": JADES_CRIT}
    token = _jws().encode(payload, sealer.key, algorithm=sealer.algorithm, headers=headers, is_payload_detached=True)
    protected, _, signature = token.split(".")
    document = {"payload": payload.decode("utf-8"), "signatures": [{"protected": protected, "signature": signature}]}
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def sealed_edc(content: dict[str, Any], profile: IssuerProfile, zone: ZoneInfo, sealer: Seal) -> bytes:
    return seal(build_edc(content, profile, zone), sealer)


def file_name(number: str) -> str:
    return f"{number}{SUFFIX}"


def leerbewijs_edc(runtime: Runtime, content: dict[str, Any]) -> bytes | None:
    """The sealed EDC every sink files beside the PDF ([signing] edc = false: none)."""
    config = runtime.config
    if not config.signing.edc:
        return None
    return sealed_edc(content, IssuerProfile.of(config), config.partner.zone, seal_of(config, runtime.signing_keys()))


def europass_note(content: dict[str, Any], profile_name: str) -> str:
    """The short text on importing the EDC into Europass, in the switcher's language."""
    return text(content["language"], "edc.europass", file=file_name(content["number"]), partner=profile_name)


# -- verifying ---------------------------------------------------------------------------------


class EdcInvalid(Exception):
    """Not a sealed EDC that can be checked; the message says why."""


@dataclass(frozen=True)
class Opened:
    credential: dict[str, Any]
    header: dict[str, Any]
    chain: tuple[x509.Certificate, ...]
    header_problems: tuple[str, ...]


def looks_like_edc(data: bytes) -> bool:
    head = data.lstrip()[:1]
    if head != b"{":
        return False
    try:
        document = json.loads(data)
    except ValueError:
        return False
    return isinstance(document, dict) and "payload" in document and ("signatures" in document or "protected" in document)


def jades_header_problems(header: dict[str, Any], chain: tuple[x509.Certificate, ...]) -> list[str]:
    """The protected header against ETSI TS 119 182-1 (JAdES baseline B-B) and RFC 7797."""
    problems = []
    if header.get("alg") not in ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
        problems.append(f"alg {header.get('alg')!r} is not an algorithm for an electronic seal")
    crit = header.get("crit")
    if not isinstance(crit, list):
        problems.append("crit is missing (clause 5.1.8: it names the JAdES header parameters present)")
        crit = []
    sig_t = header.get("sigT")
    if not isinstance(sig_t, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", sig_t):
        problems.append("sigT (claimed signing time, clause 5.2.1) is missing or not YYYY-MM-DDThh:mm:ssZ")
    elif "sigT" not in crit:
        problems.append("sigT is not listed in crit")
    if "iat" in header:
        problems.append("iat is present (a JAdES signature states its time in sigT only)")
    if header.get("b64") is False and "b64" not in crit:
        problems.append("b64 is false but not listed in crit (RFC 7797 section 6)")
    if not chain:
        problems.append("no x5c: the signing certificate is not in the seal")
        return problems
    leaf = chain[0].public_bytes(serialization.Encoding.DER)
    if "x5t#S256" in header and header["x5t#S256"] != b64url(hashlib.sha256(leaf).digest()):
        problems.append("x5t#S256 does not match the first certificate of x5c (clause 5.1.7)")
    if "kid" in header and header["kid"] != issuer_serial(chain[0]):
        problems.append("kid is not the IssuerSerial of the signing certificate (clause 5.1.4)")
    if header.get("typ") not in (None, "jose+json"):
        problems.append(f"typ {header.get('typ')!r}: a JSON-serialized JAdES signature has typ jose+json")
    return problems


def open_edc(data: bytes) -> Opened:
    """Check the seal's signature against the certificate in it (trust is the caller's question)."""
    try:
        document = json.loads(data)
        entry = (document.get("signatures") or [document])[0]
        protected, signature, payload = str(entry["protected"]), str(entry["signature"]), document["payload"]
        header = json.loads(unb64url(protected))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as error:
        raise EdcInvalid(f"not a JWS in JSON serialization ({type(error).__name__}: {error})") from None
    try:
        chain = tuple(x509.load_der_x509_certificate(base64.b64decode(c)) for c in header.get("x5c") or [])
    except ValueError as error:
        raise EdcInvalid(f"x5c holds no readable certificate ({error})") from None
    if not chain:
        raise EdcInvalid("the seal carries no certificate (x5c)")
    unencoded = header.get("b64") is False
    payload_bytes = payload.encode("utf-8") if unencoded else unb64url(payload)
    token = f"{protected}..{signature}"
    try:
        _jws().decode(token, chain[0].public_key(), algorithms=[str(header.get("alg"))], detached_payload=payload_bytes)
    except InvalidSignatureError:
        raise EdcInvalid("the seal does not match: the credential was altered after sealing") from None
    except (PyJWTError, InvalidSignature, ValueError, TypeError) as error:
        raise EdcInvalid(f"the seal cannot be checked ({error})") from None
    try:
        credential = json.loads(payload_bytes)
    except ValueError as error:
        raise EdcInvalid(f"the sealed payload is not JSON ({error})") from None
    return Opened(credential, header, chain, tuple(jades_header_problems(header, chain)))


def status_entry_of(credential: dict[str, Any]) -> dict[str, str] | None:
    """The Bitstring Status List entry behind an EDC's `credentialStatus` id (<list URL>#<index>)."""
    entry = credential.get("credentialStatus")
    entry = entry[0] if isinstance(entry, list) and entry else entry
    if not isinstance(entry, dict) or "#" not in str(entry.get("id", "")):
        return None
    url, _, index = str(entry["id"]).rpartition("#")
    if not index.isdigit():
        return None
    return {"id": entry["id"], "type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": index,
            "statusListCredential": url}


def trusted(chain: tuple[x509.Certificate, ...], keyring: dict[str, PublicKey], seals: tuple[x509.Certificate, ...]) -> str | None:
    """Whose seal it is, when its certificate is the issuer's: a key generation's PDF certificate
    in the keyring, or a published seal certificate; None otherwise."""
    leaf = chain[0]
    for kid, key in keyring.items():
        if key.certificate == leaf:
            return f"key {kid}"
    return "the published seal certificate" if leaf in seals else None


def number_of(credential: dict[str, Any]) -> str | None:
    """The leerbewijs number an EDC carries (its learning activity's identifier notation)."""
    subject = credential.get("credentialSubject") or {}
    claim = subject.get("hasClaim") or {}
    claim = claim[0] if isinstance(claim, list) and claim else claim
    identifier = claim.get("identifier") if isinstance(claim, dict) else None
    identifier = identifier[0] if isinstance(identifier, list) and identifier else identifier
    notation = identifier.get("notation") if isinstance(identifier, dict) else None
    return str(notation) if notation else None


def learner_view(credential: dict[str, Any]) -> dict[str, str]:
    subject = credential.get("credentialSubject") or {}
    claim = subject.get("hasClaim") or {}
    claim = claim[0] if isinstance(claim, list) and claim else claim
    period = claim.get("temporal") or {}
    period = period[0] if isinstance(period, list) and period else period
    first = lambda value: next(iter(value.values()), "?") if isinstance(value, dict) and value else "?"  # noqa: E731
    issuer = credential.get("issuer") or {}
    return {"issuer": f"{first(issuer.get('legalName'))} ({issuer.get('id')})",
            "learner": first(subject.get("fullName")),
            "activity": first(claim.get("title")),
            "workload": str(claim.get("workload")),
            "dates": f"{str(period.get('startDate', ''))[:10]} to {str(period.get('endDate', ''))[:10]}",
            "issued": str(credential.get("issued", ""))[:10]}
