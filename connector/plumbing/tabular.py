"""Reading the tables people export: CSV and XLSX files as Excel, LibreOffice, WPS Office and
HR systems really write them.

`open_table(path, sheet=None, headers=())` finds the header row and returns a `Table`: its
`header` and its `rows`, one `Row` per data row: `cells` maps each header to the cell's value
(text from CSV; str, int, float, datetime or `UnreadableValue` from XLSX), and `location` says
where a person finds the row again ("medewerkers.csv row 7"). A row that could not be read at
all comes with `problem` set and no cells: the caller reports it and, since it does not know
whose row it was, must not treat absent records as removed.

The header row is the first non-blank row holding one of `headers` (the columns the mapping
reads), so title lines above it ("Personeelslijst per 1/11") are passed over; without
`headers`, the first non-blank row.

Raises `SourceUnavailable` for a file that cannot be read as a whole (missing sheet, not a
workbook, no header row).

Text encodings (a file has one; which one is decided by rules, not by statistics, because
a wrong guess silently misspells names):
- a byte-order mark decides: UTF-8, or UTF-16 (Excel's "Unicode text", tab-separated);
- else UTF-8 when every line is valid UTF-8 (the default of current tools);
- else Windows-1252 (Belgian Excel's "CSV (separated by semicolons)") when no line holds a
  UTF-8 sequence;
- else the file mixes both (rows pasted from another export): UTF-8, and each line that is
  not valid UTF-8 is a row with a problem naming the line.
The delimiter is the one of `;`, `,` and tab that the header line uses most.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from connector.core.errors import SourceUnavailable
from connector.core.mapping import UnreadableValue

DELIMITERS = (";", ",", "\t")
UTF8, WINDOWS = "utf-8", "cp1252"


@dataclass(frozen=True)
class Row:
    cells: dict[str, Any]
    location: str
    problem: str | None = None


@dataclass
class _Decoded:
    """The lines of a text file and the 1-based numbers of lines that could not be decoded."""

    encoding: str
    lines: list[str]
    bad_lines: dict[int, str] = field(default_factory=dict)  # line number -> why


@dataclass
class Table:
    where: str  # "medewerkers.csv", "cohort.xlsx sheet 'Sessies'"
    header: list[str]
    rows: Iterator[Row]


RawRows = Iterator[tuple[list[Any], str | None]]  # cells, or the problem of a row that could not be read


def open_table(path: Path, sheet: str | None = None, headers: Collection[str] = ()) -> Table:
    """The table in a CSV file, or in `sheet` (default: the first) of an XLSX workbook."""
    where, raw = _read_csv(path) if path.suffix.lower() == ".csv" else _read_workbook(path, sheet)
    return _table(where, raw, {h.strip().casefold() for h in headers})


def read_table(path: Path, sheet: str | None = None) -> Iterator[Row]:
    """The data rows of `open_table(path, sheet)`."""
    return open_table(path, sheet).rows


# -- CSV ----------------------------------------------------------------------------------

def decode_lines(data: bytes) -> _Decoded:
    """Split `data` into text lines (ends kept) by the rules in the module docstring."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _decode_whole(data, encoding)
    raw_lines = data.splitlines(keepends=True)
    utf8_evidence = any(not line.isascii() and _is_utf8(line) for line in raw_lines)
    all_utf8 = all(_is_utf8(line) for line in raw_lines)
    encoding = UTF8 if all_utf8 or utf8_evidence else WINDOWS
    decoded = _Decoded(encoding, [])
    for number, line in enumerate(raw_lines, start=1):
        try:
            decoded.lines.append(line.decode(encoding))
        except UnicodeDecodeError as error:
            decoded.lines.append(line.decode(encoding, errors="replace"))
            decoded.bad_lines[number] = _why_not(line, encoding, error)
    return decoded


def _decode_whole(data: bytes, encoding: str) -> _Decoded:
    try:
        return _Decoded(encoding, data.decode(encoding).splitlines(keepends=True))
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        text = data.decode(encoding, errors="replace").splitlines(keepends=True)
        return _Decoded(encoding, text, {line: f"is not valid {encoding.removesuffix('-sig').upper()} although the file says so"})


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode(UTF8)
    except UnicodeDecodeError:
        return False
    return True


def _why_not(line: bytes, encoding: str, error: UnicodeDecodeError) -> str:
    if encoding == UTF8:
        sample = line[max(error.start - 12, 0):error.start + 12].decode(WINDOWS, errors="replace").strip()
        return (f"is not UTF-8 like the rest of the file (it looks like Windows-1252 near '{sample}'); "
                "save the file again as 'CSV UTF-8' or re-type the row")
    return f"holds bytes that are neither UTF-8 nor Windows-1252 (byte {line[error.start]:#04x}); save the file again as 'CSV UTF-8'"


def _read_csv(path: Path) -> tuple[str, RawRows]:
    try:
        decoded = decode_lines(path.read_bytes())
    except OSError as error:
        raise SourceUnavailable(f"{path.name} cannot be read: {error.strerror or error}") from None
    # The delimiter the most lines use most: a title line above the header has none.
    delimiter = max(DELIMITERS, key=lambda d: sum(line.count(d) for line in decoded.lines[:50]))
    reader = csv.reader(decoded.lines, delimiter=delimiter)
    return path.name, _with_line_problems(reader, decoded.bad_lines)


def _with_line_problems(reader: Any, bad_lines: dict[int, str]) -> RawRows:
    """Each parsed row with the problem of an undecodable line it spans, if any."""
    last_line = 0
    for cells in reader:
        spanned = range(last_line + 1, reader.line_num + 1)
        last_line = reader.line_num
        problem = next((f"line {n} {bad_lines[n]}" for n in spanned if n in bad_lines), None)
        yield cells, problem


# -- XLSX ---------------------------------------------------------------------------------

def _read_workbook(path: Path, sheet: str | None) -> tuple[str, RawRows]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError) as error:
        raise SourceUnavailable(f"{path.name} cannot be read as an Excel workbook ({error})") from None
    if sheet is None:
        worksheet, where = workbook.worksheets[0], path.name
    elif sheet in workbook.sheetnames:
        worksheet, where = workbook[sheet], f"{path.name} sheet '{sheet}'"
    else:
        workbook.close()
        raise SourceUnavailable(f"no sheet '{sheet}' in {path.name} (sheets: {', '.join(workbook.sheetnames)})")
    # Read-only mode trusts the size the file declares; WPS Office and some generators
    # write "A1" there, which would hide every row but the first.
    worksheet.reset_dimensions()

    def rows() -> RawRows:
        try:
            for row in worksheet.iter_rows():
                yield [_cell_value(cell) for cell in row], None
        finally:
            workbook.close()

    return where, rows()


def _cell_value(cell: Any) -> Any:
    if getattr(cell, "data_type", None) == "e":  # #REF!, #N/A, #DIV/0!...: a formula that failed
        return UnreadableValue(str(cell.value))
    return cell.value


# -- rows to records ----------------------------------------------------------------------

HEADER_SEARCH = 30  # non-blank rows looked at for the header before giving up


def _table(where: str, raw: RawRows, wanted: set[str]) -> Table:
    """Find the header row (see the module docstring); the rest are the table's rows."""
    seen: list[list[str]] = []
    for number, (cells, problem) in enumerate(raw, start=1):
        if problem is not None:
            raise SourceUnavailable(f"{where}: row {number}, above the header, {problem}")
        if _blank(cells):
            continue
        names = [str(c).strip() if c is not None else "" for c in cells]
        if not wanted or any(n.casefold() in wanted for n in names):
            return Table(where, names, _records(where, names, raw, number))
        seen.append(names)
        if len(seen) >= HEADER_SEARCH:
            break
    found = "; ".join(", ".join(n for n in names if n) for names in seen[:3]) or "nothing"
    raise SourceUnavailable(f"{where}: no header row holds any column the mapping reads (first rows: {found})")


def _records(where: str, header: list[str], raw: RawRows, header_number: int) -> Iterator[Row]:
    for number, (cells, problem) in enumerate(raw, start=header_number + 1):
        location = f"{where} row {number}"
        if problem is not None:
            yield Row({}, location, problem)
        elif not _blank(cells):
            yield Row({name: cells[i] if i < len(cells) else None for i, name in enumerate(header) if name}, location)


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)
