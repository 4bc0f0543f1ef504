"""Small defects a reviewer found in the documents people file (#15), each with a test that
failed before its fix: French typography on the leerbewijs, one drop-down per template column."""

from __future__ import annotations

import re
import zipfile
from collections import Counter

from connector.reports.template import write_template


def test_each_template_column_has_its_drop_down_once_in_the_sheet_xml(tmp_path):
    """Read from the XLSX parts themselves: a range validated twice (the Sessies sheet's
    Aanwezigheid did) is a second <dataValidation> that Excel offers to repair."""
    path = write_template(tmp_path / "t.xlsx", organisations=[("groenkracht", "Groenkracht"), ("zorgnet", "Zorgnet")])
    with zipfile.ZipFile(path) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/sheet")]
        twice = {}
        for name in sheets:
            xml = archive.read(name).decode("utf-8")
            ranges = Counter(re.findall(r'<dataValidation [^>]*sqref="([^"]+)"', xml))
            twice.update({f"{name} {sqref}": count for sqref, count in ranges.items() if count > 1})
        assert twice == {}
    from openpyxl import load_workbook

    sessions = load_workbook(path)["Sessies"]
    column = next(cell.column_letter for cell in sessions[1] if cell.value == "Aanwezigheid")
    offered = [v.formula1 for v in sessions.data_validations.dataValidation if f"{column}2:{column}1000" in str(v.sqref)]
    assert offered == ['"aanwezig,afwezig,onbekend"']


# -- French typography on the leerbewijs ------------------------------------------------------

def french_text(question: str) -> str:
    """pdftotext's reading of the French reference leerbewijs (poppler: independent of ReportLab)."""
    import subprocess

    from connector.leerbewijs.document import render_pdf
    from tests.reference.render import CHECK, REFERENCE

    pdf = render_pdf({**REFERENCE, "language": "fr", "question": question}, "0" * 64, CHECK)
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60).stdout.decode()


def test_the_french_leerbewijs_puts_a_space_before_each_colon():
    reading = french_text("Comment organiser le planning ?").replace("\u00a0", " ")
    assert "Empreinte numérique (SHA-256) du contenu :" in reading
    assert "Code de contrôle : " in reading
    assert "contenu:" not in reading and "contrôle:" not in reading


def test_a_french_question_mark_never_wraps_onto_a_line_of_its_own():
    """With a breakable space before it, "?" went to the next line at these lengths; also when
    the sheet has it against the word, the line breaks before the word, not before the sign."""
    for padding in range(14, 22):
        for ending in (" ?", "?"):
            question = "Comment organiser " + "le planning " * 3 + "x" * padding + ending
            lines = [line.replace("\u00a0", " ").strip() for line in french_text(question).splitlines()]
            assert not [line for line in lines if line.startswith(("?", "»"))], (padding, ending)
            assert [line for line in lines if line.endswith("x" * padding + " ? »")], (padding, ending)


def test_typeset_follows_the_french_rule_and_leaves_other_languages_alone():
    from connector.core.texts import typeset

    assert typeset("fr", "Code : A ; b ! c? « d » https://x.be 16:00") == \
        "Code\u00a0: A\u00a0; b\u00a0! c\u00a0? «\u00a0d\u00a0» https://x.be 16:00"
    assert typeset("nl", "Code : A ?") == "Code : A ?"
    assert typeset("en", "Code: A?") == "Code: A?"
