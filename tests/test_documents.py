"""Documents people file (#15), checked with tools nobody here wrote: poppler's pdftotext,
pdffonts, pdfsig and pdftoppm read the leerbewijs, jwcrypto its VC-JWT, LibreOffice the
workbooks. Poppler comes from Debian's poppler-utils (`.ci/run` installs it when missing)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from connector.leerbewijs.credential import recipient_identity
from connector.leerbewijs.document import fingerprint, render_pdf
from connector.leerbewijs.issuer import IssuerProfile, KeyStore
from connector.leerbewijs.proof import signed_pdf
from tests.test_leerbewijs import CONTENT

PROFILE = IssuerProfile("https://lerenswitchen.be", "Netwerk Leren Switchen vzw", "https://lerenswitchen.be", "switch@lerenswitchen.be")
ZONE = ZoneInfo("Europe/Brussels")
NOW = datetime(2027, 5, 20, 9, tzinfo=UTC)
LEARNER = "Łukasz Şükrü Dąbrowski-Yılmaz"
GREEK = "Αλέξανδρος Παπαδόπουλος"
CYRILLIC = "Дмитрий Иванов"
SALT = "5f1c0a9e2b7d4c11"
MANY_SCRIPTS = {**CONTENT, "switcher": {"name": LEARNER, "employee_number": "G7"}, "coaches": [GREEK, CYRILLIC],
                "recipient": {"salt": SALT, "identity_hash": recipient_identity("lukasz@groenkracht.be", SALT),
                              "identity_type": "emailAddress"}}


def poppler(tool: str) -> str:
    found = shutil.which(tool)
    assert found, f"{tool} is needed for the independent PDF checks (Debian: apt-get install poppler-utils)"
    return found


def run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def keys(tmp_path) -> KeyStore:
    store = KeyStore(tmp_path / "keys")
    store.init(PROFILE, NOW)
    return store


@pytest.fixture
def signed(keys, tmp_path) -> Path:
    path = tmp_path / "LB-2027-0001.pdf"
    path.write_bytes(signed_pdf(MANY_SCRIPTS, fingerprint(MANY_SCRIPTS), keys.current(), PROFILE, ZONE, with_name=True))
    return path


# -- fonts ------------------------------------------------------------------------------------

def test_pdftotext_reads_every_name_exactly_as_the_hr_system_has_it(signed):
    text = run(poppler("pdftotext"), "-enc", "UTF-8", str(signed), "-")
    flat = " ".join(text.split())
    for name in (LEARNER, GREEK, CYRILLIC):
        assert name in flat, name
    assert "Leercoaches" in flat  # two coaches: the plural label


def test_pdffonts_lists_only_embedded_subset_unicode_fonts(signed):
    lines = run(poppler("pdffonts"), str(signed)).splitlines()[2:]
    assert lines, "no fonts at all"
    for line in lines:
        columns = line.split()
        name, (emb, sub, uni) = columns[0], columns[-5:-2]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), line
        assert "+" in name  # a subset's tag
    names = {line.split()[0].split("+")[1] for line in lines}
    assert {"FiraSans-Regular", "FiraSans-Bold", "FiraSans-Italic", "IBMPlexMono-Regular"} <= names


def test_pdfsig_reports_the_signature_valid(signed):
    out = run(poppler("pdfsig"), str(signed))
    assert "Signature Validation: Signature is Valid." in out
    assert "Total document signed" in out  # the signature covers the whole file


def test_the_embedded_credential_names_the_learner_exactly(signed):
    from pypdf import PdfReader

    files = PdfReader(signed).attachments
    credential = json.loads(files["credential.json"][0])
    names = [i["identityHash"] for i in credential["credentialSubject"]["identifier"] if not i["hashed"]]
    assert names == [LEARNER]


def test_the_fonts_keep_re_runs_byte_identical():
    assert render_pdf(MANY_SCRIPTS, "a" * 64) == render_pdf(MANY_SCRIPTS, "a" * 64)


def test_the_document_states_its_language():
    from pypdf import PdfReader

    for language, tag in (("nl", "nl-BE"), ("fr", "fr-BE"), ("en", "en")):
        reader = PdfReader(io.BytesIO(render_pdf({**CONTENT, "language": language}, "a" * 64)))
        assert reader.trailer["/Root"]["/Lang"] == tag
