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
workbook, a workbook with a .csv name or a text file with an .xlsx name, a corrupt or
truncated workbook, no header row, two columns with the same header that the mapping
reads), with a message saying what was found and what to do.

A row with fewer cells than the header (tools drop trailing empty cells) has its missing
cells empty (None), like the empty cells they stand for; a required field among them is
then reported by the mapping. A cell is read whatever its length (up to FIELD_LIMIT);
length limits are the canonical model's business, which names the field.

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
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from connector.core.errors import SourceUnavailable
from connector.core.mapping import UnreadableValue

DELIMITERS = (";", ",", "\t")
UTF8, WINDOWS = "utf-8", "cp1252"
ZIP_MAGIC = b"PK\x03\x04"  # every XLSX (and ODS) file is a ZIP archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls
# The csv module refuses cells over 128 KiB by default, with an exception mid-file; a long
# cell (a pasted description) is read and left to the model's length limits to name.
FIELD_LIMIT = 16 * 1024 * 1024
csv.field_size_limit(FIELD_LIMIT)


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
    # UTF-32's marks first: its little-endian one begins with UTF-16's.
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return _decode_whole(data, encoding)
    wide = _utf16_without_mark(data)
    if wide is not None:
        return _decode_whole(data, wide)
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


def _utf16_without_mark(data: bytes) -> str | None:
    """UTF-16 written without its mark (some exports do): Latin text then has a NUL in every
    other byte, which no text in a one-byte encoding has."""
    sample = data[:4096]
    if len(sample) < 4 or sample.count(0) < len(sample) // 3:
        return None
    if sample[1::2].count(0) > len(sample) // 4:
        return "utf-16-le"
    if sample[0::2].count(0) > len(sample) // 4:
        return "utf-16-be"
    return None


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
        data = path.read_bytes()
    except OSError as error:
        raise SourceUnavailable(f"{path.name} cannot be read: {error.strerror or error}") from None
    if data.startswith(ZIP_MAGIC) or data.startswith(OLE_MAGIC):
        raise SourceUnavailable(f"{path.name} is an Excel workbook, not a CSV text file: rename it to "
                                f"{path.stem}.xlsx (or save it from Excel as CSV)")
    decoded = decode_lines(data)
    # The delimiter the most lines use most: a title line above the header has none.
    delimiter = max(DELIMITERS, key=lambda d: sum(line.count(d) for line in decoded.lines[:50]))
    reader = csv.reader(decoded.lines, delimiter=delimiter)
    return path.name, _with_line_problems(reader, decoded.bad_lines, path.name)


def _with_line_problems(reader: Any, bad_lines: dict[int, str], where: str) -> RawRows:
    """Each parsed row with the problem of an undecodable line it spans, if any."""
    last_line = 0
    for cells in _parsed(reader, where):
        spanned = range(last_line + 1, reader.line_num + 1)
        last_line = reader.line_num
        problem = next((f"line {n} {bad_lines[n]}" for n in spanned if n in bad_lines), None)
        yield cells, problem


def _parsed(reader: Any, where: str) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as error:  # a cell over FIELD_LIMIT, a quote left open to the end of the file
        raise SourceUnavailable(f"{where}: line {reader.line_num} cannot be read as CSV ({error})") from None


# -- XLSX ---------------------------------------------------------------------------------

def _not_a_workbook(path: Path) -> str:
    """Why `path` is no XLSX workbook, in words that say what to do."""
    try:
        head = path.read_bytes()[:4096]
    except OSError as error:
        return f"{path.name} cannot be read: {error.strerror or error}"
    if head.startswith(OLE_MAGIC):
        return f"{path.name} is an old Excel 97-2003 workbook (.xls): save it again as .xlsx"
    if head.startswith(ZIP_MAGIC):
        return f"{path.name} is damaged or not an Excel workbook (a ZIP archive without a readable sheet): save it again from Excel as .xlsx"
    text = decode_lines(head).lines
    if text and any(d in text[0] for d in DELIMITERS) and not any("\x00" in line for line in text):
        return f"{path.name} is a text (CSV) file, not an Excel workbook: rename it to {path.stem}.csv"
    return f"{path.name} is not an Excel workbook (.xlsx): export it again from the HR system"


# Whatever a damaged workbook makes openpyxl raise (a truncated ZIP member, broken XML,
# a bad number format) is about that file: the source is unavailable, the run goes on.
_DAMAGED = (BadZipFile, InvalidFileException, KeyError, OSError, EOFError, ValueError, TypeError, IndexError,
            AttributeError, SyntaxError, zlib.error)  # broken XML: a SyntaxError in xml.etree and lxml


def _read_workbook(path: Path, sheet: str | None) -> tuple[str, RawRows]:
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except _DAMAGED:
        raise SourceUnavailable(_not_a_workbook(path)) from None
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
        number = 0
        try:
            for number, row in enumerate(worksheet.iter_rows(), start=1):
                yield [_cell_value(cell) for cell in row], None
        except _DAMAGED as error:
            raise SourceUnavailable(f"{where} is damaged after row {number} ({type(error).__name__}): save it again "
                                    "from Excel as .xlsx; nothing of it was taken") from None
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
            _unique_headers(where, names, wanted)
            return Table(where, names, _records(where, names, raw, number))
        seen.append(names)
        if len(seen) >= HEADER_SEARCH:
            break
    found = "; ".join(", ".join(n for n in names if n) for names in seen[:3]) or "nothing"
    found = "".join(c if c.isprintable() else "?" for c in found)[:300]  # never a NUL or escape in a message
    raise SourceUnavailable(f"{where}: no header row holds any column the mapping reads (first rows: {found})")


def _unique_headers(where: str, names: list[str], wanted: set[str]) -> None:
    """Two columns with one header (among those the mapping reads, or any without a
    mapping) leave it unclear which one is meant: refused, naming both columns."""
    first: dict[str, int] = {}
    for index, name in enumerate(names):
        key = name.casefold()
        if not name or (wanted and key not in wanted):
            continue
        if key in first:
            raise SourceUnavailable(f"{where}: columns {_column(first[key])} and {_column(index)} are both headed '{name}', "
                                    "so which one to read is unclear: rename or remove one")
        first[key] = index


def _column(index: int) -> str:
    return f"{get_column_letter(index + 1)} ({index + 1})"


def _records(where: str, header: list[str], raw: RawRows, header_number: int) -> Iterator[Row]:
    for number, (cells, problem) in enumerate(raw, start=header_number + 1):
        location = f"{where} row {number}"
        if problem is not None:
            yield Row({}, location, problem)
        elif not _blank(cells):
            yield Row({name: cells[i] if i < len(cells) else None for i, name in enumerate(header) if name}, location)


def _blank(cells: list[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)
