"""The proposals workbook: what `match` writes for the partner, and reads back.

Sheets (named in the partner's language): a guide; one row per proposal (status, question,
place, coach, the total and every criterion's score, distance, the suggested intro call and
exchange days as "dd/mm/yyyy hh:mm-hh:mm", and the score's breakdown); one row per reason an
open question found no place. The partner sets Status to confirmed (and may change the dates
or the coach); `confirmed_rows` reads those rows back, whatever language the headers are in.
Confirmed rows not yet carried into the cohort survive a new run unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from connector.core.texts import LANGUAGES, format_number, text
from connector.matching.constraints import Removal
from connector.matching.dates import Slot
from connector.matching.model import Question
from connector.matching.run import MatchResult, Proposal, Unmatched
from connector.matching.scoring import CRITERIA
from connector.plumbing.files import neutralise, write_atomically
from connector.plumbing.xlsx import workbook_bytes

FILE_NAME = "proposals.xlsx"
FIXED_COLUMNS = ("exchange", "status", "question", "title", "organisation", "switcher", "place", "place_name", "host", "coach",
                 "total")
HEAD = len(FIXED_COLUMNS) + len(CRITERIA) + 1  # the columns before the intro call: fixed, the criteria, distance
_SLOT = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class ConfirmedRow:
    """A proposal the partner confirmed: the exchange to create and its sessions' slots."""

    exchange: str
    question: str
    place: str
    coach: str
    intro: Slot | None
    days: tuple[Slot, ...]
    head: tuple[Any, ...]  # the cells before the intro call, as the partner left them
    tail: tuple[Any, ...]  # calendars read, reasons
    location: str


def header(language: str, key: str, **values: object) -> str:
    return text(language, f"match.col.{key}", **values) if not key.startswith("criterion.") else text(language, f"match.{key}")


def columns(language: str, days: int) -> list[str]:
    names = [header(language, k) for k in FIXED_COLUMNS]
    names += [header(language, f"criterion.{c}") for c in CRITERIA]
    names += [header(language, "distance_km"), header(language, "intro")]
    names += [header(language, "day", number=n) for n in range(1, days + 1)]
    names += [header(language, "calendars"), header(language, "reasons")]
    return names


def slot_text(slot: Slot | None) -> str:
    return "" if slot is None else f"{slot.start:%d/%m/%Y %H:%M}-{slot.end:%H:%M}"


def parse_slot(value: Any, zone: ZoneInfo) -> Slot | None:
    """'21/12/2026 08:30-16:00' (or a date cell with no times: None) -> Slot; raises ValueError."""
    if value in (None, ""):
        return None
    found = _SLOT.match(str(value))
    if found is None:
        raise ValueError(f"'{value}' is not a date with times (dd/mm/yyyy hh:mm-hh:mm)")
    d, m, y, h1, m1, h2, m2 = map(int, found.groups())
    day = date(y, m, d)
    start = datetime.combine(day, time(h1, m1), tzinfo=zone)
    end = datetime.combine(day, time(h2, m2), tzinfo=zone)
    if end <= start:
        raise ValueError(f"'{value}' ends before it starts")
    return Slot(start, end)


def write_workbook(path: Path, result: MatchResult, language: str, kept: list[ConfirmedRow] = ()) -> bool:  # type: ignore[assignment]
    """Write the proposals workbook; `kept` confirmed rows come first, as the partner left them.
    Returns False when the file already held exactly this content."""
    days = max([len(p.plan.days) for p in result.proposals] + [len(r.days) for r in kept] + [1])
    workbook = Workbook()
    guide = workbook.active
    guide.title = text(language, "match.sheet.guide")
    guide.append([text(language, "match.guide")])
    guide["A1"].alignment = Alignment(wrap_text=True, vertical="top")
    guide.column_dimensions["A"].width = 110
    sheet = workbook.create_sheet(text(language, "match.sheet.proposals"))
    names = columns(language, days)
    sheet.append(names)
    for row in kept:
        sheet.append([neutralise(v) for v in _aligned(row, days)])
    for proposal in result.proposals:
        sheet.append([neutralise(v) for v in _proposal_row(proposal, language, days)])
    _style(sheet, len(names))
    _offer_statuses(sheet, names.index(header(language, "status")) + 1, language)
    unmatched = workbook.create_sheet(text(language, "match.sheet.unmatched"))
    unmatched.append([header(language, k) for k in ("question", "title", "organisation", "switcher", "candidate", "reason")])
    for item in result.unmatched:
        for candidate, reason in explain(item, language):
            unmatched.append([neutralise(v) for v in (item.question.code, item.question.title, item.question.organisation,
                                                      who(item.question), candidate, reason)])
    _style(unmatched, 6)
    return write_atomically(path, workbook_bytes(workbook))


def who(question: Question) -> str:
    """The switcher as people read it: 'Hanne Verhaegen (Z003)', or the sheet's reference alone."""
    return f"{question.name} ({question.switcher})" if question.name else question.switcher


def _aligned(row: ConfirmedRow, days: int) -> list[Any]:
    """A kept row under this run's columns (its day columns padded to `days`)."""
    own_days = [slot_text(s) for s in row.days]
    return [*row.head, slot_text(row.intro), *own_days, *[""] * (days - len(own_days)), *row.tail]


def _proposal_row(proposal: Proposal, language: str, days: int) -> list[Any]:
    question, scored = proposal.question, proposal.scored
    distance = proposal.scored.candidate.distance
    values: list[Any] = [proposal.code, text(language, "match.status.proposed"), question.code, question.title,
                         question.organisation, who(question), proposal.place, proposal.place_name, proposal.host,
                         proposal.coach, round(scored.total, 3)]
    values += [scored.shown()[c] for c in CRITERIA]
    values += [None if distance is None else round(distance, 1), slot_text(proposal.plan.intro)]
    slots = [slot_text(s) for s in proposal.plan.days]
    values += slots + [""] * (days - len(slots))
    values += [text(language, "match.yes") if proposal.plan.calendars_read else text(language, "match.no"), breakdown(proposal, language)]
    return values


def breakdown(proposal: Proposal, language: str, weights: dict[str, float] | None = None) -> str:
    """'Inhoud 1 · Nabijheid 0,65 · ...' by descending score, and a note when no dates were found."""
    parts = [f"{text(language, f'match.criterion.{c}')} {format_number(language, v)}"
             for c, v in sorted(proposal.scored.shown().items(), key=lambda kv: (-kv[1], CRITERIA.index(kv[0])))]
    note = "" if proposal.plan.days else f" ({text(language, 'match.no_dates')})"
    return " · ".join(parts) + note


def reason_text(removal: Removal, language: str) -> str:
    return text(language, f"match.reason.{removal.constraint}", **removal.detail)


def explain(item: Unmatched, language: str) -> list[tuple[str, str]]:
    """(place or 'place / coach', reason) for every candidate an unmatched question lost."""
    rows = [(r.place + (f" / {r.coach}" if r.coach else "") if r.place else text(language, "match.all_places"), reason_text(r, language))
            for r in item.removals]
    rows += [(place, text(language, "match.reason.outbid")) for place in item.outbid]
    return rows or [(text(language, "match.all_places"), text(language, "match.reason.no_places"))]


STATUSES = ("proposed", "confirmed", "rejected")


def _status_words(language: str) -> list[str]:
    return [text(language, f"match.status.{status}") for status in STATUSES]


def _offer_statuses(sheet: Any, column: int, language: str) -> None:
    """The Status column as a drop-down of the three statuses in the workbook's language."""
    letter = get_column_letter(column)
    words = _status_words(language)
    validation = DataValidation(type="list", formula1='"' + ",".join(words) + '"', allow_blank=True, showErrorMessage=True,
                                errorTitle=text(language, "match.status.error_title"),
                                error=text(language, "match.status.unknown", value="…", choices=" / ".join(words)))
    validation.add(f"{letter}2:{letter}1000")
    sheet.add_data_validation(validation)


def _style(sheet: Any, width: int) -> None:
    fill = PatternFill("solid", fgColor="DCE9F5")
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = fill
    for index in range(1, width + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 18
    sheet.freeze_panes = "A2"


# -- reading back ---------------------------------------------------------------------------

def _keys_by_header() -> dict[str, str]:
    """Every language's header -> its key ("Leerplek" -> "place"; "Dag 2" is matched separately)."""
    found: dict[str, str] = {}
    for language in LANGUAGES:
        for key in (*FIXED_COLUMNS, "distance_km", "intro", "calendars", "reasons"):
            found[header(language, key).casefold()] = key
    return found


def _day_number(name: str) -> int | None:
    for language in LANGUAGES:
        pattern = re.escape(text(language, "match.col.day", number="\0")).replace("\\\0", "\0").replace("\0", r"(\d+)")
        found = re.fullmatch(pattern, name.strip(), flags=re.IGNORECASE)
        if found:
            return int(found.group(1))
    return None


def rejected_pairs(path: Path) -> set[tuple[str, str]]:
    """(question, place) of the rows the partner marked rejected."""
    if not path.is_file():
        return set()
    workbook = load_workbook(path, read_only=True, data_only=True)
    titles = {text(language, "match.sheet.proposals") for language in LANGUAGES}
    sheet = next((workbook[t] for t in workbook.sheetnames if t in titles), None)
    rows = list(sheet.iter_rows(values_only=True)) if sheet is not None else []
    workbook.close()
    if not rows:
        return set()
    known = _keys_by_header()
    index = {known[str(n or "").casefold()]: i for i, n in enumerate(rows[0]) if str(n or "").casefold() in known}
    if not {"status", "question", "place"} <= set(index):
        return set()
    words = {text(language, "match.status.rejected").casefold() for language in LANGUAGES}
    return {(str(r[index["question"]]).strip(), str(r[index["place"]]).strip()) for r in rows[1:]
            if len(r) > max(index.values()) and str(r[index["status"]] or "").strip().casefold() in words}


def confirmed_rows(path: Path, zone: ZoneInfo) -> tuple[list[ConfirmedRow], list[tuple[str, str, str]]]:
    """The confirmed rows of a proposals workbook, and (row, column, message) for cells that
    could not be read (a confirmed row with a bad date is left out, and said so)."""
    if not path.is_file():
        return [], []
    workbook = load_workbook(path, data_only=True)
    titles = {text(language, "match.sheet.proposals") for language in LANGUAGES}
    sheet = next((workbook[t] for t in workbook.sheetnames if t in titles), None)
    if sheet is None:
        return [], [(path.name, "", "no sheet of proposals")]
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return [], []
    names = [str(v or "") for v in rows[0]]
    known = _keys_by_header()
    index = {known[n.casefold()]: i for i, n in enumerate(names) if n.casefold() in known}
    day_columns = sorted((number, i) for i, n in enumerate(names) if (number := _day_number(n)) is not None)
    confirmed_words = {text(language, "match.status.confirmed").casefold() for language in LANGUAGES}
    known_words = {word.casefold() for language in LANGUAGES for word in _status_words(language)}
    found, problems = [], []
    for number, cells in enumerate(rows[1:], start=2):
        def cell(key: str) -> Any:
            return cells[index[key]] if key in index and index[key] < len(cells) else None
        where = f"{path.name} {sheet.title} row {number}"
        status = str(cell("status") or "").strip()
        if status and status.casefold() not in known_words:  # a typo must not silently drop a confirmation
            problems.append((where, names[index["status"]], text("en", "match.status.unknown", value=status,
                                                                   choices=" / ".join(_status_words("en")))))
            continue
        if status.casefold() not in confirmed_words:
            continue
        try:
            intro = parse_slot(cell("intro"), zone)
            days = tuple(s for _, i in day_columns if i < len(cells) and (s := parse_slot(cells[i], zone)) is not None)
        except ValueError as error:
            problems.append((where, header("nl", "intro"), str(error)))
            continue
        missing = [k for k in ("exchange", "question", "place", "coach") if not cell(k)]
        if missing:
            problems.append((where, missing[0], "is empty on a confirmed row"))
            continue
        head = tuple(cells[:HEAD]) + ("",) * (HEAD - len(cells[:HEAD]))
        found.append(ConfirmedRow(str(cell("exchange")).strip(), str(cell("question")).strip(), str(cell("place")).strip(),
                                  str(cell("coach")).strip(), intro, days, head, (cell("calendars"), cell("reasons")), where))
    return found, problems
