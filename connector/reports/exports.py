"""Per organisation and year, what L&D and the accountant need, in the organisation's language:

- training accounts: per employee the entitlement, days followed (formal and informal,
  pulled and exchanges, with the leerbewijs numbers), carry-over, 2024-2028 average, balance;
- the training followed, one line per record (the evidence), exchange days with their leerbewijs;
- the training plan view by target group (department, work regime, sex);
- the informal-training totals of the social balance sheet (workers, hours, cost, men and
  women) under the National Bank's rubric codes, each checked against the model form table
  (`nbb_social_balance.toml`) before it is printed;
- a chart of hours followed against the entitlement per department.

As one XLSX workbook, as CSV files (Belgian decimals) or as one JSON document.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from connector.core.config import Config
from connector.core.errors import ConfigError
from connector.core.texts import text
from connector.plumbing.files import neutralise, safe_filename, write_atomically
from connector.plumbing.xlsx import print_ready, workbook_bytes
from connector.reports.training import (
    EmployeeLine,
    OrganisationLine,
    RecordLine,
    TrainingReport,
    belgian_csv,
)

ACCOUNT_COLUMNS = ["employee_number", "name", "department", "fte", "months_begun", "entitlement_days", "hours_per_day",
                   "formal_hours", "informal_hours", "exchange_hours", "unconfirmed_exchange_hours", "days_followed", "balance_days", "carried_in_days",
                   "account_balance_days", "period_average_days", "leerbewijzen", "planned_days", "planned_items"]
PLAN_COLUMNS = ["group_kind", "group", "workers", "entitlement_days", "days_followed", "share", "informal_hours", "exchange_hours",
                "without_training"]
RECORD_COLUMNS = ["employee_number", "name", "date", "kind", "origin", "hours", "title", "provider", "leerbewijs_number"]
BALANCE_COLUMNS = ["code", "section", "measure", "sex", "value"]
CHART_COLUMNS = ["department", "hours_followed", "entitlement_hours"]

# What the export prints under which code. Kept apart from the model form table on purpose:
# the check below compares the two, so a wrong code here (or a changed form) stops the export.
INFORMAL_RUBRICS = {("M", "workers"): "5821", ("M", "hours"): "5822", ("M", "net_cost"): "5823",
                    ("F", "workers"): "5831", ("F", "hours"): "5832", ("F", "net_cost"): "5833"}


@dataclass(frozen=True)
class Rubric:
    code: str
    section: str
    sex: str
    measure: str


def model_form() -> tuple[dict[str, Rubric], dict[str, dict[str, str]]]:
    document = tomllib.loads((Path(__file__).parent / "nbb_social_balance.toml").read_text(encoding="utf-8"))
    rubrics = {code: Rubric(code, **fields) for code, fields in document["rubrics"].items()}
    return rubrics, document["labels"]


def check_rubrics(printed: dict[tuple[str, str], str], section: str, rubrics: dict[str, Rubric]) -> None:
    problems = []
    for (sex, measure), code in printed.items():
        rubric = rubrics.get(code)
        if rubric is None:
            problems.append(f"social balance sheet: code {code} is not on the National Bank's model form")
        elif (rubric.section, rubric.sex, rubric.measure) != (section, sex, measure):
            problems.append(f"social balance sheet: code {code} is {rubric.section}/{rubric.sex}/{rubric.measure} on the model form, "
                            f"not {section}/{sex}/{measure}")
    if problems:
        raise ConfigError(problems)


@dataclass(frozen=True)
class OrganisationExport:
    organisation: str
    name: str
    year: int
    language: str
    accounts: list[dict[str, Any]]
    records: list[dict[str, Any]]
    plan: list[dict[str, Any]]
    social_balance: list[dict[str, Any]]
    chart: list[dict[str, Any]]
    notes: list[str]


def build_exports(report: TrainingReport, config: Config) -> list[OrganisationExport]:
    rubrics, labels = model_form()
    check_rubrics(INFORMAL_RUBRICS, "informal", rubrics)
    exports = []
    for line in report.organisations:
        settings = config.organisation(line.organisation)
        language = str(settings.language) if settings else "nl"
        employees = [e for e in report.employees if e.organisation == line.organisation]
        cost = settings.informal_hour_cost if settings else None
        notes = [] if cost is not None else [text(language, "balance.cost_missing")]
        exports.append(OrganisationExport(
            organisation=line.organisation, name=line.name, year=report.year, language=language,
            accounts=[_account(e) for e in employees],
            records=[_record(r, language) for r in report.records if r.organisation == line.organisation],
            plan=_plan(employees, language),
            social_balance=_social_balance(line, cost, labels[language], language), chart=_chart(employees, language), notes=notes))
    return exports


def _account(line: EmployeeLine) -> dict[str, Any]:
    row = asdict(line)
    row["name"] = f"{line.last_name} {line.first_name}".strip()
    return {column: row[column] for column in ACCOUNT_COLUMNS}


def _record(line: RecordLine, language: str) -> dict[str, Any]:
    row = asdict(line)
    row["kind"] = text(language, f"kind.{line.kind}")
    row["origin"] = text(language, "origin.exchange") if line.origin == "exchange" else line.origin
    return {column: row[column] for column in RECORD_COLUMNS}


def _plan(employees: list[EmployeeLine], language: str) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[EmployeeLine]] = {}
    for line in employees:
        keys = [("department", line.department or text(language, "none")),
                ("regime", text(language, "regime.full") if line.fte >= 1 else text(language, "regime.part")),
                ("sex", text(language, f"sex.{line.sex}" if line.sex else "sex.unknown"))]
        for kind, group in keys:
            groups.setdefault((kind, group), []).append(line)
    rows = []
    for (kind, group), members in sorted(groups.items(), key=lambda item: (["department", "regime", "sex"].index(item[0][0]), item[0][1])):
        entitled = round(sum(m.entitlement_days or 0 for m in members), 2)
        followed = round(sum(m.days_followed for m in members), 2)
        rows.append({"group_kind": text(language, f"group.{kind}"), "group": group, "workers": len(members),
                     "entitlement_days": entitled, "days_followed": followed,
                     "share": round(100 * followed / entitled, 1) if entitled else None,
                     "informal_hours": round(sum(m.informal_hours for m in members), 2),
                     "exchange_hours": round(sum(m.exchange_hours for m in members), 2),
                     "without_training": sum(1 for m in members if m.days_followed == 0)})
    return rows


def _social_balance(line: OrganisationLine, cost: float | None, labels: dict[str, str], language: str) -> list[dict[str, Any]]:
    values = {("M", "workers"): line.informal_participants_men, ("M", "hours"): line.informal_hours_men,
              ("F", "workers"): line.informal_participants_women, ("F", "hours"): line.informal_hours_women}
    if cost is not None:
        values[("M", "net_cost")] = round(line.informal_hours_men * cost, 2)
        values[("F", "net_cost")] = round(line.informal_hours_women * cost, 2)
    return [{"code": code, "section": labels["informal"], "measure": labels[measure], "sex": labels[sex],
             "value": values.get((sex, measure))} for (sex, measure), code in INFORMAL_RUBRICS.items()]


def _chart(employees: list[EmployeeLine], language: str) -> list[dict[str, Any]]:
    per: dict[str, dict[str, float]] = {}
    for line in employees:
        department = line.department or text(language, "none")
        totals = per.setdefault(department, {"hours_followed": 0.0, "entitlement_hours": 0.0})
        totals["hours_followed"] += line.formal_hours + line.informal_hours
        totals["entitlement_hours"] += (line.entitlement_days or 0) * line.hours_per_day
    return [{"department": name, "hours_followed": round(sums["hours_followed"], 2), "entitlement_hours": round(sums["entitlement_hours"], 2)}
            for name, sums in sorted(per.items())]


# -- writing -------------------------------------------------------------------------------

SHEETS = (("accounts", ACCOUNT_COLUMNS), ("records", RECORD_COLUMNS), ("plan", PLAN_COLUMNS), ("balance", BALANCE_COLUMNS), ("chart", CHART_COLUMNS))


def _rows(export: OrganisationExport, sheet: str) -> list[dict[str, Any]]:
    return {"accounts": export.accounts, "records": export.records, "plan": export.plan, "balance": export.social_balance, "chart": export.chart}[sheet]


def write_exports(exports: list[OrganisationExport], folder: Path, fmt: str) -> list[Path]:
    paths = []
    for export in exports:
        base = folder / safe_filename(export.organisation)
        stem = f"training-{export.year}"
        if fmt == "json":
            document = {**asdict(export), "rubrics_checked_against": "National Bank of Belgium social balance sheet model form"}
            path = base / f"{stem}.json"
            rendered = json.dumps(document, ensure_ascii=False, indent=2, default=lambda value: value.isoformat())  # dates as ISO 8601
            write_atomically(path, (rendered + "\n").encode("utf-8"))
            paths.append(path)
        elif fmt == "csv":
            for sheet, columns in SHEETS:
                path = base / f"{stem}-{sheet}.csv"
                write_atomically(path, _csv(export, _rows(export, sheet), columns))
                paths.append(path)
        else:
            path = base / f"{stem}.xlsx"
            write_atomically(path, _workbook(export))
            paths.append(path)
    return paths


def _header(language: str, column: str) -> str:
    return text(language, f"col.{column}")


def _csv(export: OrganisationExport, rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    return belgian_csv([_header(export.language, c) for c in columns], [[row[c] for c in columns] for row in rows])


def _workbook(export: OrganisationExport) -> bytes:
    language = export.language
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet_name, columns in SHEETS:
        sheet = workbook.create_sheet(text(language, f"sheet.{sheet_name}")[:31])
        start = 1
        if sheet_name == "balance":
            sheet.append([text(language, "balance.title", year=export.year, name=export.name, number=export.organisation)])
            sheet["A1"].font = Font(bold=True)
            sheet.append([])
            start = 3
        sheet.append([_header(language, c) for c in columns])
        for cell in sheet[start]:
            cell.font = Font(bold=True)
        for row in _rows(export, sheet_name):
            # a real percentage: the fraction, shown as 12.4 % by the column's format (CSV and JSON keep 12.4)
            sheet.append([neutralise(row[c] / 100 if c == "share" and row[c] is not None else row[c]) for c in columns])
        last_row = sheet.max_row
        if sheet_name == "balance":
            for note in export.notes:
                sheet.append([])
                sheet.append([note])
        # printed or converted: one page wide, the header on every page, one number format per column
        print_ready(sheet, columns, header_row=start, last_row=last_row, max_width=70)
        if sheet_name == "chart" and export.chart:
            _add_chart(sheet, len(export.chart), text(language, "chart.title", year=export.year))
    return workbook_bytes(workbook)


def _add_chart(sheet: Any, rows: int, title: str) -> None:
    chart = BarChart()
    chart.type = "col"
    chart.title = title
    chart.y_axis.title = "h"
    chart.add_data(Reference(sheet, min_col=2, max_col=3, min_row=1, max_row=rows + 1), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=rows + 1))
    chart.width, chart.height = 18, 9
    sheet.add_chart(chart, "E2")
