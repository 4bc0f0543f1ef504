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
