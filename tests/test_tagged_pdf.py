"""The leerbewijs as tagged PDF (issue 15, item 2): a structure tree that screen readers follow
in reading order, checked with tools nobody here wrote: poppler's `pdfinfo` ("Tagged: yes",
`-struct-text` prints the tree with each element's text), `pdfsig` (the signature still
covers everything) and pypdf (reads the content stream's marked content)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from connector.leerbewijs.document import fingerprint
from connector.leerbewijs.proof import signed_pdf
from tests.test_documents import CYRILLIC, GREEK, LEARNER, MANY_SCRIPTS, PROFILE, ZONE, keys, poppler, run  # noqa: F401

COACH_CONTENT = {**{k: v for k, v in MANY_SCRIPTS.items() if k not in ("switcher", "sender")}, "role": "coach", "language": "fr",
                 "holder": {"name": GREEK, "employee_number": "P04"},
                 "employer": {"name": "Crèche Les Petits Pas asbl", "enterprise_number": "0445.678.901"},
                 "coaches": [GREEK]}


@pytest.fixture
def tagged(keys, tmp_path) -> Path:  # noqa: F811 (the fixture imported above)
    path = tmp_path / "LB-2027-0001.pdf"
    path.write_bytes(signed_pdf(MANY_SCRIPTS, fingerprint(MANY_SCRIPTS), keys.current(), PROFILE, ZONE))
    return path


def structure(path: Path) -> list[tuple[int, str, str]]:
    """(depth, structure type, text) of every element `pdfinfo -struct-text` prints, in order."""
    elements: list[tuple[int, str, str]] = []
    for line in run(poppler("pdfinfo"), "-struct-text", str(path)).splitlines():
        depth = (len(line) - len(line.lstrip(" "))) // 2
        stripped = line.strip()
        if stripped.startswith('"'):
            kind_depth, kind, _ = elements[-1]
            elements[-1] = (kind_depth, kind, stripped.strip('"'))
        elif stripped:
            elements.append((depth, stripped.split(" ", 1)[0], ""))
    return elements


def test_pdfinfo_says_tagged_and_the_document_shows_its_title(tagged):
    info = run(poppler("pdfinfo"), str(tagged))
    assert re.search(r"^Tagged:\s+yes$", info, re.M), info
    from pypdf import PdfReader

    catalog = PdfReader(tagged).trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] == True and catalog["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    assert catalog["/Lang"] == "nl-BE"


def test_the_structure_tree_reads_the_leerbewijs_in_order(tagged):
    """The reading order a screen reader follows: title, intro, question, the details table row
    by row (label, value), the days table with its header, the kind, signers, fingerprint, check."""
    tree = structure(tagged)
    assert tree[0] == (0, "Document", "")
    texts = [text for _, _, text in tree if text]
    expected = ["Netwerk Leren Switchen vzw", "Leerbewijs", "Leeruitwisseling volgens de methode Switching Talent",
                f"Netwerk Leren Switchen vzw verklaart dat {LEARNER} van Atelier Groenkracht cv deelnam aan een leeruitwisseling "
                "op de werkvloer van Crèche Les Petits Pas asbl, als antwoord op de volgende leervraag:",
                "“Hoe kook ik voor een grote groep – zonder verspilling?”",
                "Switcher", LEARNER, "Uitsturende werkgever", "Atelier Groenkracht cv (0423.456.789)",
                "Ontvangende organisatie", "Crèche Les Petits Pas asbl", "Leerplek", "Cuisine et alimentation saine",
                "Leercoaches", f"{GREEK}, {CYRILLIC}", "Nummer", "LB-2027-0001", "Uitgereikt op", "20 mei 2027",
                "Leeruitwisselingsdagen", "Datum", "Uren", "11 mei 2027", "7,5", "12 mei 2027", "6,5", "Totaal", "14"]
    assert texts[:len(expected)] == expected
    rest = texts[len(expected):]
    assert rest[0].startswith("Informele opleiding") and rest[1] == "Voor Netwerk Leren Switchen vzw"
    assert rest[2:6] == ["Leercoach", GREEK, "Leercoach", CYRILLIC]
    assert rest[6] == f"Digitale vingerafdruk (SHA-256) van de inhoud: {fingerprint(MANY_SCRIPTS)}"
    assert rest[-1].startswith("Digitaal ondertekend door") and re.search(r"Controlecode: [A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$", rest[-1])
    kinds = [(depth, kind) for depth, kind, _ in tree]
    assert kinds[1:3] == [(1, "P"), (1, "H1")] and (1, "H2") in kinds and (1, "BlockQuote") in kinds
    tables = [i for i, (depth, kind) in enumerate(kinds) if kind == "Table"]
    assert len(tables) == 2 and kinds[tables[1] + 1:tables[1] + 4] == [(2, "TR"), (3, "TH"), (4, "P")]


def test_every_shown_text_is_tagged_or_an_artifact_and_the_signature_still_holds(tagged):
    """Walk the page's content stream (pypdf's parser): each text-showing operator lies inside a
    marked-content sequence with an MCID or inside an /Artifact; the MCIDs are 0, 1, 2..."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(tagged)
    page = reader.pages[0]
    stack: list[str] = []
    mcids: list[int] = []
    loose = []
    for operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"BDC":
            stack.append(str(operands[0]))
            mcids.append(int(operands[1]["/MCID"]))
        elif operator == b"BMC":
            stack.append(str(operands[0]))
        elif operator == b"EMC":
            stack.pop()
        elif operator in (b"Tj", b"TJ", b"'", b'"') and not stack:
            loose.append(operands)
    assert loose == [] and stack == []
    assert mcids == list(range(len(mcids))) and len(mcids) > 30
    assert page["/StructParents"] == 0
    parents = reader.trailer["/Root"]["/StructTreeRoot"]["/ParentTree"]["/Nums"]
    assert parents[0] == 0 and len(parents[1].get_object()) == len(mcids)
    signature = run(poppler("pdfsig"), str(tagged))
    assert "Signature is Valid." in signature and "Total document signed" in signature


def test_a_coachs_french_leerbewijs_is_tagged_in_its_own_order(keys, tmp_path):  # noqa: F811
    path = tmp_path / "LB-2027-C0001.pdf"
    path.write_bytes(signed_pdf(COACH_CONTENT, fingerprint(COACH_CONTENT), keys.current(), PROFILE, ZONE))
    texts = [text.replace("\u00a0", " ") for _, _, text in structure(path) if text]
    assert texts[1] == "Attestation d'apprentissage"
    assert texts[3].startswith(f"Netwerk Leren Switchen vzw atteste que {GREEK}, de Crèche Les Petits Pas asbl, a accueilli comme coach")
    assert texts[5:9] == ["Coach", GREEK, "Employeur", "Crèche Les Petits Pas asbl (0445.678.901)"]
    assert LEARNER not in " ".join(texts)  # the coach's proof does not name the switcher
    assert "Tagged:          yes" in run(poppler("pdfinfo"), str(path))
    assert "Signature is Valid." in run(poppler("pdfsig"), str(path))


def test_the_tree_test_can_fail_an_untagged_leerbewijs_reads_as_no_structure(tmp_path):
    """Without tags (render_pdf as before this item), poppler finds no structure: the tests
    above would fail on the old output."""
    from connector.leerbewijs.document import render_pdf

    path = tmp_path / "plain.pdf"
    path.write_bytes(render_pdf(MANY_SCRIPTS, fingerprint(MANY_SCRIPTS)))
    assert re.search(r"^Tagged:\s+no$", run(poppler("pdfinfo"), str(path)), re.M)
    result = subprocess.run([poppler("pdfinfo"), "-struct-text", str(path)], capture_output=True, text=True, timeout=60)
    assert "Document" not in result.stdout
