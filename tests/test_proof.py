"""A leerbewijs anyone can verify: the Open Badges 3.0 credential against the official
schema, the VC-JWT, the PAdES-signed PDF with the credential inside, key rotation, and
every kind of tampering the issue names (changed hours, a swapped page, another key)."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import jwt
import pytest
from pyhanko.pdf_utils.generic import StreamObject
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader, PdfWriter

from connector.core.errors import ConfigError
from connector.leerbewijs.credential import (
    build_credential,
    recipient_identity,
    sign,
    verify_token,
)
from connector.leerbewijs.document import fingerprint
from connector.leerbewijs.issuer import IssuerProfile, KeyStore, load_keyring
from connector.leerbewijs.proof import check_for, signed_pdf, verify, verify_qr
from tests.test_leerbewijs import CONTENT, text_of

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "ob_v3p0_achievementcredential_schema.json").read_text())
PROFILE = IssuerProfile("https://lerenswitchen.be", "Netwerk Leren Switchen vzw", "https://lerenswitchen.be", "switch@lerenswitchen.be")
ZONE = ZoneInfo("Europe/Brussels")
NOW = datetime(2027, 5, 20, 9, tzinfo=UTC)
SALT = "5f1c0a9e2b7d4c11"
ISSUED = {**CONTENT, "recipient": {"salt": SALT, "identity_hash": recipient_identity("ayse.yilmaz@groenkracht.be", SALT),
                                   "identity_type": "emailAddress"}}


@pytest.fixture
def store(tmp_path):
    keys = KeyStore(tmp_path / "keys")
    keys.init(PROFILE, NOW)
    return keys


def schema_errors(credential):
    validator = jsonschema.Draft201909Validator(SCHEMA, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(credential)]


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_the_credential_passes_the_official_open_badges_3_schema(language):
    credential = build_credential({**ISSUED, "language": language}, PROFILE, ZONE)
    assert schema_errors(credential) == []
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    subject = credential["credentialSubject"]
    assert subject["creditsEarned"] == 14.0
    assert (subject["activityStartDate"], subject["activityEndDate"]) == ("2027-05-11T00:00:00+02:00", "2027-05-12T00:00:00+02:00")
    assert credential["validFrom"] == "2027-05-20T00:00:00+02:00"
    assert [e["name"] for e in credential["evidence"]] == [n.format(d) for n, d in
                                                          [({"nl": "Leeruitwisselingsdag {}", "fr": "Journée d'échange du {}",
                                                             "en": "Exchange day {}"}[language], d) for d in ("2027-05-11", "2027-05-12")]]
    if language == "en":
        assert subject["achievement"]["name"] == "Learning exchange (Switching Talent)"


def test_the_learner_is_a_salted_e_mail_hash_and_no_plain_personal_data_unless_configured():
    credential = build_credential(ISSUED, PROFILE, ZONE)
    [identity] = credential["credentialSubject"]["identifier"]
    assert identity == {"type": "IdentityObject", "hashed": True, "identityType": "emailAddress", "salt": SALT,
                        "identityHash": recipient_identity("Ayse.Yilmaz@groenkracht.be ", SALT)}
    flat = json.dumps(credential, ensure_ascii=False)
    assert "Ayşe" not in flat and "groenkracht.be" not in flat and "G102" not in flat
    named = build_credential(ISSUED, PROFILE, ZONE, with_name=True)
    assert schema_errors(named) == []
    assert {"type": "IdentityObject", "hashed": False, "identityHash": "Ayşe Yılmaz", "identityType": "name"} in \
        named["credentialSubject"]["identifier"]


def test_the_vc_jwt_is_the_credential_signed_eddsa_and_verifies_against_the_keyring(store):
    keys = store.current()
    credential = build_credential(ISSUED, PROFILE, ZONE)
    token = sign(credential, keys)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] == keys.kid and header["jwk"]["crv"] == "Ed25519"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert "vc" not in claims and claims["iss"] == PROFILE.id and claims["jti"] == credential["id"]
    assert claims["nbf"] == int(datetime(2027, 5, 19, 22, tzinfo=UTC).timestamp())
    verified, key = verify_token(token, store.public_keys())
    assert verified == credential and key.kid == keys.kid
    assert sign(credential, keys) == token  # Ed25519 is deterministic: a re-render signs the same


def test_a_credential_with_changed_hours_is_rejected(store):
    from connector.leerbewijs.credential import CredentialInvalid

    token = sign(build_credential(ISSUED, PROFILE, ZONE), store.current())
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["creditsEarned"] = 21.0
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(CredentialInvalid, match="signature does not match"):
        verify_token(f"{header}.{forged_payload}.{signature}", store.public_keys())


def signed(store, content=ISSUED) -> bytes:
    return signed_pdf(content, fingerprint(content), store.current(), PROFILE, ZONE)


def failures(verdict) -> list[str]:
    return [message for passed, message in verdict.checks if not passed]


def test_the_signed_pdf_verifies_and_states_issuer_learner_hours_and_dates(store, tmp_path):
    path = tmp_path / "LB-2027-0001.pdf"
    path.write_bytes(signed(store))
    verdict = verify(str(path), store.public_keys())
    assert verdict.ok, verdict.lines()
    assert verdict.facts["issuer"] == "Netwerk Leren Switchen vzw (https://lerenswitchen.be)"
    assert verdict.facts["hours"] == "14.0" and verdict.facts["dates"] == "2027-05-11 to 2027-05-12"
    assert verdict.facts["learner"].startswith("emailAddress hashed as sha256$")
    text = " ".join(text_of(path.read_bytes()).split())
    assert verdict.facts["check code"] in text and "st-connector leerbewijs verify" in text
    reader = PdfReader(path)
    assert set(reader.attachments) == {"credential.json", "credential.jwt"}
    embedded = json.loads(reader.attachments["credential.json"][0])
    assert schema_errors(embedded) == [] and embedded["credentialSubject"]["creditsEarned"] == 14.0


def test_changed_hours_in_the_signed_bytes_are_detected(store, tmp_path):
    pdf = signed(store)
    title = b"Leerbewijs LB-2027-0001"
    assert title in pdf  # in the document information, which the signature covers
    path = tmp_path / "altered.pdf"
    path.write_bytes(pdf.replace(title, b"Leerbewijs LB-2027-0002", 1))
    verdict = verify(str(path), store.public_keys())
    assert not verdict.ok and "the signature does not match the signed bytes: the content was altered after signing" in failures(verdict)


def test_hours_drawn_over_the_page_in_a_later_revision_are_detected(store, tmp_path):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed(store)))
    # a white box over the total and a new figure on it, saved as a later revision the way editors do
    overlay = writer.add_object(StreamObject(stream_data=b"1 1 1 rg 250 330 40 20 re f 0 0 0 rg 255 335 8 10 re f"))
    writer.add_stream_to_page(0, overlay)
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / "overlay.pdf"
    path.write_bytes(buffer.getvalue())
    verdict = verify(str(path), store.public_keys())
    assert not verdict.ok
    assert any("added after signing" in message for message in failures(verdict)), verdict.lines()


def test_a_swapped_page_is_detected(store, tmp_path):
    other = {**ISSUED, "number": "LB-2027-0099", "total_hours": 21.0}
    writer = PdfWriter(clone_from=io.BytesIO(signed(store)))
    writer.remove_page(0)
    writer.add_page(PdfReader(io.BytesIO(signed(store, other))).pages[0])
    path = tmp_path / "swapped.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    verdict = verify(str(path), store.public_keys())
    assert "the signature does not match the signed bytes: the content was altered after signing" in failures(verdict)


def test_a_leerbewijs_re_signed_with_another_key_is_not_ours(store, tmp_path):
    forger = KeyStore(tmp_path / "forger")
    forger.init(IssuerProfile(PROFILE.id, PROFILE.name, PROFILE.url, PROFILE.email), NOW)  # same names, other keys
    forged = {**ISSUED, "total_hours": 35.0, "days": ISSUED["days"] + [{"date": "2027-05-13", "hours": 21.0, "session": "S3"}]}
    path = tmp_path / "forged.pdf"
    path.write_bytes(signed_pdf(forged, fingerprint(forged), forger.current(), PROFILE, ZONE))
    verdict = verify(str(path), store.public_keys())
    assert not verdict.ok
    assert any("not in this issuer's keyring" in message for message in failures(verdict))
    assert verify(str(path), forger.public_keys()).ok  # it is a well-formed leerbewijs, just not one of ours


def test_an_unsigned_pdf_or_a_damaged_file_is_not_valid(store, tmp_path):
    from connector.leerbewijs.document import render_pdf

    plain = tmp_path / "plain.pdf"
    plain.write_bytes(render_pdf(ISSUED, fingerprint(ISSUED)))
    assert failures(verify(str(plain), store.public_keys())) == ["0 signature(s) in the PDF (expected exactly 1)"]
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(signed(store)[:9000])
    # cut inside the signed revision: unreadable, or at best the unsigned first revision
    assert failures(verify(str(truncated), store.public_keys()))[0] in ("not a readable PDF (EOF marker not found)",
                                                                        "0 signature(s) in the PDF (expected exactly 1)")
    junk = tmp_path / "junk.jwt"
    junk.write_text("not a token")
    assert not verify(str(junk), store.public_keys()).ok
    assert failures(verify(str(tmp_path / "missing.pdf"), store.public_keys()))[0].startswith("cannot read the file")


def test_the_qr_statement_is_signed_and_names_the_fingerprint(store):
    keys = store.current()
    digest = fingerprint(ISSUED)
    check = check_for(ISSUED, digest, keys, "token")
    assert len(check.qr) < 200  # scannable from paper
    good = verify_qr(check.qr, store.public_keys())
    assert good.ok and good.facts["fingerprint"] == digest and good.facts["number"] == "LB-2027-0001"
    altered = check.qr.replace(digest, fingerprint({**ISSUED, "total_hours": 21.0}))
    assert failures(verify_qr(altered, store.public_keys())) == ["the QR signature does not match: number or fingerprint were altered"]


def test_rotation_signs_new_leerbewijzen_with_the_new_key_and_old_ones_stay_verifiable(store, tmp_path):
    old_path = tmp_path / "old.pdf"
    old_path.write_bytes(signed(store))
    first = store.current().kid
    second = store.rotate(PROFILE, datetime(2028, 1, 2, tzinfo=UTC))
    assert second != first and store.current().kid == second
    new_path = tmp_path / "new.pdf"
    new_path.write_bytes(signed(store))
    keyring = load_keyring(store.directory / "keyring.json")
    assert keyring[first].retired and keyring[second].retired is None
    assert verify(str(old_path), keyring).ok and verify(str(new_path), keyring).ok
    assert f"key {second}" in " ".join(verify(str(new_path), keyring).lines())
    (store.directory / f"{first}.credential.pem").unlink()  # old private keys may go offline
    (store.directory / f"{first}.pdf.pem").unlink()
    assert verify(str(old_path), store.public_keys()).ok
    with pytest.raises(ConfigError, match="already holds signing keys"):
        store.init(PROFILE, NOW)


def test_private_keys_are_files_for_the_owner_only_and_encrypted_with_a_passphrase(tmp_path):
    store = KeyStore(tmp_path / "keys", passphrase="correct horse")
    kid = store.init(PROFILE, NOW)
    key_file = tmp_path / "keys" / f"{kid}.credential.pem"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    keyring_text = (tmp_path / "keys" / "keyring.json").read_text()
    assert "PRIVATE" not in keyring_text
    with pytest.raises(ConfigError, match="passphrase"):
        KeyStore(tmp_path / "keys", passphrase="wrong").current()
    assert KeyStore(tmp_path / "keys", passphrase="correct horse").current().kid == kid


def test_a_sync_issues_leerbewijzen_that_verify_on_the_command_line_and_keys_stay_out_of_the_store(sqlite_network, capsys):
    from connector.cli import main
    from connector.engine.sync import run_sync

    summary = run_sync(sqlite_network.config(), datetime(2026, 11, 22, tzinfo=ZONE))
    assert summary.status == "ok" and summary.created_key
    pdfs = sorted(str(p) for p in (sqlite_network.out / "leerbewijzen").rglob("*.pdf"))
    assert len(pdfs) == 4  # three switchers' and the petits-pas coach's own
    config = str(sqlite_network.config_path)
    capsys.readouterr()
    assert main(["leerbewijs", "verify", *pdfs, "--config", config]) == 0
    printed = capsys.readouterr().out
    assert printed.count(": VALID") == 4 and "hours: 14.0" in printed
    keys_dir = sqlite_network.config_path.parent / "keys"
    private = [p.read_bytes() for p in keys_dir.glob("*.pem")]
    store_bytes = Path(sqlite_network.store_url.removeprefix("sqlite:///")).read_bytes()
    for pem in private:
        body = b"".join(pem.splitlines()[1:-1])
        assert body[:40] not in store_bytes
    assert main(["keys", "show", "--config", config]) == 0
    shown = capsys.readouterr().out
    assert summary.created_key in shown and "PRIVATE" not in shown and "in use" in shown
    assert main(["keys", "rotate", "--config", config]) == 0
    assert "retired" in capsys.readouterr().out
    assert main(["leerbewijs", "verify", pdfs[0], "--keyring", str(keys_dir / "keyring.json")]) == 0  # no configuration needed
    tampered = sqlite_network.out / "tampered.pdf"
    tampered.write_bytes(Path(pdfs[0]).read_bytes().replace(b"/Title (", b"/Title (X", 1))
    capsys.readouterr()
    assert main(["leerbewijs", "verify", str(tampered), "--config", config]) == 1
    assert "NOT VALID" in capsys.readouterr().out
    assert main(["keys", "init", "--config", config]) == 2  # refuses to overwrite


def test_private_keys_may_come_from_the_environment_instead_of_files(tmp_path, monkeypatch):
    from connector.core.config import load_config

    files = KeyStore(tmp_path / "keys")
    kid = files.init(PROFILE, NOW)
    credential_pem = (tmp_path / "keys" / f"{kid}.credential.pem").read_text()
    pdf_pem = (tmp_path / "keys" / f"{kid}.pdf.pem").read_text()
    for part in ("credential", "pdf"):
        (tmp_path / "keys" / f"{kid}.{part}.pem").unlink()  # only the public keyring stays on disk
    monkeypatch.setenv("ST_TEST_CREDENTIAL_KEY", credential_pem)
    monkeypatch.setenv("ST_TEST_PDF_KEY", pdf_pem)
    source = Path(__file__).parent.parent / "config.example.toml"
    config_path = tmp_path / "config.toml"
    config_path.write_text(source.read_text(encoding="utf-8").replace(
        'keys_dir = "keys"\n', 'keys_dir = "keys"\ncredential_key = "${ST_TEST_CREDENTIAL_KEY}"\npdf_key = "${ST_TEST_PDF_KEY}"\n'), encoding="utf-8")
    store = KeyStore.of(load_config(config_path))
    keys = store.current()
    assert keys.kid == kid
    path = tmp_path / "env.pdf"
    path.write_bytes(signed_pdf(ISSUED, fingerprint(ISSUED), keys, PROFILE, ZONE))
    assert verify(str(path), store.public_keys()).ok
    other = KeyStore(tmp_path / "other")
    other.init(PROFILE, NOW)
    stranger = next((tmp_path / "other").glob("*.credential.pem")).read_text()
    monkeypatch.setenv("ST_TEST_CREDENTIAL_KEY", stranger)
    with pytest.raises(ConfigError, match=f"not those of key generation {kid}"):
        KeyStore.of(load_config(config_path)).current()
    monkeypatch.setenv("ST_TEST_CREDENTIAL_KEY", "not a key")
    with pytest.raises(ConfigError, match=r"\[signing\] credential_key: cannot read the key \(not a PEM private key\)"):
        KeyStore.of(load_config(config_path)).current()
