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


# -- the VC-JWT: sub, a kid that resolves, keys publish -------------------------------------------

def test_the_learner_id_is_a_stable_urn_uuid_per_learner_and_issuer_and_says_nothing_about_the_person():
    from connector.leerbewijs.credential import learner_subject

    first = learner_subject("https://lerenswitchen.be", "9f0c7c1e-4c1b-5d6e-8a77-2f1b1c0e0a01")
    assert first == learner_subject("https://lerenswitchen.be/", "9f0c7c1e-4c1b-5d6e-8a77-2f1b1c0e0a01")
    assert first.startswith("urn:uuid:") and len(first) == len("urn:uuid:") + 36
    assert first != learner_subject("https://other-partner.be", "9f0c7c1e-4c1b-5d6e-8a77-2f1b1c0e0a01")
    assert first != learner_subject("https://lerenswitchen.be", "another-person")


@pytest.fixture
def served(tmp_path):
    """A loopback web server for a site folder, as the partner's website would serve it."""
    import functools
    import http.server
    import threading

    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_synced_credential_carries_sub_and_a_kid_url_that_keys_publish_makes_resolve(sqlite_network, served, capsys):
    """OB 3.0 section 8.2: `sub` equals credentialSubject.id; the header's `kid` is a URI that
    dereferences to the public JWK (and then no `jwk` beside it). The files `keys publish`
    writes are served on loopback at their URLs' paths; jwcrypto, a JOSE library we do not sign
    with, verifies the token with the key fetched from the kid URL."""
    from urllib.parse import urlparse

    import jwt
    import requests
    from jwcrypto import jwk, jws
    from pypdf import PdfReader

    from connector.cli import main
    from connector.engine.sync import run_sync

    site, base = served
    assert run_sync(sqlite_network.config(), datetime(2026, 11, 22, tzinfo=ZONE)).status == "ok"
    pdfs = sorted((sqlite_network.out / "leerbewijzen").rglob("*.pdf"))
    tokens = [PdfReader(p).attachments["credential.jwt"][0].decode() for p in pdfs]
    config = str(sqlite_network.config_path)
    assert main(["keys", "publish", "--config", config, "--to", str(site)]) == 0
    printed = capsys.readouterr().out
    subjects = set()
    for token in tokens:
        header = jwt.get_unverified_header(token)
        assert "jwk" not in header and header["alg"] == "EdDSA"
        kid = urlparse(header["kid"])
        assert kid.scheme == "https" and kid.path.endswith(".json") and header["kid"] in printed
        fetched = requests.get(base + kid.path, timeout=10)
        assert fetched.status_code == 200
        key = jwk.JWK(**fetched.json())
        assert fetched.json()["kid"] == header["kid"]
        verified = jws.JWS()
        verified.deserialize(token)
        verified.verify(key, alg="EdDSA")
        claims = json.loads(verified.payload)
        assert claims["sub"] == claims["credentialSubject"]["id"] and claims["sub"].startswith("urn:uuid:")
        assert claims["iss"] == claims["issuer"]["id"] and claims["jti"] == claims["id"]
        assert any(i["hashed"] and i["identityType"] == "emailAddress" for i in claims["credentialSubject"]["identifier"])
        subjects.add(claims["sub"])
    jwks = requests.get(base + urlparse(jwt.get_unverified_header(tokens[0])["kid"]).path.rsplit("/", 1)[0] + "/jwks.json",
                        timeout=10).json()
    assert [k["kid"] for k in jwks["keys"]] == [jwt.get_unverified_header(tokens[0])["kid"]]
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert main(["keys", "publish", "--config", config, "--to", str(site)]) == 0
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before  # re-publishing writes the same bytes
    capsys.readouterr()
    assert main(["leerbewijs", "verify", *map(str, pdfs), "--config", config]) == 0


def test_each_leerbewijs_names_its_switcher_by_the_id_derived_from_the_person(sqlite_network):
    """The subject id comes from the person in the store (whose id comes from the source
    record), not from the leerbewijs: the same for every leerbewijs of one learner, different
    for two learners."""
    from pypdf import PdfReader
    from sqlalchemy import select

    from connector.engine.sync import run_sync
    from connector.leerbewijs.credential import learner_subject
    from connector.store.db import open_engine, session_factory
    from connector.store.tables import Exchange, Leerbewijs

    config = sqlite_network.config()
    run_sync(config, datetime(2026, 11, 22, tzinfo=ZONE))
    with session_factory(open_engine(sqlite_network.store_url))() as db:
        # a coach's own leerbewijs (petits-pas has coach_learning) names its coach, the holder
        expected = {number: learner_subject(config.partner.issuer_url, holder if role == "coach" else switcher)
                    for number, role, holder, switcher in db.execute(
                        select(Leerbewijs.number, Leerbewijs.role, Leerbewijs.holder_id, Exchange.switcher_id)
                        .join(Exchange, Exchange.code == Leerbewijs.exchange_code))}
    found = {pdf.stem: json.loads(PdfReader(pdf).attachments["credential.json"][0])["credentialSubject"]["id"]
             for pdf in (sqlite_network.out / "leerbewijzen").rglob("*.pdf")}
    assert found == expected and len(set(found.values())) == len(found) == 4  # three switchers and a coach in the example


def test_a_token_whose_sub_differs_from_the_subject_id_is_rejected(keys):
    import jwt

    from connector.leerbewijs.credential import CredentialInvalid, build_credential, sign, verify_token

    credential = build_credential({**MANY_SCRIPTS, "subject": "urn:uuid:00000000-0000-5000-8000-000000000001"}, PROFILE, ZONE)
    token = sign(credential, keys.current())
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == "urn:uuid:00000000-0000-5000-8000-000000000001"
    claims = {**jwt.decode(token, options={"verify_signature": False}), "sub": "urn:uuid:someone-else"}
    forged = jwt.encode(claims, keys.current().credential_key, algorithm="EdDSA", headers={"kid": keys.current().kid})
    with pytest.raises(CredentialInvalid, match="sub does not match"):
        verify_token(forged, keys.public_keys())


# -- layout -----------------------------------------------------------------------------------

def changed_share(first, second) -> float:
    """The share of pixels whose grey level differs by more than a quarter of the range."""
    from PIL import ImageChops

    if first.size != second.size:
        return 1.0
    histogram = ImageChops.difference(first, second).histogram()
    return sum(histogram[64:]) / (first.size[0] * first.size[1])


TOLERANCE = 0.005  # anti-aliasing of another poppler version stays far below; a moved line does not


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_every_language_renders_like_its_reference_image(language):
    from PIL import Image

    from tests.reference.render import reference_path, render_png

    poppler("pdftoppm")
    rendered = render_png(language)
    reference = Image.open(reference_path(language)).convert("L")
    assert changed_share(rendered, reference) < TOLERANCE, (
        f"the {language} leerbewijs no longer looks like {reference_path(language).name}; if the change is intended, "
        "regenerate with `python -m tests.reference.render` and look at the images")


def test_the_image_comparison_catches_a_layout_change():
    """The test above can fail: one more coach adds a signature line, and the page differs."""
    from PIL import Image

    from tests.reference import render

    original = render.REFERENCE
    try:
        render.REFERENCE = {**original, "coaches": [*original["coaches"], "Jérôme Lefèvre"]}
        moved = render.render_png("nl")
    finally:
        render.REFERENCE = original
    assert changed_share(moved, Image.open(render.reference_path("nl")).convert("L")) > TOLERANCE


@pytest.mark.parametrize("language", ["nl", "fr", "en"])
def test_every_word_stays_inside_the_margins_on_one_page(keys, tmp_path, language):
    """pdftotext -bbox gives each word's box: none crosses the 22 mm side margins, also with a
    long partner name and four signers; with three signers, QR block included, it is one page."""
    import re

    from tests.reference.render import REFERENCE

    content = {**REFERENCE, "language": language, "recipient": MANY_SCRIPTS["recipient"],
               "coaches": [GREEK, CYRILLIC, "Jérôme Lefèvre-Vandenbroucke"]}
    path = tmp_path / "leerbewijs.pdf"
    path.write_bytes(signed_pdf(content, fingerprint(content), keys.current(), PROFILE, ZONE))
    boxes = run(poppler("pdftotext"), "-bbox", str(path), "-")
    pages = re.findall(r'<page width="([\d.]+)"', boxes)
    two_coaches = {**content, "coaches": [GREEK, CYRILLIC]}
    path.write_bytes(signed_pdf(two_coaches, fingerprint(two_coaches), keys.current(), PROFILE, ZONE))
    assert run(poppler("pdftotext"), "-bbox", str(path), "-").count("<page ") == 1
    width = float(pages[0])
    margin = 22 * 72 / 25.4
    words = [(float(a), float(b), w) for a, b, w in re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', boxes)]
    assert len(words) > 100
    outside = [w for x_min, x_max, w in words if x_min < margin - 0.5 or x_max > width - margin + 0.5]
    assert outside == []


# -- workbooks that print ----------------------------------------------------------------------

def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    assert found, "LibreOffice is needed to check how workbooks print (Debian: apt-get install libreoffice-calc-nogui)"
    return found


def printed_pages(workbooks: list[Path], tmp_path: Path) -> dict[str, int]:
    """Each workbook converted to PDF by LibreOffice headless (its own profile, so parallel
    tests do not share one), and its pages counted by poppler's pdfinfo."""
    out = tmp_path / "printed"
    profile = tmp_path / "lo-profile"
    subprocess.run([soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                    "--convert-to", "pdf", "--outdir", str(out), *map(str, workbooks)],
                   check=True, capture_output=True, timeout=300)
    pages = {}
    for workbook in workbooks:
        info = run(poppler("pdfinfo"), str(out / f"{workbook.stem}.pdf"))
        pages[workbook.name] = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return pages


@pytest.fixture
def synced_outputs(sqlite_network, capsys) -> dict[str, Path]:
    from connector.cli import main
    from connector.engine.sync import run_sync

    assert run_sync(sqlite_network.config(), datetime(2026, 11, 22, tzinfo=ZONE)).status == "ok"
    config = str(sqlite_network.config_path)
    assert main(["report", "training", "--config", config, "--year", "2026", "--output", str(sqlite_network.out / "r")]) == 0
    assert main(["report", "organisations", "--config", config, "--year", "2026", "--organisation", "groenkracht",
                 "--output", str(sqlite_network.out / "o")]) == 0
    capsys.readouterr()
    ledgers = sorted((sqlite_network.out / "ledgers").rglob("*.xlsx"))
    assert ledgers
    return {"ledger": ledgers[0], "training": sqlite_network.out / "r" / "training-2026.xlsx",
            "organisation": next((sqlite_network.out / "o").rglob("*.xlsx"))}


def test_every_table_sheet_is_set_up_to_print(synced_outputs):
    from openpyxl import load_workbook

    for workbook_path in synced_outputs.values():
        for sheet in load_workbook(workbook_path).worksheets:
            where = f"{workbook_path.name}/{sheet.title}"
            assert sheet.page_setup.orientation == "landscape", where
            assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1, where
            assert sheet.page_setup.fitToHeight == 0, where
            assert sheet.print_title_rows and sheet.freeze_panes and sheet.auto_filter.ref, where
            header = int(sheet.print_title_rows.split(":")[0].lstrip("$"))
            assert sheet.freeze_panes == f"A{header + 1}", where
            for column in sheet.iter_cols(min_row=header + 1, max_row=sheet.auto_filter.ref and sheet.max_row):
                formats = {cell.number_format for cell in column if isinstance(cell.value, (int, float))}
                assert len(formats) <= 1, f"{where} column {column[0].column_letter}: {formats}"


def test_a_percentage_is_a_fraction_shown_as_a_percentage(synced_outputs):
    from openpyxl import load_workbook

    from connector.core.texts import text

    workbook = load_workbook(synced_outputs["organisation"])
    plan = next(s for s in workbook.worksheets if s.title == text("nl", "sheet.plan")[:31] or "plan" in s.title.lower())
    header = [cell.value for cell in plan[1]]
    column = header.index(text("nl", "col.share")) + 1
    shares = [plan.cell(row, column) for row in range(2, plan.max_row + 1) if plan.cell(row, column).value is not None]
    assert shares and all(0 <= c.value <= 5 and c.number_format == "0.0%" for c in shares)


def test_libreoffice_prints_each_sheet_on_one_page(synced_outputs, tmp_path):
    """The example's workbooks have few rows: one printed page per sheet (a two-row ledger
    printed on six pages, with its headers cut, before the page setup)."""
    from openpyxl import load_workbook

    named = {}
    for kind, path in synced_outputs.items():  # the report and the export may share a file name
        named[kind] = tmp_path / f"{kind}.xlsx"
        shutil.copyfile(path, named[kind])
    pages = printed_pages(list(named.values()), tmp_path)
    assert pages == {f"{kind}.xlsx": len(load_workbook(path).worksheets) for kind, path in named.items()}


def test_the_template_explains_its_columns_in_dutch_and_offers_the_allowed_values(tmp_path):
    from openpyxl import load_workbook

    from connector.reports.template import write_template

    workbook = load_workbook(write_template(tmp_path / "t.xlsx"))
    guide = list(workbook["Uitleg"].values)
    header = guide.index(("Tabblad", "Kolom", "Verplicht", "Betekenis", "Toegelaten waarden"))
    rows = guide[header + 1:]
    meanings = {(sheet, column): meaning for sheet, column, _, meaning, _ in rows}
    assert meanings[("Opleidingen", "Personeelsnummer")].startswith("Personeelsnummer of e-mail werk")
    english = [row for row in rows if any(word in str(row[3]) for word in ("employee number", "organisation id", "work e-mail"))]
    assert english == []  # no English field names explaining Dutch columns
    allowed = {(sheet, column): choices for sheet, column, _, _, choices in rows if choices}
    assert allowed[("Uitwisselingen", "Status")] == "voorgesteld, bevestigd, geannuleerd, afgerond"
    assert allowed[("Sessies", "Soort")] == "kennismaking, uitwisselingsdag, reflectie, evaluatie"
    lists = {(sheet.title, str(v.sqref)): v.formula1 for sheet in workbook.worksheets for v in sheet.data_validations.dataValidation}
    assert lists[("Opleidingen", "F2:F1000")] == '"formeel,informeel"'
    assert lists[("Medewerkers", "E2:E1000")] == '"NL,FR,EN"'
    assert lists[("Sessies", "G2:G1000")] == '"ter plaatse,online"'
    # every guide row high enough for its wrapped text: no row overlaps the next in LibreOffice
    sheet = workbook["Uitleg"]
    for row in range(header + 2, sheet.max_row + 1):
        meaning = str(sheet.cell(row, 4).value or "")
        assert sheet.row_dimensions[row].height >= 15 * -(-len(meaning) // 70), row


def test_libreoffice_prints_the_template_with_the_guide_header_on_every_page(tmp_path):
    """One page per entity sheet; the guide's table header repeated on each of its pages."""
    from openpyxl import load_workbook

    from connector.reports.template import write_template

    path = write_template(tmp_path / "template.xlsx")
    sheets = load_workbook(path).worksheets
    pages = printed_pages([path], tmp_path)["template.xlsx"]
    guide_pages = pages - (len(sheets) - 1)
    assert 1 <= guide_pages <= 4, pages  # a few pages of rows, never one per column
    text = run(poppler("pdftotext"), "-layout", "-l", str(guide_pages), str(tmp_path / "printed" / "template.pdf"), "-")
    assert text.count("Toegelaten waarden") == guide_pages


# -- PDF/A-3b --------------------------------------------------------------------------------------

def test_the_signed_leerbewijs_identifies_itself_as_pdf_a_3b_and_holds_what_that_requires(signed):
    """No veraPDF ships from PyPI, Debian or npm; as decisions.md asks, pypdf (a library we do
    not write with) checks the parts PDF/A-3b (ISO 19005-3) rests on: XMP identification and
    metadata equal to the document information, an sRGB output intent, embedded fonts, the
    credential as associated files, PDF 1.7 (not 2.0), the language."""
    from pypdf import PdfReader
    from pypdf.generic import IndirectObject

    reader = PdfReader(signed)
    root = reader.trailer["/Root"]
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = root["/Metadata"].get_object()
    assert "/Filter" not in raw  # an unfiltered metadata stream
    description = raw.get_data().decode("utf-8")
    assert 'pdfaid:part="3"' in description and 'pdfaid:conformance="B"' in description
    assert description.count("pdfaid:part") == 1
    info = reader.metadata
    assert xmp.dc_title == {"x-default": info.title} and xmp.dc_creator == [info.author]
    assert xmp.dc_description == {"x-default": info.subject}
    assert xmp.xmp_creator_tool == info.creator and xmp.pdf_producer == info.producer
    assert xmp.xmp_create_date.replace(tzinfo=None) == info.creation_date.replace(tzinfo=None)
    assert "/Keywords" not in reader.trailer["/Info"] and "/Trapped" not in reader.trailer["/Info"]
    [intent] = root["/OutputIntents"]
    intent = intent.get_object()
    assert intent["/S"] == "/GTS_PDFA1" and intent["/OutputConditionIdentifier"] == "sRGB IEC61966-2.1"
    profile = intent["/DestOutputProfile"].get_object()
    icc = profile.get_data()
    assert profile["/N"] == 3 and icc[36:40] == b"acsp" and icc[16:20] == b"RGB " and len(icc) == int.from_bytes(icc[:4], "big")
    assert root["/Version"] == "/1.7" and "/ISO_" not in root.get("/Extensions", {})
    assert root["/Lang"] == "nl-BE"
    associated = [ref.get_object() for ref in root["/AF"]]
    assert sorted(spec["/F"] for spec in associated) == ["credential.json", "credential.jwt"]
    assert all(spec["/AFRelationship"] == "/Source" and spec["/UF"] == spec["/F"] for spec in associated)
    assert all("/Subtype" in spec["/EF"]["/F"].get_object() for spec in associated)  # MIME type of each file
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object() if isinstance(font, IndirectObject) else font
        assert "/FontFile2" in font["/FontDescriptor"], font["/BaseFont"]
    for annotation in reader.pages[0]["/Annots"]:
        annotation = annotation.get_object()
        assert annotation["/F"] & 4  # printable (the signature's widget is zero-sized, so it needs no appearance)


# -- trusted time: RFC 3161 (PAdES B-T) -----------------------------------------------------------

@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    """A time-stamping authority on loopback: an HTTP server that hands each RFC 3161 request
    to `openssl ts -reply` (OpenSSL's TSA, not ours), with a TSA certificate made for the test."""
    import http.server
    import threading
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed for the loopback time-stamping authority (Debian: apt-get install openssl)"
    folder = tmp_path_factory.mktemp("tsa")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loopback TSA"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tests")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                                crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
                   .sign(key, hashes.SHA256()))
    (folder / "tsa.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (folder / "serial").write_text("01\n")
    (folder / "ts.cnf").write_text(f"""[ tsa ]
default_tsa = loopback
[ loopback ]
serial = {folder / 'serial'}
signer_digest = sha256
default_policy = 1.3.6.1.4.1.4146.2.3
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
    answered = []

    class Authority(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            request = self.rfile.read(int(self.headers["Content-Length"]))
            with tempfile_in(folder) as (query, reply):
                query.write_bytes(request)
                subprocess.run([openssl, "ts", "-reply", "-config", str(folder / "ts.cnf"), "-queryfile", str(query),
                                "-signer", str(folder / "tsa.pem"), "-inkey", str(folder / "tsa.key"), "-out", str(reply)],
                               check=True, capture_output=True, timeout=60)
                body = reply.read_bytes()
            answered.append(len(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Authority)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "certificate": folder / "tsa.pem", "answered": answered}
    server.shutdown()
    server.server_close()


def tempfile_in(folder: Path):
    import contextlib
    import uuid

    @contextlib.contextmanager
    def pair():
        stem = folder / uuid.uuid4().hex
        query, reply = stem.with_suffix(".tsq"), stem.with_suffix(".tsr")
        try:
            yield query, reply
        finally:
            query.unlink(missing_ok=True)
            reply.unlink(missing_ok=True)

    return pair()


def test_with_a_time_stamping_authority_the_signature_carries_an_rfc_3161_timestamp(keys, tsa, tmp_path):
    from asn1crypto import cms, tsp
    from pypdf import PdfReader

    from connector.leerbewijs.proof import verify

    path = tmp_path / "stamped.pdf"
    path.write_bytes(signed_pdf(MANY_SCRIPTS, fingerprint(MANY_SCRIPTS), keys.current(), PROFILE, ZONE, tsa_url=tsa["url"]))
    assert tsa["answered"], "the authority was never asked"
    verdict = verify(str(path), keys.public_keys())
    assert verdict.ok, verdict.lines()
    assert "the timestamp matches the signature" in [message for _, message in verdict.checks]
    assert "RFC 3161 timestamp by" in verdict.facts["trusted time"] and "Loopback TSA" in verdict.facts["trusted time"]
    assert "Signature is Valid." in run(poppler("pdfsig"), str(path))

    # independently: the timestamp token in the CMS, checked by `openssl ts -verify` against the
    # signature value it stamps (RFC 3161 section 2.4.2: the message imprint is its hash)
    contents = PdfReader(path).get_fields()["Leerbewijs"]["/V"]["/Contents"]
    signed_data = cms.ContentInfo.load(bytes(contents).rstrip(b"\0"))["content"]
    signer_info = signed_data["signer_infos"][0]
    token = next(a["values"][0] for a in signer_info["unsigned_attrs"] if a["type"].native == "signature_time_stamp_token")
    (tmp_path / "token.der").write_bytes(token.dump())
    (tmp_path / "signature.bin").write_bytes(signer_info["signature"].native)
    checked = subprocess.run(["openssl", "ts", "-verify", "-token_in", "-in", str(tmp_path / "token.der"),
                              "-data", str(tmp_path / "signature.bin"), "-CAfile", str(tsa["certificate"]),
                              "-untrusted", str(tsa["certificate"])], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stdout + checked.stderr
    assert tsp.TSTInfo.load(token["content"]["encap_content_info"]["content"].parsed.dump())["policy"].dotted == "1.3.6.1.4.1.4146.2.3"


def test_without_a_time_stamping_authority_verify_says_the_time_is_the_issuers_clock(signed, keys):
    from connector.leerbewijs.proof import verify

    verdict = verify(str(signed), keys.public_keys())
    assert verdict.ok
    assert verdict.facts["trusted time"].startswith("none: no timestamp from a time-stamping authority")


def test_an_unreachable_time_stamping_authority_fails_the_leerbewijs_target_for_this_run_only(sqlite_network, tsa):
    """No leerbewijs leaves without the trusted time it is configured to have; the run goes on
    and the next run, with the authority back, issues them (pyHanko's TimestampRequestError is
    an OSError, which the engine books as a failed write to retry)."""
    import socket

    from connector.engine.sync import run_sync

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    source = sqlite_network.config_path.read_text(encoding="utf-8")
    sqlite_network.config_path.write_text(source.replace("[signing]\n", f'[signing]\ntsa_url = "http://127.0.0.1:{dead}/"\n', 1),
                                          encoding="utf-8")
    first = run_sync(sqlite_network.config(), datetime(2026, 11, 22, tzinfo=ZONE))
    assert first.status != "ok"
    assert not list((sqlite_network.out / "leerbewijzen").rglob("*.pdf"))  # (rglob of a missing folder finds nothing)
    sqlite_network.config_path.write_text(source.replace("[signing]\n", f'[signing]\ntsa_url = "{tsa["url"]}"\n', 1), encoding="utf-8")
    second = run_sync(sqlite_network.config(), datetime(2026, 11, 22, 1, tzinfo=ZONE))
    pdfs = list((sqlite_network.out / "leerbewijzen").rglob("*.pdf"))
    assert second.status == "ok" and len(pdfs) == 4  # three switchers' and the petits-pas coach's
    from connector.leerbewijs.issuer import KeyStore
    from connector.leerbewijs.proof import verify

    keyring = KeyStore.of(sqlite_network.config()).public_keys()
    assert all("RFC 3161" in verify(str(pdf), keyring).facts["trusted time"] for pdf in pdfs)
