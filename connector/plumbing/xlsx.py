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
from datetime import datetime

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
