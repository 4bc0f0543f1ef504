"""The training ledger of a sending employer, as CSV and XLSX an HR system can import.

One row per training record, keyed by `record_id`: delivering a record again replaces its
row, so the files hold each exchange day exactly once however often a run is repeated. A
day that no longer counts (absent, declined, the exchange cancelled, moved ahead) is voided:
its row stays, with status `voided` and the reason, so an import can take it back.
Both files are rewritten whole through a temporary file. Text that a spreadsheet would
read as a formula (starting with = + - @) is prefixed with an apostrophe.

Options: `directory` (default `ledgers/<organisation>`), `delimiter` (default `;`, as
Belgian Excel expects), `decimal` (default `,`).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from connector.core.texts import text
from connector.plumbing.files import FORMULA_START, neutralise, safe_filename, write_atomically
from connector.plumbing.xlsx import print_ready, workbook_bytes
from connector.sinks import TRAINING_RECORD, Sink
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem

COLUMNS = [
    "record_id", "employee_number", "email", "last_name", "first_name", "date", "hours", "kind", "type",
    "title", "provider", "coach", "learning_question", "leerbewijs_number", "status", "reason",
]
RECORDED, VOIDED = "recorded", "voided"
# Why a day no longer counts, as the planner says it (engine/plan.py), by catalog key: the
# ledger is read by the employer's HR, in the organisation's language.
REASONS = {"marked absent": "absent", "the exchange was cancelled": "cancelled", "the exchange is not confirmed": "not_confirmed",
           "the exchange is no longer confirmed": "no_longer_confirmed", "declined in the calendar": "declined",
           "the session was removed from the cohort sheet": "removed", "not confirmed as attended": "unconfirmed"}
MOVED = re.compile(r"the session was moved to (\d{4})-(\d{2})-(\d{2})")


def reason_text(reason: str | None, language: str) -> str | None:
    """The planner's reason in `language` ('marked absent' -> 'afwezig gemeld'); another text as it is."""
    if not reason:
        return reason
    moved = MOVED.fullmatch(reason)
    if moved:
        year, month, day = moved.groups()
        return text(language, "ledger.reason.moved", day=f"{day}/{month}/{year}")
    return text(language, f"ledger.reason.{REASONS[reason]}") if reason in REASONS else reason


class LedgerFiles(Sink):
    kind = "ledger_files"
    object_types = frozenset({TRAINING_RECORD})
    batch_size = 5000

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        by_organisation: dict[str, list[OutboxItem]] = defaultdict(list)
        for item in items:
            by_organisation[item.payload["organisation"]].append(item)
        outcomes: dict[int, Outcome] = {}
        for organisation, group in by_organisation.items():
            folder = self.context.output_dir / str(self.options.get("directory", f"ledgers/{safe_filename(organisation)}"))
            csv_path = folder / "training-ledger.csv"
            rows = self._read(csv_path)
            for item in group:
                record_id = item.payload["record_id"]
                if item.action == "retract":
                    # voided, not deleted: the ledger keeps what was written and says why it no longer counts
                    if record_id in rows:
                        rows[record_id] = {**rows[record_id], "status": VOIDED,
                                           "reason": reason_text(item.payload.get("reason"), self._language(organisation))}
                    continue
                rows[record_id] = {**{c: item.payload.get(c) for c in COLUMNS}, "status": RECORDED, "reason": None}
            ordered = sorted(rows.values(), key=lambda r: (str(r["date"]), str(r["employee_number"] or ""), str(r["record_id"])))
            write_atomically(csv_path, self._csv(ordered))
            write_atomically(folder / "training-ledger.xlsx", self._xlsx(ordered))
            for item in group:
                outcomes[item.id] = Outcome(ok=True, remote_id=f"{csv_path.relative_to(self.context.output_dir)}#{item.payload['record_id']}")
        return [outcomes[item.id] for item in items]

    def _language(self, organisation: str) -> str:
        found = self.context.config.organisation(organisation)
        return found.language.value if found is not None else self.context.config.partner.language.value

    def problems(self) -> list[str]:
        """A delimiter and a decimal mark of one character each, and not the same one: a
        spreadsheet could not tell 7,5 hours from two columns."""
        found = []
        for option in ("delimiter", "decimal"):
            value = self.options.get(option)
            if value is not None and (not isinstance(value, str) or len(value) != 1 or value in '"\r\n'):
                found.append(f"{option} must be one character such as ';' or ',', not {value!r}")
        if not found and self.delimiter == self.decimal:
            found.append(f"delimiter and decimal are both {self.delimiter!r}: a reader could not tell a decimal from a column; "
                         "use delimiter = \";\" with decimal = \",\", or delimiter = \",\" with decimal = \".\"")
        return found

    @property
    def delimiter(self) -> str:
        return str(self.options.get("delimiter", ";"))

    @property
    def decimal(self) -> str:
        return str(self.options.get("decimal", ","))

    def _read(self, path: Path) -> dict[str, dict[str, Any]]:
        if not path.exists():
            return {}
        reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline=""), delimiter=self.delimiter)
        rows = {}
        for row in reader:
            clean: dict[str, Any] = {c: _restore(row.get(c)) for c in COLUMNS}
            if clean["hours"] not in (None, ""):
                clean["hours"] = float(str(clean["hours"]).replace(self.decimal, "."))
            rows[str(clean["record_id"])] = clean
        return rows

    def _csv(self, rows: list[dict[str, Any]]) -> bytes:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, delimiter=self.delimiter, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([self._cell(c, row.get(c)) for c in COLUMNS])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")

    def _cell(self, column: str, value: Any) -> str:
        if value is None:
            return ""
        if column == "hours":
            return f"{float(value):g}".replace(".", self.decimal)
        return str(neutralise(value))

    def _xlsx(self, rows: list[dict[str, Any]]) -> bytes:
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Training"
        sheet.append(COLUMNS)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            values = [neutralise(row.get(c)) for c in COLUMNS]
            values[COLUMNS.index("date")] = datetime.fromisoformat(str(row["date"])).date() if row.get("date") else None
            sheet.append(values)
            sheet.cell(sheet.max_row, COLUMNS.index("date") + 1).number_format = "DD/MM/YYYY"
        print_ready(sheet, COLUMNS)  # A4 landscape, one page wide, header on every page, formats, widths
        return workbook_bytes(workbook)


def _restore(value: str | None) -> str | None:
    """Undo our own neutralising when reading the ledger back, so it is not applied twice."""
    if value is None or value == "":
        return None
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


SINK = LedgerFiles
