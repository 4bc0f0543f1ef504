"""Workbooks whose bytes depend on their content only.

openpyxl stamps the document properties and every zip entry with the current time, so
the same rows saved a second later differ byte for byte. Ledgers and reports must not:
a re-run with unchanged data leaves them identical, and a crash-and-rerun produces the
same file as an undisturbed run.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook

FIXED_TIME = datetime(2000, 1, 1)
# openpyxl sets dcterms:modified to "now" while saving, whatever the properties say.
MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def workbook_bytes(workbook: Workbook) -> bytes:
    workbook.properties.created = workbook.properties.modified = FIXED_TIME
    saved = io.BytesIO()
    workbook.save(saved)
    stable = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(saved.getvalue())) as source, zipfile.ZipFile(stable, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = entry.external_attr
            content = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                content = MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            target.writestr(fixed, content)
    return stable.getvalue()


# -- printing ------------------------------------------------------------------------------------

# One number format per kind of column, by the column's name (the same names in every workbook).
DATE_FORMAT = "DD/MM/YYYY"  # Belgian notation
HOURS_FORMAT = "#,##0.00"
COUNT_FORMAT = "0"
PERCENT_FORMAT = "0.0%"  # the cell holds a fraction (0.124), Excel and LibreOffice show 12.4%
_FORMATS = (
    (("date", "start", "end", "issued_on"), DATE_FORMAT),
    (("share",), PERCENT_FORMAT),
    (("workers", "months_begun", "informal_participants", "without_training", "year"), COUNT_FORMAT),
    (("hours", "days", "fte", "value", "cost"), HOURS_FORMAT),
)
A4 = 9  # the paperSize code of A4 in SpreadsheetML (ECMA-376 part 1, 18.3.1.63)


def column_format(name: str) -> str | None:
    """The number format of a column named `name`: dates, a percentage, a count or an amount
    (hours, days, FTE) with two decimals; None for text columns. Names match on their words:
    "informal_hours_men" is an amount, "informal_participants_women" a count."""
    words = name.split("_")
    for keys, number_format in _FORMATS:
        if any(key in words or name == key for key in keys):
            return number_format
    return None


def print_ready(sheet: Any, columns: list[str], header_row: int = 1, last_row: int | None = None,
                min_width: int = 8, max_width: int = 60) -> None:
    """Make a table sheet print well and read well, in Excel and LibreOffice alike:
    A4 landscape, fit to one page wide (as many pages down as needed), the header row repeated
    on every printed page, panes frozen below it, an auto filter over the table, one number
    format per column (`column_format` of its name, on every data cell), and column widths that
    fit the longest value (in characters, between `min_width` and `max_width`).

    `columns` are the table's column names in order, its header in `header_row`; the data runs
    to `last_row` (default: the sheet's last row). Values are not changed here."""
    from openpyxl.utils import get_column_letter

    last_row = last_row or sheet.max_row
    last_letter = get_column_letter(len(columns))
    for index, name in enumerate(columns, start=1):
        number_format = column_format(name)
        widest = 0
        for (cell,) in sheet.iter_rows(min_row=header_row, max_row=last_row, min_col=index, max_col=index):
            if number_format and cell.row > header_row and isinstance(cell.value, (int, float, datetime, date)):
                cell.number_format = number_format
            widest = max(widest, _shown_width(cell.value))
        sheet.column_dimensions[get_column_letter(index)].width = max(min_width, min(max_width, widest + 2))
    sheet.freeze_panes = sheet.cell(header_row + 1, 1)
    sheet.auto_filter.ref = f"A{header_row}:{last_letter}{max(last_row, header_row)}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.paperSize = A4
    sheet.page_setup.orientation = "landscape"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0  # 0: as many pages down as the rows need
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.4  # inches
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6


def _shown_width(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, (datetime, date)):
        return 10
    if isinstance(value, float):
        return len(f"{value:,.2f}")
    return max((len(line) for line in str(value).splitlines()), default=0)
