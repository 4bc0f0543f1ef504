"""`match --apply`: confirmed proposals into the cohort's exchanges and sessions sheets.

The cohort workbook stays the one source of truth: a confirmed proposal becomes an exchange
row (status confirmed) and one session row per suggested date (the intro call online, the
exchange days on site), appended in the sheet's own layout (CSV: its delimiter, encoding and
line ends; XLSX: the named sheet of the workbook). From then on `sync` invites for it as for
any exchange. A proposal whose question already has an exchange in the cohort is skipped,
so applying twice adds nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from connector.core.config import Config
from connector.core.errors import RecordError
from connector.core.mapping import EntityMapping, FieldRule, load_mapping
from connector.matching.dates import Slot
from connector.matching.inputs import ACTIVE_EXCHANGE, cohort_root, cohort_source, read_sheet
from connector.matching.workbook import ConfirmedRow
from connector.plumbing.files import write_atomically
from connector.store.plans import CandidateLearningQuestion
from connector.plumbing.xlsx import workbook_bytes


@dataclass
class Applied:
    exchanges: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # exchange codes whose question already had an exchange


def apply_confirmed(config: Config, rows: Sequence[ConfirmedRow],
                    candidates: Mapping[str, CandidateLearningQuestion] | None = None) -> Applied:
    """Append every confirmed row not yet in the cohort; returns what was added and skipped.

    A confirmed row whose question is a candidate from a training plan (`candidates`, by its
    PLAN- code) also adds that question to the learning questions sheet, under its own code
    and with the code as its origin (Herkomst), which is how the partner accepts a candidate."""
    source = cohort_source(config)
    mapping = load_mapping(source.mapping or "files", config.base_dir)
    root = cohort_root(config, source)
    exchanges_entity, sessions_entity = mapping.entity("exchanges"), mapping.entity("sessions")
    existing, codes = _existing(root, exchanges_entity)
    applied = Applied()
    exchange_rows: list[dict[str, str]] = []
    session_rows: list[dict[str, str]] = []
    question_rows: list[dict[str, str]] = []
    questions_entity = mapping.entity("learning_questions")
    _, question_codes = _existing(root, questions_entity)
    for row in rows:
        if row.question in existing or row.exchange in codes:
            applied.skipped.append(row.exchange)
            continue
        candidate = (candidates or {}).get(row.question)
        if candidate is not None and row.question not in question_codes:
            question_codes.add(row.question)
            question_rows.append(_values(questions_entity, {
                "code": candidate.code, "organisation": candidate.organisation_id,
                "switcher": candidate.employee_number or candidate.email or candidate.switcher_id,
                "title": candidate.title, "origin": candidate.code}))
        existing[row.question] = row.exchange
        codes.add(row.exchange)
        exchange_rows.append(_values(exchanges_entity, {"code": row.exchange, "learning_question": row.question,
                                                        "learning_place": row.place, "coaches": row.coach, "status": "confirmed"}))
        applied.exchanges.append(row.exchange)
        sessions = ([("INTRO", "intro_call", "online", row.intro)] if row.intro else []) + \
                   [(f"D{n}", "exchange_day", "on_site", slot) for n, slot in enumerate(row.days, start=1)]
        for suffix, kind, mode, slot in sessions:
            code = f"{row.exchange}-{suffix}"
            session_rows.append(_session(sessions_entity, code, row.exchange, kind, mode, slot))
            applied.sessions.append(code)
    if question_rows:
        _append(root, questions_entity, question_rows)
    if exchange_rows:
        _append(root, exchanges_entity, exchange_rows)
    if session_rows:
        _append(root, sessions_entity, session_rows)
    return applied


def _existing(root: Path, entity: EntityMapping) -> tuple[dict[str, str], set[str]]:
    """question -> exchange code of every exchange in the cohort that is not cancelled (a
    cancelled exchange frees its question for a new proposal), and every code in use."""
    stem = str(entity.options.get("file", entity.entity))
    sheet = read_sheet(root, stem, str(entity.options.get("sheet", stem)))
    if sheet is None:
        return {}, set()
    found, codes = {}, set()
    for row in sheet.rows:
        try:
            record = entity.apply(row.cells) if row.problem is None else {}
        except RecordError:
            continue
        codes.add(str(record.get("code", "")))
        if record.get("learning_question") and record.get("status", "proposed") in ACTIVE_EXCHANGE:
            found[str(record["learning_question"])] = str(record.get("code", ""))
    return found, codes


def _rule(entity: EntityMapping, name: str) -> FieldRule:
    return next(r for r in entity.rules if r.name == name)


def _word(rule: FieldRule, canonical: str) -> str:
    """The sheet's own word for a canonical value ('confirmed' -> 'bevestigd'), by the mapping's table."""
    if rule.lookup:
        return next((word for word, value in rule.lookup.items() if value == canonical), canonical)
    return canonical


def _values(entity: EntityMapping, canonical: dict[str, str]) -> dict[str, str]:
    """Header -> cell text for one row, through the mapping's first header of each field."""
    row = {}
    for name, value in canonical.items():
        rule = _rule(entity, name)
        row[rule.paths[0]] = _word(rule, value)
    return row


def _session(entity: EntityMapping, code: str, exchange: str, kind: str, mode: str, slot: Slot) -> dict[str, str]:
    row = _values(entity, {"code": code, "exchange": exchange, "kind": kind, "mode": mode})
    start, end = _rule(entity, "start"), _rule(entity, "end")
    if start.join and end.join:  # Datum + Van, Datum + Tot
        row[start.join[0]] = f"{slot.start:%d/%m/%Y}"
        row[start.join[1]] = f"{slot.start:%H:%M}"
        row[end.join[1]] = f"{slot.end:%H:%M}"
    else:
        row[start.paths[0]] = f"{slot.start:%d/%m/%Y %H:%M}"
        row[end.paths[0]] = f"{slot.end:%d/%m/%Y %H:%M}"
    if kind == "exchange_day" and any(r.name == "hours" for r in entity.rules):
        row[_rule(entity, "hours").paths[0]] = f"{day_hours(slot):g}".replace(".", ",")
    return row


def day_hours(slot: Slot) -> float:
    """Training hours of an exchange day: as suggested, else its span less the half-hour break
    the planner adds to a day of over six hours (the partner may have typed other times)."""
    if slot.hours is not None:
        return slot.hours
    span = (slot.end - slot.start).total_seconds() / 3600
    return round(span - 0.5 if span > 6.5 else span, 2)


def _append(root: Path, entity: EntityMapping, rows: list[dict[str, str]]) -> None:
    stem = str(entity.options.get("file", entity.entity))
    if root.is_file():
        _append_sheet(root, str(entity.options.get("sheet", stem)), rows)
        return
    csv_path, xlsx_path = root / f"{stem}.csv", root / f"{stem}.xlsx"
    if xlsx_path.is_file() and not csv_path.is_file():
        _append_sheet(xlsx_path, None, rows)
    else:
        _append_csv(csv_path, rows)


def _append_csv(path: Path, rows: list[dict[str, str]]) -> None:
    """Rows under the file's own header, with its delimiter, encoding and line ends."""
    data = path.read_bytes()
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        content = data.decode(encoding)
    except UnicodeDecodeError:
        encoding, content = "cp1252", data.decode("cp1252")
    first = content.splitlines()[0] if content else ""
    delimiter = max((";", ",", "\t"), key=first.count)
    newline = "\r\n" if "\r\n" in content else "\n"
    header = next(csv.reader([first], delimiter=delimiter))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    for row in rows:
        writer.writerow([row.get(name.strip(), "") for name in header])
    prefix = content if content.endswith(("\n", "\r")) or not content else content + newline
    write_atomically(path, (prefix + out.getvalue()).encode(encoding))


def _append_sheet(path: Path, sheet_name: str | None, rows: list[dict[str, str]]) -> None:
    workbook = load_workbook(path)
    sheet = workbook[sheet_name] if sheet_name else workbook.worksheets[0]
    header_row = next(r for r in sheet.iter_rows(min_row=1, max_row=sheet.max_row) if any(c.value for c in r))
    header: list[Any] = [str(c.value).strip() if c.value is not None else "" for c in header_row]
    for row in rows:
        sheet.append([row.get(name, None) for name in header])
    write_atomically(path, workbook_bytes(workbook))


__all__ = ["Applied", "apply_confirmed"]
