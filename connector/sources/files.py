"""CSV and XLSX files: the embedded default, and the real path for small employers.

Options: `path` is a folder holding one file per entity (`medewerkers.csv`,
`opleidingen.xlsx`...) or one workbook with a sheet per entity. The mapping names them
with `file = "medewerkers"` and `sheet = "Medewerkers"`. CSV may use `;` or `,`, and come
in UTF-8 with or without BOM or in Windows-1252, which is what Belgian Excel writes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from connector.core.errors import SourceUnavailable
from connector.core.mapping import EntityMapping
from connector.sources import Pull, RemoteRecord, Source


class FileSource(Source):
    kind = "files"

    @property
    def root(self) -> Path:
        return self.context.base_dir / str(self.config.options.get("path", "."))

    def problems(self) -> list[str]:
        if "path" not in self.config.options:
            return [f"source '{self.config.name}': `path` is missing (a folder or an .xlsx workbook)"]
        if not self.root.exists():
            return [f"source '{self.config.name}': {self.root} does not exist"]
        return []

    def pull(self, entity: EntityMapping, cursor: str | None) -> Pull:
        stem = str(entity.options.get("file", entity.entity))
        sheet = str(entity.options.get("sheet", stem))
        if self.root.is_file():
            return Pull(records=_read_sheet(self.root, sheet))
        for candidate in (self.root / f"{stem}.csv", self.root / f"{stem}.xlsx"):
            if candidate.is_file():
                reader = _read_csv if candidate.suffix == ".csv" else _read_first_sheet
                return Pull(records=reader(candidate))
        raise SourceUnavailable(f"no {stem}.csv or {stem}.xlsx in {self.root}")


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def _read_csv(path: Path) -> Iterator[RemoteRecord]:
    text = _decode(path.read_bytes())
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    yield from _rows_to_records(path.name, reader)


def _read_sheet(path: Path, sheet: str) -> Iterator[RemoteRecord]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        if sheet not in workbook.sheetnames:
            raise SourceUnavailable(f"no sheet '{sheet}' in {path.name} (sheets: {', '.join(workbook.sheetnames)})")
        yield from _rows_to_records(f"{path.name} sheet '{sheet}'", workbook[sheet].iter_rows(values_only=True))
    finally:
        workbook.close()


def _read_first_sheet(path: Path) -> Iterator[RemoteRecord]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        yield from _rows_to_records(path.name, workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()


def _rows_to_records(where: str, rows: Any) -> Iterator[RemoteRecord]:
    header: list[str] | None = None
    for number, row in enumerate(rows, start=1):
        cells = list(row)
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if header is None:
            header = [str(c).strip() if c is not None else "" for c in cells]
            continue
        record = {name: cells[i] if i < len(cells) else None for i, name in enumerate(header) if name}
        yield RemoteRecord(raw=record, location=f"{where} row {number}")


SOURCE = FileSource
