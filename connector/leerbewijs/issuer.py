"""The issuer's signing keys: files in one folder, never in the store.

Per key generation (`kid`) there are two private keys: an Ed25519 key that signs the Open
Badges credentials (VC-JWT, EdDSA) and an ECDSA P-256 key with a self-signed X.509
certificate that signs the PDF (PAdES); P-256 because PDF readers verify it everywhere,
which is not yet true of Ed25519 in PDF. `keyring.json` holds every generation's public
half, so a leerbewijs signed before a rotation still verifies after it; the private keys
of retired generations may be moved offline.

    keys/keyring.json                public: current kid, per kid the JWK and the certificate
    keys/<kid>.credential.pem        private, Ed25519 (PKCS#8, encrypted with the passphrase if given)
    keys/<kid>.pdf.pem               private, P-256
"""

from __future__ import annotations

import hashlib
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.x509.oid import NameOID

from connector.core.config import Config
from connector.core.errors import ConfigError
from connector.plumbing.files import write_atomically

KEYRING = "keyring.json"
CERTIFICATE_YEARS = 10


@dataclass(frozen=True)
class IssuerProfile:
    id: str
    name: str
    url: str
    email: str

    @classmethod
    def of(cls, config: Config) -> IssuerProfile:
        partner = config.partner
        return cls(id=partner.issuer_url, name=partner.issuer_name or partner.name, url=partner.issuer_url,
                   email=partner.organiser_email)


@dataclass(frozen=True)
class SigningKeys:
    kid: str
    credential_key: Ed25519PrivateKey
    pdf_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    # The URI verifiers dereference to this generation's public JWK (`keys publish` writes it);
    # None for keys used without a configuration (tests, a bare folder): then `kid` is the
    # generation and the JWK travels in the JOSE header.
    kid_url: str | None = None

    @property
    def jose_kid(self) -> str:
        """The JOSE header `kid` (OB 3.0 section 8.2.3: a URI that dereferences to the JWK)."""
        return self.kid_url or self.kid


@dataclass(frozen=True)
class PublicKey:
    kid: str
    credential_key: Ed25519PublicKey
    certificate: x509.Certificate
    created: str
    retired: str | None


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


def keys_url(config: Config) -> str:
    """[signing] keys_url, or by default under the partner's website (or mail domain)."""
    return (config.signing.keys_url or f"{config.partner.issuer_url}/leerbewijs/keys").rstrip("/")


def key_url(base: str, kid: str) -> str:
    """Where the public JWK of generation `kid` is published: <keys_url>/<kid>.json."""
    return f"{base}/{kid}.json"


def generation_of(jose_kid: str) -> str:
    """The key generation a JOSE `kid` names: the generation itself, or the last path segment
    of its URL without `.json` (https://example.org/leerbewijs/keys/20270520-ab12cd34.json)."""
    last = jose_kid.rstrip("/").rsplit("/", 1)[-1].split("#")[-1]
    return last.removesuffix(".json")


def public_jwk(key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}


def _self_signed(key: ec.EllipticCurvePrivateKey, profile: IssuerProfile, now: datetime) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, profile.name[:64]),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, profile.name[:64]),
                      x509.NameAttribute(NameOID.EMAIL_ADDRESS, profile.email)])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=365 * CERTIFICATE_YEARS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(profile.email), x509.UniformResourceIdentifier(profile.url)]),
                           critical=False)
            .sign(key, hashes.SHA256()))


def _public_keys(keyring: dict[str, Any], where: Path) -> dict[str, PublicKey]:
    found = {}
    try:
        for kid, entry in keyring.get("keys", {}).items():
            certificate = x509.load_pem_x509_certificate(entry["certificate"].encode())
            raw = unb64url(entry["jwk"]["x"])
            found[kid] = PublicKey(kid, Ed25519PublicKey.from_public_bytes(raw), certificate, entry["created"], entry.get("retired"))
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError([f"{where}: not a keyring of the connector ({type(error).__name__}: {error})"]) from None
    return found


def load_keyring(path: Path) -> dict[str, PublicKey]:
    """The public keys in a keyring.json, e.g. one an issuer handed to a verifier."""
    try:
        return _public_keys(dict(json.loads(path.read_text(encoding="utf-8"))), path)
    except FileNotFoundError:
        raise ConfigError([f"{path}: no keyring (the issuer's public keys) there"]) from None
    except ValueError as error:
        raise ConfigError([f"{path}: not a readable keyring ({error})"]) from None


class KeyStore:
    def __init__(self, directory: Path, passphrase: str | None = None, given: dict[str, str] | None = None,
                 keys_url: str | None = None) -> None:
        self.directory = directory
        self.keys_url = keys_url  # the published keys' base URL; None: kid is the bare generation
        self._passphrase = passphrase.encode() if passphrase else None
        self._given = given or {}  # "credential" / "pdf" -> PEM text from the environment or secrets file

    @classmethod
    def of(cls, config: Config) -> KeyStore:
        signing = config.signing
        passphrase = signing.passphrase.get_secret_value() if signing.passphrase else None
        given = {part: secret.get_secret_value() for part, secret in (("credential", signing.credential_key), ("pdf", signing.pdf_key))
                 if secret is not None}
        return cls(config.path(signing.keys_dir), passphrase, given, keys_url(config))

    # -- the public keyring --------------------------------------------------------------

    def _keyring(self) -> dict[str, Any]:
        path = self.directory / KEYRING
        if not path.exists():
            return {"current": None, "keys": {}}
        try:
            return dict(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as error:
            raise ConfigError([f"{path}: not a readable keyring ({error})"]) from None

    def _save_keyring(self, keyring: dict[str, Any]) -> None:
        write_atomically(self.directory / KEYRING, (json.dumps(keyring, indent=2, sort_keys=True) + "\n").encode("utf-8"))

    def current_kid(self) -> str | None:
        return self._keyring().get("current") or None

    def exists(self) -> bool:
        return self.current_kid() is not None

    def public_keys(self) -> dict[str, PublicKey]:
        return _public_keys(self._keyring(), self.directory / KEYRING)

    # -- generations ---------------------------------------------------------------------

    def init(self, profile: IssuerProfile, now: datetime) -> str:
        if self.exists():
            raise ConfigError([f"{self.directory} already holds signing keys (current: {self.current_kid()}); "
                               "use `st-connector keys rotate` for a new generation"])
        return self._generate(profile, now)

    def rotate(self, profile: IssuerProfile, now: datetime) -> str:
        if not self.exists():
            raise ConfigError([f"{self.directory} holds no signing keys yet: run `st-connector keys init` first"])
        return self._generate(profile, now)

    def _generate(self, profile: IssuerProfile, now: datetime) -> str:
        credential_key = Ed25519PrivateKey.generate()
        pdf_key = ec.generate_private_key(ec.SECP256R1())
        jwk = public_jwk(credential_key.public_key())
        kid = f"{now:%Y%m%d}-{hashlib.sha256(jwk['x'].encode()).hexdigest()[:8]}"
        certificate = _self_signed(pdf_key, profile, now)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._write_private(f"{kid}.credential.pem", credential_key)
        self._write_private(f"{kid}.pdf.pem", pdf_key)
        keyring = self._keyring()
        stamp = now.astimezone(UTC).isoformat(timespec="seconds")
        if keyring.get("current"):
            keyring["keys"][keyring["current"]]["retired"] = stamp
        keyring.setdefault("keys", {})[kid] = {
            "jwk": {**jwk, "kid": kid}, "created": stamp, "retired": None,
            "certificate": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        }
        keyring["current"] = kid
        self._save_keyring(keyring)
        return kid

    def _write_private(self, name: str, key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey) -> None:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(self._passphrase) if self._passphrase else serialization.NoEncryption())
        data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        write_atomically(self.directory / name, data, private=True)

    def current(self) -> SigningKeys:
        keyring = self._keyring()
        kid = keyring.get("current")
        if not kid:
            raise ConfigError([f"no signing keys in {self.directory}: run `st-connector keys init --config ...`"])
        credential_key = self._read_private(kid, "credential")
        pdf_key = self._read_private(kid, "pdf")
        if not isinstance(credential_key, Ed25519PrivateKey) or not isinstance(pdf_key, ec.EllipticCurvePrivateKey):
            raise ConfigError([f"{self.directory}: the keys of {kid} are not an Ed25519 and a P-256 key"])
        certificate = x509.load_pem_x509_certificate(keyring["keys"][kid]["certificate"].encode())
        public = self.public_keys()[kid]
        certified = certificate.public_key()
        if public_jwk(credential_key.public_key()) != public_jwk(public.credential_key) or not isinstance(
                certified, ec.EllipticCurvePublicKey) or pdf_key.public_key().public_numbers() != certified.public_numbers():
            raise ConfigError([f"the private keys given are not those of key generation {kid} in {self.directory / KEYRING}"])
        return SigningKeys(kid, credential_key, pdf_key, certificate, key_url(self.keys_url, kid) if self.keys_url else None)

    def _read_private(self, kid: str, part: str) -> Any:
        path = self.directory / f"{kid}.{part}.pem"
        where = f"[signing] {part}_key" if part in self._given else str(path)
        try:
            if part in self._given:
                return serialization.load_pem_private_key(self._given[part].encode(), password=self._passphrase)
            return serialization.load_pem_private_key(path.read_bytes(), password=self._passphrase)
        except FileNotFoundError:
            raise ConfigError([f"{path}: private key missing (restore it from the backup, or `keys rotate`)"]) from None
        except (ValueError, TypeError) as error:
            hint = "wrong or missing [signing] passphrase" if "password" in str(error).lower() or "encrypted" in str(error).lower() \
                else "not a PEM private key"
            raise ConfigError([f"{where}: cannot read the key ({hint})"]) from None


def describe_keys(store: KeyStore) -> list[str]:
    """What `keys show` prints: public facts only."""
    lines = [f"keys folder: {store.directory}", f"current: {store.current_kid() or '(none: run keys init)'}"]
    for kid, key in sorted(store.public_keys().items()):
        fingerprint = key.certificate.fingerprint(hashes.SHA256()).hex(":").upper()
        state = f"retired {key.retired}" if key.retired else "in use"
        lines += [f"- {kid} ({state}, created {key.created})",
                  f"    credential key (Ed25519, JWK x): {public_jwk(key.credential_key)['x']}",
                  f"    PDF certificate: {key.certificate.subject.rfc4514_string()}, valid until "
                  f"{key.certificate.not_valid_after_utc:%Y-%m-%d}, SHA-256 {fingerprint}"]
    return lines


def ensure_keys(config: Config, now: datetime) -> tuple[SigningKeys, str | None]:
    """The current keys; on first use a new generation is made (and its kid returned), so the
    example network works out of the box. Back the folder up: it proves the leerbewijzen."""
    store = KeyStore.of(config)
    created = None if store.exists() else store.init(IssuerProfile.of(config), now)
    return store.current(), created
