"""Revocation as a W3C Bitstring Status List v1.0: the status entry in every new credential, the
signed list beside the keyring, indices never handed out twice (also after a store restore),
`leerbewijs revoke` and `leerbewijs verify` through the CLI, and independent checks: the list
decoded by Digital Bazaar's @digitalbazaar/vc-bitstring-status-list (npm, run with node) and its
VC-JWT signature verified with jwcrypto against the public JWK in keyring.json."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jwcrypto import jwk, jws
from pypdf import PdfReader

from connector.cli import main
from connector.leerbewijs.credential import build_credential
from connector.leerbewijs.statuslist import MIN_ENTRIES, bit_set, decode_list, encode_list, list_credential
from tests.test_field_inputs import _backup, _restore
from tests.test_proof import ISSUED, PROFILE, ZONE, schema_errors
from tests.test_sync import sync

INTEROP = Path(__file__).parent / "interop"
LIST_URL = "https://lerenswitchen.be/leerbewijs/status/1"


def credential_of(pdf: Path) -> dict:
    return json.loads(PdfReader(pdf).attachments["credential.json"][0])


def index_of(pdf: Path) -> int:
    return int(credential_of(pdf)["credentialStatus"]["statusListIndex"])


# -- the entry and the list -------------------------------------------------------------------

def test_a_credential_with_a_status_entry_still_passes_the_open_badges_schema():
    credential = build_credential({**ISSUED, "status": {"index": 7, "list": LIST_URL}}, PROFILE, ZONE)
    assert schema_errors(credential) == []
    assert credential["credentialStatus"] == {
        "id": f"{LIST_URL}#7", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
        "statusListIndex": "7", "statusListCredential": LIST_URL}
    assert "credentialStatus" not in build_credential(ISSUED, PROFILE, ZONE)  # issued before the status list: none


def test_the_bitstring_is_gzip_base64url_multibase_with_index_0_the_leftmost_bit():
    encoded = encode_list([0, 9, MIN_ENTRIES - 1])
    assert encoded.startswith("u") and "=" not in encoded
    bits = decode_list(encoded)
    assert len(bits) * 8 == MIN_ENTRIES
    assert (bits[0], bits[1], bits[-1]) == (0x80, 0x40, 0x01)
    assert [i for i in range(MIN_ENTRIES) if bit_set(bits, i)] == [0, 9, MIN_ENTRIES - 1]
    assert encode_list([3]) == encode_list([3])  # the same list, the same bytes: rewritten only on change
    credential = list_credential(LIST_URL, PROFILE, [], datetime(2027, 5, 20, tzinfo=UTC), highest_index=MIN_ENTRIES)
    assert len(decode_list(credential["credentialSubject"]["encodedList"])) * 8 == 2 * MIN_ENTRIES  # every index handed out fits


# -- on the example network -------------------------------------------------------------------

def test_indices_are_sequential_and_never_handed_out_again_after_a_store_restore(sqlite_network, tmp_path):
    network = sqlite_network
    sync(network, as_of="2027-05-01")
    first = {p.name: index_of(p) for p in (network.out / "leerbewijzen").rglob("*.pdf")}
    assert sorted(first.values()) == list(range(len(first)))  # sequential from 0
    _backup(network, tmp_path / "before.db")
    sync(network, as_of="2027-06-01")
    (ex04,) = list((network.out / "leerbewijzen" / "petits-pas").glob("LB-*-0*.pdf"))  # not its coach's own (C series)
    ex04_index = index_of(ex04)
    assert ex04_index == len(first)
    witness = json.loads((network.root / "keys" / "issued-values.json").read_text())
    assert witness["leerbewijzen"][ex04.stem]["status_index"] == ex04_index
    _restore(network, tmp_path / "before.db")
    sync(network, as_of="2027-06-02")  # re-issued after the restore: the same leerbewijs, so the same index
    assert index_of(ex04) == ex04_index
    _restore(network, tmp_path / "before.db")
    network.edit_csv("cohort/uitwisselingen.csv", "EX-04;LV-04;LP-ZON-BABY;Z008;bevestigd", "EX-04;LV-04;LP-ZON-BABY;Z008;geannuleerd")
    sync(network, as_of="2027-12-01")  # EX-05 is issued by a store that never saw EX-04's index
    indices = {p.name: index_of(p) for p in (network.out / "leerbewijzen").rglob("*.pdf")}
    newer = [i for name, i in indices.items() if name not in first and name != ex04.name]
    assert newer and min(newer) > ex04_index, indices
    assert len(set(indices.values())) == len(indices)


def test_an_empty_store_continues_above_every_index_handed_out(network, tmp_path):
    sync(network, as_of="2027-05-01")
    highest = max(index_of(p) for p in (network.out / "leerbewijzen").rglob("*.pdf"))
    fresh = f"sqlite:///{tmp_path / 'fresh' / 'connector.db'}"
    network.replace(f'url = "{network.store_url}"', f'url = "{fresh}"')
    network.store_url = fresh
    sync(network, as_of="2027-06-01")
    (ex04,) = list((network.out / "leerbewijzen" / "petits-pas").glob("LB-*-0*.pdf"))  # not its coach's own (C series)
    assert index_of(ex04) == highest + 1


def test_revoke_then_verify_says_revoked_and_a_restore_does_not_undo_it(sqlite_network, tmp_path, capsys):
    network = sqlite_network
    config = str(network.config_path)
    sync(network, as_of="2027-06-01")
    keys = network.root / "keys"
    pdfs = sorted((network.out / "leerbewijzen").rglob("*.pdf"))
    revoked, kept = pdfs[0], pdfs[1]
    listed = (keys / "status-list.jwt").read_bytes()
    assert main(["leerbewijs", "verify", str(kept), str(revoked), "--config", config]) == 0
    assert capsys.readouterr().out.count("ok  not revoked") == 2
    _backup(network, tmp_path / "before.db")

    assert main(["leerbewijs", "revoke", revoked.stem, "--reason", "attended one day less", "--config", config]) == 0
    assert "revoked" in capsys.readouterr().out
    after = (keys / "status-list.jwt").read_bytes()
    assert after != listed
    assert main(["leerbewijs", "verify", str(kept), "--config", config]) == 0
    assert "ok  not revoked" in capsys.readouterr().out
    assert main(["leerbewijs", "verify", str(revoked), "--config", config]) == 1
    assert f"BAD revoked (bit {index_of(revoked)} of the status list is set)" in capsys.readouterr().out
    # an auditor with only the published files: keyring and list, no configuration
    assert main(["leerbewijs", "verify", str(revoked), "--keyring", str(keys / "keyring.json"),
                 "--status-list", str(keys / "status-list.jwt")]) == 1
    capsys.readouterr()

    assert main(["leerbewijs", "revoke", revoked.stem, "--config", config]) == 0  # twice: nothing changes
    assert "already revoked" in capsys.readouterr().out
    assert (keys / "status-list.jwt").read_bytes() == after
    witness = json.loads((keys / "issued-values.json").read_text())
    assert witness["revoked"][revoked.stem]["reason"] == "attended one day less"

    _restore(network, tmp_path / "before.db")  # a store from before the revocation
    sync(network, as_of="2027-06-02")
    assert (keys / "status-list.jwt").read_bytes() == after
    assert main(["leerbewijs", "verify", str(revoked), "--config", config]) == 1
    capsys.readouterr()
    # the sync took the revocation back into the store from the witness (same moment and reason)
    assert main(["leerbewijs", "revoke", revoked.stem, "--config", config]) == 0
    assert "already revoked" in capsys.readouterr().out
    assert json.loads((keys / "issued-values.json").read_text())["revoked"][revoked.stem]["reason"] == "attended one day less"


def test_a_credential_issued_before_the_status_list_says_no_status_entry(sqlite_network, capsys, tmp_path):
    from connector.leerbewijs.credential import sign
    from connector.leerbewijs.issuer import KeyStore

    sync(sqlite_network, as_of="2027-06-01")
    keys = KeyStore.of(sqlite_network.config())
    old = tmp_path / "old.jwt"
    old.write_text(sign(build_credential(ISSUED, PROFILE, ZONE), keys.current()))
    assert main(["leerbewijs", "verify", str(old), "--keyring", str(keys.directory / "keyring.json")]) == 0
    assert "status: no status entry" in capsys.readouterr().out


# -- independent checks -------------------------------------------------------------------------

@pytest.fixture(scope="session")
def bitstring_decoder() -> Path:
    """Digital Bazaar's reference implementation, installed from npm with the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "node and npm are needed for the independent status-list check (Debian: apt-get install nodejs npm)"
    if not (INTEROP / "node_modules" / "@digitalbazaar" / "vc-bitstring-status-list").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=INTEROP, check=True, timeout=600)
    return INTEROP / "decode-status-list.mjs"


def test_an_independent_implementation_reads_the_revoked_bit_and_an_independent_jose_library_the_signature(
        sqlite_network, bitstring_decoder):
    network = sqlite_network
    sync(network, as_of="2027-06-01")
    keys = network.root / "keys"
    pdfs = sorted((network.out / "leerbewijzen").rglob("*.pdf"))
    revoked = pdfs[-1]
    assert main(["leerbewijs", "revoke", revoked.stem, "--config", str(network.config_path)]) == 0
    token = (keys / "status-list.jwt").read_text().strip()

    # the signature, with jwcrypto against the public JWK of the current generation in keyring.json
    keyring = json.loads((keys / "keyring.json").read_text())
    public = jwk.JWK(**keyring["keys"][keyring["current"]]["jwk"])
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(public, alg="EdDSA")  # raises when the list was not signed by this key
    payload = json.loads(signed.payload)
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert payload["credentialSubject"]["statusPurpose"] == "revocation"
    assert payload["issuer"]["id"] == credential_of(revoked)["issuer"]["id"]
    other = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    with pytest.raises(jws.InvalidJWSSignature):
        jws.JWS().deserialize(token, other)

    # the bits, with Digital Bazaar's decoder: the revoked index set, every other index clear
    # the bits, with Digital Bazaar's checkStatus on each credential (entry shape, purpose, issuer, list type, bit)
    result = subprocess.run(["node", str(bitstring_decoder)],
                            input=json.dumps({"list": payload, "credentials": [credential_of(p) for p in pdfs]}),
                            capture_output=True, text=True, timeout=120, cwd=INTEROP)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["length"] >= 131_072
    assert found["statuses"] == [p == revoked for p in pdfs]
    assert found["setBits"] == [index_of(revoked)]  # nothing else set anywhere in the list


def test_verify_fetches_the_list_from_its_url_only_when_asked(sqlite_network, tmp_path, capsys):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    keys = sqlite_network.root / "keys"
    requests_seen: list[str] = []

    class Publisher(BaseHTTPRequestHandler):  # the partner's web server, serving the keys folder's list
        def do_GET(self) -> None:  # noqa: N802
            requests_seen.append(self.path)
            body = (keys / "status-list.jwt").read_bytes() if self.path == "/leerbewijs/status/1" else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/vc+jwt")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Publisher)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/leerbewijs/status/1"
        sqlite_network.replace('# status_list_url = "https://lerenswitchen.be/leerbewijs/status/1"', f'status_list_url = "{url}"')
        sync(sqlite_network, as_of="2027-06-01")
        pdf = sorted((sqlite_network.out / "leerbewijzen").rglob("*.pdf"))[0]
        assert credential_of(pdf)["credentialStatus"]["statusListCredential"] == url
        assert main(["leerbewijs", "revoke", pdf.stem, "--config", str(sqlite_network.config_path)]) == 0
        verifier = tmp_path / "verifier"  # an auditor with the keyring only
        verifier.mkdir()
        shutil.copy(keys / "keyring.json", verifier / "keyring.json")
        capsys.readouterr()
        assert main(["leerbewijs", "verify", str(pdf), "--keyring", str(verifier / "keyring.json")]) == 0
        assert f"status: status not checked: no status list at hand (it is published at {url})" in capsys.readouterr().out
        assert requests_seen == []  # no network by default
        assert main(["leerbewijs", "verify", str(pdf), "--keyring", str(verifier / "keyring.json"), "--fetch-status"]) == 1
        # the list, then replacements.json beside it (none published: no corrected one named)
        assert "BAD revoked" in capsys.readouterr().out and requests_seen == ["/leerbewijs/status/1", "/leerbewijs/status/replacements.json"]
    finally:
        server.shutdown()
        server.server_close()
