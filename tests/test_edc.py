"""The European Digital Credential (issue 24): the EDC of a leerbewijs against the published Europass
EDC JSON Schema (ELM 3.2, bundled in connector/leerbewijs/schemas/), its JAdES baseline-B seal
checked with jwcrypto (a JOSE library the connector does not seal with) and its header against ETSI
TS 119 182-1, partner seals from PKCS#12 and PEM, and on the example network: the EDC beside every
PDF, `leerbewijs verify` on it (seal, schema, status), revocation covering it, re-runs writing nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from jwcrypto import jwk, jws
from jwcrypto.common import JWSEHeaderParameter
from pypdf import PdfReader

from connector.cli import main
from connector.core.errors import ConfigError
from connector.leerbewijs import edc
from connector.leerbewijs.edc import Seal, build_edc, load_seal, seal, workload
from tests.test_proof import ISSUED, NOW, PROFILE, ZONE
from tests.test_sync import sync

SCHEMA = json.loads((Path(edc.__file__).parent / "schemas" / "europass-edc-credential-2.1.0.json").read_text(encoding="utf-8"))
LIST_URL = "https://lerenswitchen.be/leerbewijs/status/1"
WITH_STATUS = {**ISSUED, "status": {"index": 7, "list": LIST_URL}}


def schema_errors(credential):
    """Validated here with jsonschema straight from the bundled file, formats checked too."""
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(credential)]


def self_signed(key, name="Netwerk Leren Switchen vzw", issuer=None, issuer_key=None, ca=False):
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name), x509.NameAttribute(NameOID.COUNTRY_NAME, "BE")])
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - timedelta(days=30))
            .not_valid_after(NOW + timedelta(days=700)).add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key or key, hashes.SHA256()))


@pytest.fixture(scope="module")
def p256_seal():
    key = ec.generate_private_key(ec.SECP256R1())
    return Seal(key, (self_signed(key),))


def independent_open(data: bytes):
    """jwcrypto reads the JWS JSON serialization (RFC 7797 unencoded payload) and checks the seal
    with the key of the first x5c certificate; sigT is a JAdES header it must accept as critical."""
    document = json.loads(data)
    header = json.loads(base64.urlsafe_b64decode(document["signatures"][0]["protected"] + "=="))
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    token = jws.JWS(header_registry={"sigT": JWSEHeaderParameter("claimed signing time (ETSI TS 119 182-1)", False, True, None)})
    token.deserialize(data.decode("utf-8"))
    token.verify(jwk.JWK.from_pyca(leaf.public_key()), alg=header["alg"])  # raises when the seal does not match
    return header, leaf, json.loads(token.payload)


# -- the credential ----------------------------------------------------------------------------

@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_the_edc_validates_against_the_published_europass_edc_schema(language):
    credential = build_edc({**WITH_STATUS, "language": language}, PROFILE, ZONE)
    assert schema_errors(credential) == []
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert credential["type"] == ["VerifiableCredential", "VerifiableAttestation", "EuropeanDigitalCredential"]
    assert credential["issuer"]["id"] == PROFILE.id and credential["issuer"]["legalName"] == {language: PROFILE.name}
    subject = credential["credentialSubject"]
    assert subject["type"] == "Person" and subject["fullName"] == {language: "Ayşe Yılmaz"}
    activity = subject["hasClaim"]
    assert activity["type"] == "LearningActivity"
    assert activity["title"] == {language: "Hoe kook ik voor een grote groep – zonder verspilling?"}  # the learning question
    assert activity["workload"] == "PT14H"
    assert activity["temporal"]["startDate"].startswith("2027-05-11") and activity["temporal"]["endDate"].startswith("2027-05-12")
    [coach] = activity["directedBy"]
    assert coach["fullName"] == {language: "Jérôme Lefèvre"} and coach["memberOf"]["legalName"] == {language: "Crèche Les Petits Pas asbl"}
    assert "Jérôme Lefèvre" in activity["additionalNote"][0]["noteLiteral"][language]  # the coach's role, in words
    assert set(activity["specifiedBy"]["title"]) == {"nl", "fr", "en"}  # fixed labels in the three languages
    assert credential["displayParameter"]["primaryLanguage"]["notation"] == language
    image = credential["displayParameter"]["individualDisplay"][0]["displayDetail"][0]["image"]["content"]
    assert base64.b64decode(image).startswith(b"\x89PNG")
    # the same status-list entry as the Open Badges credential, in the only shape the EDC schema allows
    assert credential["credentialStatus"] == {"id": f"{LIST_URL}#7", "type": "CredentialStatus"}
    assert build_edc(WITH_STATUS, PROFILE, ZONE) == build_edc(WITH_STATUS, PROFILE, ZONE)


def test_the_schema_catches_what_europass_would_refuse():
    credential = build_edc(WITH_STATUS, PROFILE, ZONE)
    without_display = {k: v for k, v in credential.items() if k != "displayParameter"}
    assert any("displayParameter" in error for error in schema_errors(without_display))
    # why the EDC does not carry the full BitstringStatusListEntry: ELM allows id and type only
    bitstring = {**credential, "credentialStatus": {"id": f"{LIST_URL}#7", "type": "BitstringStatusListEntry",
                                                    "statusPurpose": "revocation", "statusListIndex": "7", "statusListCredential": LIST_URL}}
    assert schema_errors(bitstring)
    assert edc.schema_errors(credential) == [] and edc.schema_errors(without_display)


@pytest.mark.parametrize(("hours", "duration"), [(14, "PT14H"), (7.5, "PT7H30M"), (0.25, "PT15M"), (6.33, "PT6H20M"), (0, "PT0M")])
def test_the_workload_is_an_iso_8601_duration_of_the_attended_hours(hours, duration):
    assert workload(hours) == duration


# -- the seal ----------------------------------------------------------------------------------

def test_the_seal_verifies_with_an_independent_jose_library_and_its_header_follows_jades(p256_seal):
    credential = build_edc(WITH_STATUS, PROFILE, ZONE)
    sealed = seal(credential, p256_seal)
    header, leaf, payload = independent_open(sealed)
    assert payload == credential
    der = p256_seal.chain[0].public_bytes(serialization.Encoding.DER)
    # ETSI TS 119 182-1: the signing certificate referenced (x5t#S256) and carried (x5c), kid the
    # DER IssuerSerial of it, the claimed signing time sigT as UTC, critical like b64 (RFC 7797)
    assert header["alg"] == "ES256" and leaf == p256_seal.chain[0]
    assert header["x5t#S256"] == base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()
    issuer_serial = asn1_cms.IssuerSerial.load(base64.b64decode(header["kid"]))
    assert issuer_serial["serial"].native == leaf.serial_number
    assert issuer_serial["issuer"][0].name == "directory_name"
    assert issuer_serial["issuer"][0].chosen.native == asn1_x509.Name.load(leaf.issuer.public_bytes()).native
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", header["sigT"]) and "iat" not in header
    assert header["sigT"] == "2027-05-19T22:00:00Z"  # the issue day's start in Brussels: no wall clock inside
    assert header["b64"] is False and set(header["crit"]) == {"b64", "sigT"} and header["typ"] == "jose+json"
    assert edc.jades_header_problems(header, (leaf,)) == []
    assert seal(credential, p256_seal) == sealed  # deterministic: the same leerbewijs, the same bytes

    altered = sealed.replace("PT14H".encode(), b"PT15H")
    with pytest.raises(jws.InvalidJWSSignature):
        independent_open(altered)
    with pytest.raises(edc.EdcInvalid, match="altered"):
        edc.open_edc(altered)
    stranger = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(jws.InvalidJWSSignature):
        token = jws.JWS(header_registry={"sigT": JWSEHeaderParameter("", False, True, None)})
        token.deserialize(sealed.decode())
        token.verify(jwk.JWK.from_pyca(stranger.public_key()))


def test_header_problems_are_named():
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = self_signed(key)
    problems = edc.jades_header_problems({"alg": "HS256", "iat": 1, "b64": False, "crit": [], "sigT": "2027-05-20"}, (leaf,))
    assert any("alg 'HS256'" in p for p in problems) and any("sigT" in p for p in problems)
    assert any("iat" in p for p in problems) and any("b64" in p for p in problems)


def test_a_partner_seal_from_pkcs12_or_pem_with_its_chain(tmp_path):
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = self_signed(ca_key, "Test Qualified Seal CA", ca=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = self_signed(key, "Netwerk Leren Switchen vzw (seal)", issuer=ca.subject, issuer_key=ca_key)
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(b"seal", key, leaf, [ca], serialization.BestAvailableEncryption(b"secret")))
    loaded = load_seal(p12, "secret")
    assert loaded.chain == (leaf, ca) and loaded.algorithm == "RS256"
    header, signer, _ = independent_open(seal(build_edc(WITH_STATUS, PROFILE, ZONE), loaded))
    assert header["alg"] == "RS256" and len(header["x5c"]) == 2 and signer == leaf

    pem = tmp_path / "chain.pem"  # CA first: the leaf is found by its key
    pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM) + leaf.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    assert load_seal(pem, key_pem=key_pem).chain == (leaf, ca)
    together = tmp_path / "together.pem"
    together.write_bytes(pem.read_bytes() + key_pem.encode())
    assert load_seal(together).chain[0] == leaf

    with pytest.raises(ConfigError, match="seal_certificate"):
        load_seal(p12, "wrong")
    with pytest.raises(ConfigError, match="no private key"):
        load_seal(pem)
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    with pytest.raises(ConfigError, match="belongs to the private key"):
        load_seal(pem, key_pem=other)


# -- on the example network -------------------------------------------------------------------------

def edcs_of(network):
    return sorted((network.out / "leerbewijzen").rglob(f"*{edc.SUFFIX}"))


def test_every_leerbewijs_gets_an_edc_that_verifies_and_a_rerun_writes_nothing(network, capsys):
    summary = sync(network)
    assert summary.status == "ok", summary.errors
    pdfs = sorted((network.out / "leerbewijzen").rglob("*.pdf"))
    files = edcs_of(network)
    assert [p.name.removesuffix(edc.SUFFIX) for p in files] == [p.stem for p in pdfs] and len(files) == 4  # one a coach's own
    for pdf, sealed in zip(pdfs, files):
        header, _, credential = independent_open(sealed.read_bytes())
        assert schema_errors(credential) == []
        ob = json.loads(PdfReader(pdf).attachments["credential.json"][0])
        assert credential["credentialStatus"]["id"] == ob["credentialStatus"]["id"]  # one bit revokes both
        assert credential["credentialSubject"]["hasClaim"]["workload"] == workload(ob["credentialSubject"]["creditsEarned"])
        note = pdf.with_name(f"{pdf.stem}.europass.txt").read_text(encoding="utf-8")
        assert sealed.name in note and "europass.europa.eu" in note
    assert main(["leerbewijs", "verify", *map(str, files), "--config", str(network.config_path)]) == 0
    out = capsys.readouterr().out
    assert out.count(": VALID") == 4 and out.count("ok  not revoked") == 4
    assert "validates against the Europass EDC schema" in out and "learner: Fatima El Amrani" in out

    before = network.output_hashes()
    again = sync(network)
    assert again.status == "ok" and again.leerbewijzen["issued"] == 0
    assert network.output_hashes() == before  # EDC files and notes included: nothing new


def test_a_revoked_leerbewijs_is_revoked_as_edc_too_and_a_tampered_edc_fails(sqlite_network, capsys, tmp_path):
    network = sqlite_network
    sync(network, as_of="2027-06-01")
    keys = network.root / "keys"
    revoked, kept = edcs_of(network)[:2]
    number = revoked.name.removesuffix(edc.SUFFIX)
    assert main(["leerbewijs", "revoke", number, "--config", str(network.config_path)]) == 0
    capsys.readouterr()
    # an auditor with the published files only: the keyring and the status list, no configuration
    published = ["--keyring", str(keys / "keyring.json"), "--status-list", str(keys / "status-list.jwt")]
    assert main(["leerbewijs", "verify", str(kept), *published]) == 0
    assert main(["leerbewijs", "verify", str(revoked), *published]) == 1
    out = capsys.readouterr().out
    assert "BAD revoked (bit" in out

    tampered = tmp_path / "tampered.edc.jsonld"
    data = kept.read_bytes()
    hours = re.search(rb"PT\d+H", data).group(0)
    tampered.write_bytes(data.replace(hours, hours[:-1] + b"5H", 1))  # more hours than attended
    assert main(["leerbewijs", "verify", str(tampered), *published]) == 1
    assert "the seal does not match" in capsys.readouterr().out


def test_a_partner_seal_certificate_from_the_configuration_is_used_and_published(sqlite_network, capsys, monkeypatch):
    network = sqlite_network
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca = self_signed(ca_key, "Test QTSP Seal CA", ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = self_signed(key, "Netwerk Leren Switchen vzw", issuer=ca.subject, issuer_key=ca_key)
    (network.root / "seal.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        b"seal", key, leaf, [ca], serialization.BestAvailableEncryption(b"p12-secret")))
    monkeypatch.setenv("ST_TEST_SEAL_PASSWORD", "p12-secret")
    network.replace('keys_dir = "keys"\n', 'keys_dir = "keys"\nseal_certificate = "seal.p12"\nseal_password = "${ST_TEST_SEAL_PASSWORD}"\n')
    monkeypatch.setenv("ST_TEST_SEAL_PASSWORD", "wrong")  # `check` opens the seal: a wrong password is named there
    assert main(["check", "--config", str(network.config_path)]) == 2
    assert "seal_certificate" in capsys.readouterr().err
    monkeypatch.setenv("ST_TEST_SEAL_PASSWORD", "p12-secret")
    assert main(["check", "--config", str(network.config_path)]) == 0
    capsys.readouterr()
    assert sync(network).status == "ok"
    files = edcs_of(network)
    assert files
    header, signer, _ = independent_open(files[0].read_bytes())
    assert signer == leaf and len(header["x5c"]) == 2
    keys = network.root / "keys"
    assert x509.load_pem_x509_certificates((keys / edc.PUBLISHED_CHAIN).read_bytes()) == [leaf, ca]
    assert main(["leerbewijs", "verify", str(files[0]), "--keyring", str(keys / "keyring.json")]) == 0
    assert "the seal certificate is the issuer's (the published seal certificate)" in capsys.readouterr().out
    (keys / edc.PUBLISHED_CHAIN).unlink()  # a seal nobody published is not the issuer's
    assert main(["leerbewijs", "verify", str(files[0]), "--keyring", str(keys / "keyring.json")]) == 1
    assert "neither in this issuer's keyring" in capsys.readouterr().out


def test_no_edc_when_switched_off(sqlite_network):
    sqlite_network.replace("\nedc = true\n", "\nedc = false\n")
    assert sync(sqlite_network).status == "ok"
    assert list((sqlite_network.out / "leerbewijzen").rglob("*.pdf")) and edcs_of(sqlite_network) == []


def test_the_issue_moment_is_the_claimed_signing_time_unless_the_certificate_is_younger(p256_seal):
    credential = build_edc(WITH_STATUS, PROFILE, ZONE)
    key = ec.generate_private_key(ec.SECP256R1())
    young = (x509.CertificateBuilder().subject_name(p256_seal.chain[0].subject).issuer_name(p256_seal.chain[0].subject)
             .public_key(key.public_key()).serial_number(1).not_valid_before(datetime(2027, 6, 1, tzinfo=UTC))
             .not_valid_after(datetime(2030, 1, 1, tzinfo=UTC)).sign(key, hashes.SHA256()))
    assert edc.signing_time(credential, young) == "2027-06-01T00:00:00Z"
    assert edc.signing_time(credential, p256_seal.chain[0]) == "2027-05-19T22:00:00Z"


def test_a_seal_made_by_other_eu_tooling_passes_the_same_checks():
    """A Europass-style EDC sealed elsewhere (JAdES, RS256, an e-seal certificate of an EU trust
    service provider; tests/data/edc/README.md): our verifier reads its seal, and its header meets
    the same TS 119 182-1 checks, including our encoding of `kid` as the DER IssuerSerial."""
    data = (Path(__file__).parent / "data" / "edc" / "edc-coa-signed.jsonld").read_bytes()
    assert edc.looks_like_edc(data)
    opened = edc.open_edc(data)
    assert opened.header["alg"] == "RS256" and opened.header["b64"] is False and "sigT" in opened.header["crit"]
    assert opened.header_problems == ()
    assert opened.header["kid"] == edc.issuer_serial(opened.chain[0])
    header, leaf, payload = independent_open(data)
    assert leaf == opened.chain[0] and payload == opened.credential
