"""Reading the tables people export: CSV and XLSX files as Excel, LibreOffice, WPS Office and
HR systems really write them.

`read_table(path, sheet=None)` yields one `Row` per data row: `cells` maps each header to the
cell's value (text from CSV; str, int, float, datetime or `UnreadableValue` from XLSX), and
`location` says where a person finds the row again ("medewerkers.csv row 7"). A row that could
not be read at all comes with `problem` set and no cells: the caller reports it and, since
it does not know whose row it was, must not treat absent records as removed.

Raises `SourceUnavailable` for a file that cannot be read as a whole (missing sheet, not a
workbook).

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
from collections.abc import Iterable, Iterator
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


def read_table(path: Path, sheet: str | None = None) -> Iterator[Row]:
    """The rows of a CSV file, or of `sheet` (default: the first) of an XLSX workbook."""
    if path.suffix.lower() == ".csv":
        return _read_csv(path)
    return _read_workbook(path, sheet)


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


def _read_csv(path: Path) -> Iterator[Row]:
    try:
        decoded = decode_lines(path.read_bytes())
    except OSError as error:
        raise SourceUnavailable(f"{path.name} cannot be read: {error.strerror or error}") from None
    header_line = next((line for line in decoded.lines if line.strip()), "")
    delimiter = max(DELIMITERS, key=header_line.count)
    reader = csv.reader(decoded.lines, delimiter=delimiter)
    rows = _with_line_problems(reader, decoded.bad_lines)
    yield from _records(path.name, rows)


def _with_line_problems(reader: Any, bad_lines: dict[int, str]) -> Iterator[tuple[list[Any], str | None]]:
    """Each parsed row with the problem of an undecodable line it spans, if any."""
    last_line = 0
    for cells in reader:
        spanned = range(last_line + 1, reader.line_num + 1)
        last_line = reader.line_num
        problem = next((f"line {n} {bad_lines[n]}" for n in spanned if n in bad_lines), None)
        yield cells, problem


# -- XLSX ---------------------------------------------------------------------------------

def _read_workbook(path: Path, sheet: str | None) -> Iterator[Row]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError) as error:
        raise SourceUnavailable(f"{path.name} cannot be read as an Excel workbook ({error})") from None
    try:
        if sheet is None:
            worksheet, where = workbook.worksheets[0], path.name
        elif sheet in workbook.sheetnames:
            worksheet, where = workbook[sheet], f"{path.name} sheet '{sheet}'"
        else:
            raise SourceUnavailable(f"no sheet '{sheet}' in {path.name} (sheets: {', '.join(workbook.sheetnames)})")
        # Read-only mode trusts the size the file declares; WPS Office and some generators
        # write "A1" there, which would hide every row but the first.
        worksheet.reset_dimensions()
        rows = ([_cell_value(cell) for cell in row] for row in worksheet.iter_rows())
        yield from _records(where, ((cells, None) for cells in rows))
    finally:
        workbook.close()


def _cell_value(cell: Any) -> Any:
    if getattr(cell, "data_type", None) == "e":  # #REF!, #N/A, #DIV/0!...: a formula that failed
        return UnreadableValue(str(cell.value))
    return cell.value


# -- rows to records ----------------------------------------------------------------------

def _records(where: str, rows: Iterable[tuple[list[Any], str | None]]) -> Iterator[Row]:
    """The first non-blank row is the header; each later non-blank row a record."""
    header: list[str] | None = None
    for number, (cells, problem) in enumerate(rows, start=1):
        location = f"{where} row {number}"
        if problem is not None:
            if header is None:
                raise SourceUnavailable(f"{where}: the header {problem}")
            yield Row({}, location, problem)
            continue
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if header is None:
            header = [str(c).strip() if c is not None else "" for c in cells]
            continue
        yield Row({name: cells[i] if i < len(cells) else None for i, name in enumerate(header) if name}, location)
