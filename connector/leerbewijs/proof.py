"""A leerbewijs anyone can verify: a PAdES-signed PDF that carries its Open Badges credential.

Signing: the PDF gets a QR code with a signed statement (`ST1:<number>:<fingerprint>:<kid>:
<Ed25519 signature>`, short enough to scan from paper), a check code, the credential as
embedded files (`credential.json`, `credential.jwt`) and a PAdES signature (pyHanko) by the
issuer's certificate over all of it.

Verifying (`st-connector leerbewijs verify`) takes a PDF, a VC-JWT or the QR text and says
what holds: whose signature, whether the file changed after signing, and what the
credential states (learner, hours, dates). Only keys in the issuer's keyring count. With a
status list at hand (a file, or fetched only when asked) it also says whether the leerbewijs
was revoked (W3C Bitstring Status List v1.0 section 3.3).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import embed
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from connector.leerbewijs import archive
from connector.leerbewijs import edc
from connector.leerbewijs.credential import CredentialInvalid, build_credential, sign, verify_token
from connector.leerbewijs.document import Check, Tag, render_pdf
from connector.leerbewijs.issuer import IssuerProfile, PublicKey, SigningKeys, b64url, unb64url
from connector.leerbewijs.statuslist import (StatusList, StatusUnknown, read_list, replaced_by, replacement_in, replacements_url,
                                             status_of)
from connector.plumbing.runtime import Runtime

QR_PREFIX = "ST1"
SIGNATURE_FIELD = "Leerbewijs"


def _statement(number: str, digest: str) -> bytes:
    return f"{QR_PREFIX}:{number}:{digest}".encode()


def check_code(token: str) -> str:
    letters = base64.b32encode(hashlib.sha256(token.encode()).digest()).decode()[:12]
    return "-".join(letters[i:i + 4] for i in range(0, 12, 4))


def check_for(content: dict[str, Any], digest: str, keys: SigningKeys, token: str) -> Check:
    signature = keys.credential_key.sign(_statement(content["number"], digest))
    return Check(qr=f"{QR_PREFIX}:{content['number']}:{digest}:{keys.kid}:{b64url(signature)}", code=check_code(token))


def signed_pdf(content: dict[str, Any], digest: str, keys: SigningKeys, profile: IssuerProfile, zone: ZoneInfo,
               with_name: bool = False, tsa_url: str | None = None) -> bytes:
    """The signed leerbewijs (PAdES B-B; B-T with an RFC 3161 timestamp from the time-stamping
    authority at `tsa_url`). Raises pyHanko's SigningError or a requests exception when the
    authority does not answer with a timestamp: a leerbewijs is not issued without the trusted
    time it was configured to have."""
    credential = build_credential(content, profile, zone, with_name)
    token = sign(credential, keys)
    tags: list[Tag] = []
    pdf = render_pdf(content, digest, check_for(content, digest, keys, token), tags)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    archive.prepare(writer)  # PDF/A-3b: XMP identification, output intent
    archive.tag(writer, tags)  # the structure tree, read in order by screen readers; signed with the rest
    for name, data, mime in (("credential.json", json.dumps(credential, indent=2, ensure_ascii=False).encode(), "application/json"),
                             ("credential.jwt", token.encode(), "application/jwt")):
        embedded = embed.EmbeddedFileObject.from_file_data(writer, data=data, mime_type=mime)
        embed.embed_file(writer, embed.FileSpec(file_spec_string=name, file_name=name, embedded_data=embedded,
                                                description="Open Badges 3.0 credential of this leerbewijs"))
        archive.associate(writer)  # /AFRelationship /Source, as PDF/A-3 (PDF 1.7) has it
    certificate = asn1_x509.Certificate.load(keys.certificate.public_bytes(serialization.Encoding.DER))
    private = asn1_keys.PrivateKeyInfo.load(keys.pdf_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    signer = signers.SimpleSigner(signing_cert=certificate, signing_key=private,
                                  cert_registry=SimpleCertificateStore.from_certs([certificate]))
    meta = signers.PdfSignatureMetadata(field_name=SIGNATURE_FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
                                        reason=f"Leerbewijs {content['number']}", name=profile.name, contact_info=profile.email)
    timestamper = RequestsHTTPTimeStamper(tsa_url, timeout=30) if tsa_url else None
    return bytes(archive.Pdf17Signer(meta, signer=signer, timestamper=timestamper).sign_pdf(writer).getvalue())  # PDF 1.7


def leerbewijs_pdf(runtime: Runtime, content: dict[str, Any], digest: str) -> bytes:
    """The signed PDF every sink files, with this run's keys and the configured issuer."""
    config = runtime.config
    return signed_pdf(content, digest, runtime.signing_keys(), IssuerProfile.of(config), config.partner.zone,
                      config.signing.learner_name_in_credential, config.signing.tsa_url)


# -- verification -------------------------------------------------------------------------


@dataclass
class Verdict:
    """What a verification found. `ok` only when every check held."""

    source: str
    checks: list[tuple[bool, str]] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    credential: dict[str, Any] | None = None  # the credential whose signature checked out, if any

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for passed, _ in self.checks)

    def check(self, passed: bool, message: str) -> bool:
        self.checks.append((passed, message))
        return passed

    def lines(self) -> list[str]:
        out = [f"{self.source}: {'VALID' if self.ok else 'NOT VALID'}"]
        out += [f"  {'ok ' if passed else 'BAD'} {message}" for passed, message in self.checks]
        out += [f"  {name}: {value}" for name, value in self.facts.items()]
        return out


class StatusSource:
    """Where `verify` finds the status list: a file (status-list.jwt), or the credential's
    `statusListCredential` URL, fetched only when `fetch` is set (no network by default).
    Each list is read and its signature checked once."""

    def __init__(self, keyring: dict[str, PublicKey], file: Path | None = None, fetch: bool = False) -> None:
        self.keyring = keyring
        self.file = file
        self.fetch = fetch
        self._lists: dict[str, StatusList | StatusUnknown] = {}

    def replacement(self, number: str, list_url: str) -> str | None:
        """The corrected leerbewijs that replaces a revoked one, from `replacements.json` beside
        the status list (the issuer publishes both): beside the file, or fetched beside `list_url`
        when fetching is allowed. None when none is known or it cannot be had."""
        if self.file is not None:
            return replaced_by(self.file.parent, number)
        if not self.fetch:
            return None
        import requests

        try:
            response = requests.get(replacements_url(list_url), timeout=20, headers={"Accept": "application/json"})
        except requests.RequestException:
            return None
        return replacement_in(response.content, number) if response.status_code == 200 else None

    def list_for(self, url: str) -> StatusList | None:
        """The verified list for `url`; None when none is at hand; StatusUnknown when unusable."""
        key = str(self.file) if self.file is not None else url
        if self.file is None and not self.fetch:
            return None
        if key not in self._lists:
            try:
                self._lists[key] = read_list(self._token(url), self.keyring)
            except StatusUnknown as error:
                self._lists[key] = error
        found = self._lists[key]
        if isinstance(found, StatusUnknown):
            raise found
        return found

    def _token(self, url: str) -> str:
        if self.file is not None:
            try:
                return self.file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as error:
                raise StatusUnknown(f"status list {self.file}: cannot be read ({error})") from None
        import requests

        try:
            response = requests.get(url, timeout=20, headers={"Accept": "application/vc+jwt, application/jwt, */*"})
            response.raise_for_status()
        except requests.RequestException as error:
            raise StatusUnknown(f"status list {url}: cannot be fetched ({error})") from None
        return response.text.strip()


def verify(target: str, keyring: dict[str, PublicKey], status: StatusSource | None = None,
           seals: tuple[x509.Certificate, ...] = ()) -> Verdict:
    """A path to a PDF, a sealed EDC or a file holding a VC-JWT, or the QR text itself. `seals`:
    the partner's published seal certificates, trusted for EDCs besides the keyring's."""
    if status is not None:
        return _with_status(verify(target, keyring, seals=seals), target, keyring, status)
    if target.startswith(f"{QR_PREFIX}:"):
        return verify_qr(target, keyring)
    path = Path(target)
    verdict = Verdict(str(path))
    try:
        data = path.read_bytes()
    except OSError as error:
        verdict.check(False, f"cannot read the file ({error.strerror})")
        return verdict
    if data.startswith(b"%PDF"):
        return verify_pdf(data, keyring, verdict)
    if edc.looks_like_edc(data):
        return verify_edc(data, keyring, verdict, seals)
    stripped = data.strip().decode("utf-8", "replace")
    if stripped.startswith(f"{QR_PREFIX}:"):
        return verify_qr(stripped, keyring, verdict)
    _verify_credential(stripped, keyring, verdict)
    return verdict


def verify_qr(statement: str, keyring: dict[str, PublicKey], verdict: Verdict | None = None) -> Verdict:
    verdict = verdict or Verdict("QR code")
    parts = statement.strip().split(":")
    if len(parts) != 5:
        verdict.check(False, "not a leerbewijs QR code (expected ST1:number:fingerprint:key:signature)")
        return verdict
    _, number, digest, kid, signature = parts
    key = keyring.get(kid)
    if not verdict.check(key is not None, f"signed with key {kid}" + ("" if key else ", which is not in this issuer's keyring")):
        return verdict
    assert key is not None
    try:
        key.credential_key.verify(unb64url(signature), _statement(number, digest))
        verdict.check(True, "the QR signature matches the issuer's key")
    except (InvalidSignature, ValueError):
        verdict.check(False, "the QR signature does not match: number or fingerprint were altered")
    verdict.facts.update({"number": number, "fingerprint": digest,
                          "compare": "this fingerprint must equal the one printed on the leerbewijs"})
    return verdict


def verify_pdf(data: bytes, keyring: dict[str, PublicKey], verdict: Verdict) -> Verdict:
    try:
        reader = PdfFileReader(io.BytesIO(data))
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError) as error:
        verdict.check(False, f"not a readable PDF ({error})")
        return verdict
    if not verdict.check(len(signatures) == 1, f"{len(signatures)} signature(s) in the PDF (expected exactly 1)"):
        return verdict
    signature = signatures[0]
    ours = _keyring_entry_of(signature.signer_cert, keyring)
    subject = signature.signer_cert.subject.human_friendly
    if not verdict.check(ours is not None, f"signed by {subject}" + (f" with key {ours.kid}" if ours else
                                                                      ", a certificate that is not in this issuer's keyring")):
        return verdict
    assert ours is not None
    try:
        context = ValidationContext(trust_roots=[_asn1(ours)], allow_fetching=False)
        status = validate_pdf_signature(signature, context)
    except (SigningError, ValueError) as error:
        verdict.check(False, f"the signature cannot be validated ({error})")
        return verdict
    verdict.check(status.intact and status.valid, "the signature is intact and valid" if status.intact and status.valid
                  else "the signature does not match the signed bytes: the content was altered after signing")
    _trusted_time(status, verdict)
    whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
    verdict.check(whole, "the signature covers the whole file" if whole
                  else "the file has content added after signing (a page, text or form data the signature does not cover)")
    token = _embedded(reader, "credential.jwt")
    if not verdict.check(token is not None, "the credential is embedded" if token else "no credential embedded"):
        return verdict
    assert token is not None
    _verify_credential(token, keyring, verdict)
    return verdict


def _trusted_time(status: Any, verdict: Verdict) -> None:
    """Say where the signing time comes from: an RFC 3161 timestamp over the signature (PAdES
    B-T), checked to match it, or only the issuer's own clock."""
    stamp = status.timestamp_validity
    if stamp is None:
        claimed = status.signer_reported_dt
        verdict.facts["trusted time"] = ("none: no timestamp from a time-stamping authority; the signing time "
                                         f"{claimed:%Y-%m-%d %H:%M UTC} is the issuer's own clock" if claimed else
                                         "none: no timestamp from a time-stamping authority")
        return
    authority = stamp.signing_cert.subject.human_friendly if stamp.signing_cert is not None else "?"
    verdict.check(stamp.intact and stamp.valid, "the timestamp matches the signature" if stamp.intact and stamp.valid
                  else "the timestamp does not match the signature")
    verdict.facts["trusted time"] = f"{stamp.timestamp:%Y-%m-%d %H:%M:%S UTC} (RFC 3161 timestamp by {authority})"


def _verify_credential(token: str, keyring: dict[str, PublicKey], verdict: Verdict) -> None:
    try:
        credential, key = verify_token(token, keyring)
    except CredentialInvalid as error:
        verdict.check(False, f"credential: {error}")
        return
    verdict.check(True, f"the credential's signature matches key {key.kid}")
    verdict.credential = credential
    subject = credential.get("credentialSubject", {})
    learner = next((i["identityHash"] for i in subject.get("identifier", []) if not i.get("hashed")), None)
    hashed = next((i for i in subject.get("identifier", []) if i.get("hashed")), None)
    verdict.facts.update({
        "issuer": f"{credential['issuer'].get('name')} ({credential['issuer'].get('id')})",
        "learner": learner or (f"{hashed['identityType']} hashed as {hashed['identityHash'][:23]}…, salt {hashed['salt']}" if hashed else "?"),
        "hours": str(subject.get("creditsEarned")),
        "dates": f"{str(subject.get('activityStartDate', ''))[:10]} to {str(subject.get('activityEndDate', ''))[:10]}",
        "valid from": str(credential.get("validFrom", ""))[:10],
        "achievement": str(subject.get("achievement", {}).get("name")),
        "check code": check_code(token),
    })


def verify_edc(data: bytes, keyring: dict[str, PublicKey], verdict: Verdict, seals: tuple[x509.Certificate, ...] = ()) -> Verdict:
    """A sealed European Digital Credential: the JAdES seal, whose it is, the EDC schema."""
    try:
        opened = edc.open_edc(data)
    except edc.EdcInvalid as error:
        verdict.check(False, f"EDC: {error}")
        return verdict
    verdict.check(True, f"the EDC seal is intact ({opened.header.get('alg')}, sealed by {opened.chain[0].subject.rfc4514_string()})")
    for problem in opened.header_problems:
        verdict.check(False, f"JAdES header: {problem}")
    whose = edc.trusted(opened.chain, keyring, seals)
    if not verdict.check(whose is not None, f"the seal certificate is the issuer's ({whose})" if whose else
                         "the seal certificate is neither in this issuer's keyring nor its published seal certificate"):
        return verdict
    problems = edc.schema_errors(opened.credential)
    verdict.check(not problems, "the EDC validates against the Europass EDC schema (ELM 3.2)" if not problems
                  else f"the EDC departs from the Europass EDC schema: {'; '.join(problems[:3])}")
    verdict.facts.update(edc.learner_view(opened.credential))
    verdict.facts["sealed (sigT)"] = str(opened.header.get("sigT"))
    # for the status check: the EDC's CredentialStatus id is the Open Badges entry's (<list>#<index>)
    verdict.credential = {**opened.credential, "credentialStatus": edc.status_entry_of(opened.credential)}
    return verdict


def _with_status(verdict: Verdict, target: str, keyring: dict[str, PublicKey], status: StatusSource) -> Verdict:
    """Add the revocation status of the credential a verdict found (section 3.3, Validate)."""
    credential = verdict.credential
    if credential is None:
        return verdict  # a QR code or an unreadable file: no credential to look up
    entry = credential.get("credentialStatus") or {}
    url = entry.get("statusListCredential") if isinstance(entry, dict) else None
    try:
        status_list = status.list_for(url) if url else None
    except StatusUnknown as error:
        verdict.check(False, f"status: {error}")
        return verdict
    revoked, message = status_of(credential, status_list)
    if revoked is None:
        verdict.facts["status"] = message
    else:
        number = str(credential.get("credentialSubject", {}).get("achievement", {}).get("humanCode") or edc.number_of(credential) or "")
        replacement = status.replacement(number, url) if revoked and number and url else None
        verdict.check(not revoked, f"revoked, replaced by {replacement} ({message})" if replacement else message)
    return verdict


def _asn1(key: PublicKey) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(key.certificate.public_bytes(serialization.Encoding.DER))


def _keyring_entry_of(certificate: asn1_x509.Certificate, keyring: dict[str, PublicKey]) -> PublicKey | None:
    return next((k for k in keyring.values() if _asn1(k).dump() == certificate.dump()), None)


def _embedded(reader: PdfFileReader, name: str) -> str | None:
    try:
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    except KeyError:
        return None
    for index in range(0, len(names), 2):
        if str(names[index]) == name:
            stream = names[index + 1].get_object()["/EF"]["/F"].get_object()
            return bytes(stream.data).decode("utf-8")
    return None
