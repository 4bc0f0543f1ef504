"""The answers as coordinators read them: evaluation results per cohort (charts) and the
answers export (CSV, XLSX), limited to the organisations an account may see.

Terms:
    line      one row of the export: one value of one answer (an answer holds a value per
              question), with its exchange, cohort, purpose, day, role, the switcher it is
              about, the question in words, when and by whom it was answered
    chart     per cohort, per role and per scale question of the evaluation: how many answers
              gave 1, 2, 3, 4 and 5, drawn as inline SVG with a table beside it (overview.html)

An exchange belongs to its switcher's organisation, as in build_status.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.core.config import Config
from connector.core.texts import text
from connector.plumbing.xlsx import print_ready, workbook_bytes
from connector.store.tables import Answer, Cohort, Exchange, Person
from connector.web.forms import EVALUATION, SCALE

COLUMNS = ("exchange", "cohort", "purpose", "session", "role", "person", "question", "value", "answered_at", "answered_by")
# OWASP "CSV Injection": a cell starting with one of these is read as a formula by Excel and
# LibreOffice; a leading apostrophe makes it text. Tab and carriage return too, as OWASP lists.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ATTENDANCE_QUESTION = "web.overview.attendance"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"  # Belgian notation, as plumbing/xlsx.py writes dates
BAR_WIDTH = 240  # SVG user units of the longest bar; a chart is 320 wide
ROW_HEIGHT = 24


@dataclass(frozen=True)
class Line:
    exchange: str
    cohort: str
    purpose: str
    session: str
    role: str
    person: str  # the exchange's switcher
    question: str
    value: int | str
    answered_at: datetime  # local time of the partner, without zone (the header names it)
    answered_by: str


@dataclass
class Chart:
    """One scale question for one role in one cohort: `counts[n]` answers gave n (1..5)."""

    role: str
    question: str  # the key; its text is "web.q.<key>"
    counts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SCALE, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def bars(self) -> list[dict[str, int]]:
        """Per score: {"score", "count", "y", "width"} in SVG user units; the largest count
        fills BAR_WIDTH, a zero draws nothing."""
        most = max(self.counts.values()) or 1
        return [{"score": n, "count": c, "y": i * ROW_HEIGHT, "width": round(BAR_WIDTH * c / most)}
                for i, (n, c) in enumerate(sorted(self.counts.items()))]


@dataclass
class CohortResults:
    code: str  # "" for exchanges without a cohort
    name: str
    charts: list[Chart]


def answerer_names(db: Session, config: Config) -> dict[str, str]:
    """Who answered, by an Answer's subject: a person id, "hr:<organisation>" (the sending
    employer's HR) or "host:<organisation>" (the learning place's organisation)."""
    names = {p.id: p.full_name for p in db.scalars(select(Person))}
    for organisation in config.organisations:
        names[f"hr:{organisation.id}"] = f"HR {organisation.name}"
        names[f"host:{organisation.id}"] = organisation.name
    return names


def visible_answers(db: Session, organisations: Iterable[str] | None) -> list[tuple[Answer, Exchange, Person]]:
    """Every answer with its exchange and switcher, oldest first; only exchanges whose switcher
    is of `organisations` when that is given (an account's restriction, a filter)."""
    query = (select(Answer, Exchange, Person).join(Exchange, Answer.exchange_code == Exchange.code)
             .join(Person, Exchange.switcher_id == Person.id).order_by(Answer.exchange_code, Answer.created_at, Answer.id))
    if organisations is not None:
        query = query.where(Person.organisation_id.in_(list(organisations)))
    return [(a, e, p) for a, e, p in db.execute(query)]


def cohort_results(db: Session, organisations: Iterable[str] | None) -> list[CohortResults]:
    """Per cohort (by code; exchanges without one last), the charts of every role's scale
    questions that have at least one answer."""
    counted: dict[str, dict[tuple[str, str], Chart]] = {}
    for answer, exchange, _ in visible_answers(db, organisations):
        if answer.purpose != "evaluation" or answer.role not in EVALUATION:
            continue
        charts = counted.setdefault(exchange.cohort_code or "", {})
        for question in EVALUATION[answer.role]:
            value = (answer.values or {}).get(question.key)
            if question.kind == "scale" and value in SCALE:
                chart = charts.setdefault((answer.role, question.key), Chart(answer.role, question.key))
                chart.counts[value] += 1
    names = {c.code: c.name for c in db.scalars(select(Cohort))}
    order = list(EVALUATION)
    return [CohortResults(code, names.get(code, code), sorted(charts.values(), key=lambda c: (order.index(c.role), _position(c))))
            for code, charts in sorted(counted.items(), key=lambda item: (item[0] == "", item[0]))]


def _position(chart: Chart) -> int:
    return [q.key for q in EVALUATION[chart.role]].index(chart.question)


# -- the export ----------------------------------------------------------------------------

def answer_lines(db: Session, config: Config, language: str, organisations: Iterable[str] | None) -> list[Line]:
    """One line per value of every visible answer, questions and roles in `language`."""
    zone = ZoneInfo(config.partner.timezone)
    names = answerer_names(db, config)
    lines = []
    for answer, exchange, switcher in visible_answers(db, organisations):
        for key, value in (answer.values or {}).items():
            lines.append(Line(
                exchange=exchange.code, cohort=exchange.cohort_code or "", purpose=text(language, f"web.{answer.purpose}.title"),
                session=answer.session_code, role=text(language, f"web.role.{answer.role}"), person=switcher.full_name,
                question=question_text(language, key), value=value_text(language, key, value),
                answered_at=answer.answered_at.astimezone(zone).replace(tzinfo=None),
                answered_by=names.get(answer.subject, answer.subject)))
    return lines


def question_text(language: str, key: str) -> str:
    """A question key in words: "web.q.<key>", the attendance as the overview names it."""
    message = ATTENDANCE_QUESTION if key == "attendance" else f"web.q.{key}"
    return text(language, message)


def value_text(language: str, key: str, value: object) -> int | str:
    if key == "attendance":
        return text(language, f"web.attendance.{value}")
    return value if isinstance(value, int) else str(value)


def headers(language: str, zone: str) -> list[str]:
    return [text(language, f"web.export.{name}", zone=zone) for name in COLUMNS]


def neutralised(value: int | str) -> int | str:
    """A text cell that a spreadsheet would take for a formula, as text (leading apostrophe)."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def answers_csv(lines: list[Line], language: str, zone: str) -> bytes:
    """RFC 4180 CSV (comma, CRLF) in UTF-8 with a byte order mark, so Excel reads the accents;
    every text cell neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(language, zone))
    for line in lines:
        writer.writerow([neutralised(v) for v in _cells(line, datetime_text=True)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def answers_xlsx(lines: list[Line], language: str, zone: str) -> bytes:
    """One sheet, a header row and one row per line; answered-at as a date-time cell. A text
    that starts like a formula is stored as a text cell (openpyxl would write it as a formula)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = text(language, "web.export.sheet")
    sheet.append(headers(language, zone))
    for line in lines:
        sheet.append(list(_cells(line, datetime_text=False)))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    print_ready(sheet, list(COLUMNS))
    at = COLUMNS.index("answered_at") + 1
    for (cell,) in sheet.iter_rows(min_row=2, min_col=at, max_col=at):
        cell.number_format = DATETIME_FORMAT
    sheet.column_dimensions[sheet.cell(1, at).column_letter].width = max(18, len(str(sheet.cell(1, at).value)) + 2)
    return workbook_bytes(workbook)


def _cells(line: Line, datetime_text: bool) -> tuple[int | str | datetime, ...]:
    at: str | datetime = f"{line.answered_at:%Y-%m-%d %H:%M}" if datetime_text else line.answered_at
    return (line.exchange, line.cohort, line.purpose, line.session, line.role, line.person, line.question, line.value, at,
            line.answered_by)
