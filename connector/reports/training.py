"""Training report per year: each employee's entitlement against what they followed, and
per organisation the informal-training totals the social balance sheet asks for."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.plumbing.files import neutralise, write_atomically
from connector.plumbing.xlsx import print_ready, workbook_bytes
from connector.reports.obligations import (
    PERIOD,
    entitlement_days,
    hours_per_day,
    months_begun,
    size_band_days,
    training_account,
)
from connector.store.tables import Exchange, ExternalRef, Organisation, Person, PlannedLearning, TrainingRecord
from connector.store.tables import Session as SessionRow


@dataclass
class EmployeeLine:
    organisation: str
    employee_number: str | None
    last_name: str
    first_name: str
    department: str | None
    sex: str | None
    fte: float
    months_begun: int
    entitlement_days: float | None
    hours_per_day: float
    formal_hours: float
    informal_hours: float
    exchange_hours: float
    unconfirmed_exchange_hours: float  # past planned exchange days nobody confirmed (counted or not, by the policy): apart
    days_followed: float
    balance_days: float | None  # this year: entitlement - days followed
    carried_in_days: float | None  # unused days from earlier years of the period 2024-2028
    account_balance_days: float | None  # with the carry-over: still open at the end of this year
    period_average_days: float | None  # days followed per year so far in the period
    leerbewijzen: str
    # What is planned this year (open or in progress, due this year, or starting this year
    # without a due date), next to what was followed: who is behind and what will catch up.
    planned_days: float = 0.0
    planned_items: int = 0


@dataclass
class OrganisationLine:
    organisation: str
    name: str
    base_days: float | None
    workers: int
    entitlement_days: float
    days_followed: float
    informal_participants: int
    informal_participants_men: int
    informal_participants_women: int
    informal_hours: float
    informal_hours_men: float
    informal_hours_women: float
    exchange_hours: float
    formal_hours: float
    planned_days: float = 0.0
    unconfirmed_exchange_hours: float = 0.0


@dataclass
class ManualLine:
    """A retraction a target's API cannot make (SuccessFactors Learning): for a person to do."""

    target: str
    record: str
    remote_id: str | None
    action: str
    since: date


@dataclass
class RecordLine:
    """One training followed: the evidence behind an employee's days, exchange days with their leerbewijs."""

    organisation: str
    employee_number: str | None
    name: str
    date: date
    kind: str  # formal, informal
    origin: str  # exchange, or the source it was pulled from
    hours: float
    title: str
    provider: str | None
    leerbewijs_number: str | None


@dataclass
class TrainingReport:
    year: int
    employees: list[EmployeeLine] = field(default_factory=list)
    organisations: list[OrganisationLine] = field(default_factory=list)
    records: list[RecordLine] = field(default_factory=list)
    manual: list[ManualLine] = field(default_factory=list)


def unconfirmed_hours(db: Session, year: int, now: datetime | None = None) -> dict[str, float]:
    """Per switcher: hours of this year's past exchange days of live exchanges that the cohort
    sheet neither confirms (attended) nor marks absent. Whether they count is the organisation's
    `writeback_days`; the report shows them apart so nobody takes planned hours for proof."""
    now = now or datetime.now(UTC)
    found: dict[str, float] = defaultdict(float)
    query = (select(SessionRow, Exchange.switcher_id).join(Exchange, Exchange.code == SessionRow.exchange_code)
             .where(SessionRow.kind == "exchange_day", SessionRow.removed.is_(False), Exchange.status.in_(("confirmed", "completed"))))
    for session, switcher in db.execute(query):
        if session.end > now or session.attendance in ("attended", "absent") or session.start.year != year:
            continue
        found[switcher] += session.hours if session.hours is not None else (session.end - session.start).total_seconds() / 3600
    return found


def manual_actions(db: Session) -> list[ManualLine]:
    """Every retraction booked with a manual action (the summary lists each once; the report keeps them)."""
    lines = []
    for ref in db.scalars(select(ExternalRef).where(ExternalRef.cancelled.is_(True)).order_by(ExternalRef.target, ExternalRef.object_id)):
        action = (ref.details or {}).get("manual")
        if action:
            lines.append(ManualLine(ref.target, ref.object_id, ref.remote_id, str(action), ref.updated_at.date()))
    return lines


def _employed_in(person: Person, year: int) -> bool:
    return months_begun(year, person.start_date, person.end_date) > 0


def build_report(db: Session, year: int, now: datetime | None = None) -> TrainingReport:
    """The year's report; `now` (default: the clock) decides which exchange days are past, so
    a report made again as of the same moment gives the same figures."""
    report = TrainingReport(year=year)
    first = min(year, PERIOD[0])
    records: dict[str, list[TrainingRecord]] = defaultdict(list)
    for record in db.scalars(select(TrainingRecord).where(TrainingRecord.date >= date(first, 1, 1), TrainingRecord.date <= date(year, 12, 31))):
        records[record.person_id].append(record)
    plans = _planned_this_year(db, year)
    unconfirmed = unconfirmed_hours(db, year, now)
    report.manual = manual_actions(db)
    for organisation in db.scalars(select(Organisation).order_by(Organisation.id)):
        base = size_band_days(organisation.average_workforce, organisation.training_days_override)
        people = db.scalars(select(Person).where(Person.organisation_id == organisation.id).order_by(Person.last_name, Person.first_name))
        employed = [p for p in people if _employed_in(p, year)]
        lines = [_employee_line(organisation, base, p, records.get(p.id, []), year, unconfirmed.get(p.id, 0.0)) for p in employed]
        for line, person in zip(lines, employed, strict=True):
            _add_plans(line, plans.get(person.id, []))
        report.employees += lines
        report.records += [RecordLine(organisation.id, p.employee_number, f"{p.last_name} {p.first_name}".strip(), r.date, r.kind,
                                      "exchange" if r.origin == "exchange" else (r.source or r.origin), round(r.hours, 2), r.title,
                                      r.provider, r.leerbewijs_number)
                           for p in employed for r in sorted(records.get(p.id, []), key=lambda r: (r.date, r.id)) if r.date.year == year]
        report.organisations.append(_organisation_line(organisation, base, lines))
    return report


PLANNED_STATUSES = ("open", "in_progress")


def _planned_this_year(db: Session, year: int) -> dict[str, list[PlannedLearning]]:
    """Per person, the planned items that fall in `year`: open or in progress, due that year
    (or, without a due date, starting that year). Items their source dropped are left out."""
    found: dict[str, list[PlannedLearning]] = defaultdict(list)
    for item in db.scalars(select(PlannedLearning).where(PlannedLearning.status.in_(PLANNED_STATUSES), PlannedLearning.removed.is_(False))):
        when = item.due or item.start
        if when is not None and when.year == year:
            found[item.person_id].append(item)
    return found


def _add_plans(line: EmployeeLine, items: list[PlannedLearning]) -> None:
    """Planned hours in days of this employee (the same hours per day as the days followed)."""
    hours = sum(item.hours or 0.0 for item in items)
    line.planned_days = round(hours / line.hours_per_day, 2) if line.hours_per_day else 0.0
    line.planned_items = len(items)


def _employee_line(organisation: Organisation, base: float | None, person: Person, history: list[TrainingRecord], year: int,
                   unconfirmed: float = 0.0) -> EmployeeLine:
    """This year's line, and the account since the start of the period. The employment is the
    current one: the store keeps no history of FTE changes yet."""
    records = [r for r in history if r.date.year == year]
    months = months_begun(year, person.start_date, person.end_date)
    per_day = hours_per_day(organisation.hours_per_training_day, person.weekly_hours, person.fte)
    account = None
    if base is not None and year >= PERIOD[0]:
        per_year = {
            y: (entitlement_days(base, person.fte, months_begun(y, person.start_date, person.end_date)),
                sum(r.hours for r in history if r.date.year == y) / per_day)
            for y in range(PERIOD[0], year + 1)
        }
        account = training_account(per_year, year)[-1]
    formal = sum(r.hours for r in records if r.kind == "formal")
    informal = sum(r.hours for r in records if r.kind == "informal")
    exchange = sum(r.hours for r in records if r.origin == "exchange")
    days = (formal + informal) / per_day
    entitled = entitlement_days(base, person.fte, months) if base is not None else None
    return EmployeeLine(
        organisation=organisation.id, employee_number=person.employee_number, last_name=person.last_name,
        first_name=person.first_name, department=person.department, sex=person.sex, fte=person.fte, months_begun=months,
        entitlement_days=round(entitled, 2) if entitled is not None else None, hours_per_day=round(per_day, 2),
        formal_hours=round(formal, 2), informal_hours=round(informal, 2), exchange_hours=round(exchange, 2),
        unconfirmed_exchange_hours=round(unconfirmed, 2), days_followed=round(days, 2), balance_days=round(entitled - days, 2) if entitled is not None else None,
        carried_in_days=round(account.carried_in, 2) if account else None,
        account_balance_days=round(account.balance, 2) if account else None,
        period_average_days=round(account.period_average, 2) if account else None,
        leerbewijzen=", ".join(sorted({r.leerbewijs_number for r in records if r.leerbewijs_number})),
    )


def _organisation_line(organisation: Organisation, base: float | None, lines: list[EmployeeLine]) -> OrganisationLine:
    informal = [line for line in lines if line.informal_hours > 0]
    return OrganisationLine(
        organisation=organisation.id, name=organisation.name, base_days=base, workers=len(lines),
        entitlement_days=round(sum(line.entitlement_days or 0 for line in lines), 2),
        days_followed=round(sum(line.days_followed for line in lines), 2),
        informal_participants=len(informal),
        informal_participants_men=sum(1 for line in informal if line.sex == "M"),
        informal_participants_women=sum(1 for line in informal if line.sex == "F"),
        informal_hours=round(sum(line.informal_hours for line in informal), 2),
        informal_hours_men=round(sum(line.informal_hours for line in informal if line.sex == "M"), 2),
        informal_hours_women=round(sum(line.informal_hours for line in informal if line.sex == "F"), 2),
        exchange_hours=round(sum(line.exchange_hours for line in lines), 2),
        formal_hours=round(sum(line.formal_hours for line in lines), 2),
        planned_days=round(sum(line.planned_days for line in lines), 2),
        unconfirmed_exchange_hours=round(sum(line.unconfirmed_exchange_hours for line in lines), 2),
    )


def write_report(report: TrainingReport, folder: Path, fmt: str) -> list[Path]:
    """Write the report as one workbook (two sheets) or two CSV files; returns the paths."""
    sheets = {
        "employees": [asdict(line) for line in report.employees],
        "organisations": [asdict(line) for line in report.organisations],
    }
    columns = {"employees": list(EmployeeLine.__dataclass_fields__), "organisations": list(OrganisationLine.__dataclass_fields__)}
    if report.manual:  # retractions a target's API cannot make, with the record's id there
        sheets["manual_actions"] = [asdict(line) for line in report.manual]
        columns["manual_actions"] = list(ManualLine.__dataclass_fields__)
    if fmt == "csv":
        paths = []
        for name, rows in sheets.items():
            content = belgian_csv(columns[name], [[row[c] for c in columns[name]] for row in rows])
            path = folder / f"training-{report.year}-{name}.csv"
            write_atomically(path, content)
            paths.append(path)
        return paths
    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        sheet.append(columns[name])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([neutralise(row[c]) for c in columns[name]])
        print_ready(sheet, columns[name])  # A4 landscape, one page wide, header on every page, formats, widths
    path = folder / f"training-{report.year}.xlsx"
    write_atomically(path, workbook_bytes(workbook))
    return [path]


def belgian_csv(header: list[str], rows: list[list[object]]) -> bytes:
    """CSV as Belgian Excel opens it: UTF-8 with BOM, semicolons, decimal commas, CRLF."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(neutralise(value))
