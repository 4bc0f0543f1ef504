"""Exchange days as BambooHR training records, and the leerbewijs as an employee file.

Each exchange day becomes one training record of the switcher (`completed`, the configured
training `type`, `hours`, the host organisation as `instructor`, and notes naming the
learning question, coach and leerbewijs). The notes end with `st-ref:<record id>`: after a
crash between BambooHR's answer and our bookkeeping, the record is found by that reference
instead of being added twice. A changed day updates its record in place; a day that no
longer counts (absent, declined, the exchange cancelled) has its record deleted.
The leerbewijs PDF is uploaded once into the configured file category, named by its
number; an existing file of that name is taken as already there.

Options: `company`, `api_key`, `training_type` (the id of a training type, see Settings >
Training), `file_category` (the id of an employee file category; without it no files are
uploaded), `share_with_employee` (default true), `employees_from` (the source whose
employee ids to use; default: the organisation's bamboohr source), `url`, `ca_bundle`,
`edc` (default true: the leerbewijs's European Digital Credential is uploaded beside the PDF as
"Leerbewijs <number> (Europass).edc.jsonld", found by that name before uploading again).
"""

from __future__ import annotations

from typing import Any

from connector.leerbewijs.edc import MEDIA_TYPE, SUFFIX, leerbewijs_edc
from connector.leerbewijs.proof import leerbewijs_pdf
from connector.plumbing.http import HttpClient, HttpError
from connector.sinks import (
    LEERBEWIJS,
    TRAINING_RECORD,
    Sink,
    per_employee,
    reference,
)
from connector.sources.bamboohr import (
    bamboohr_client,
    bamboohr_problems,
    training_records,
    training_type_names,
)
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem


class BambooHRSink(Sink):
    kind = "bamboohr"
    object_types = frozenset({TRAINING_RECORD, LEERBEWIJS})
    needs_employee_id = True
    batch_size = 50

    _training_types: dict[str, str] | None = None

    @property
    def client(self) -> HttpClient:
        return bamboohr_client(self.context.runtime, self.name, self.options)

    def problems(self) -> list[str]:
        problems = bamboohr_problems("bamboohr", self.options)
        if not str(self.options.get("training_type", "")).isdigit():
            problems.append("give `training_type`, the id of the BambooHR training type for exchange days (Settings > Training)")
        if self.options.get("file_category") is not None and not str(self.options["file_category"]).isdigit():
            problems.append("`file_category` must be the id of an employee file category")
        return problems

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        def write(item: OutboxItem, employee: str) -> Outcome:
            if item.object_type == TRAINING_RECORD and item.action == "retract":
                return self._retract(item, employee, known.get(item.object_id))
            if item.object_type == TRAINING_RECORD:
                return self._training_record(item, employee, known.get(item.object_id))
            if self.options.get("file_category") is None:
                return Outcome(ok=True, remote_id=None)  # files not wanted here
            return self._leerbewijs(item, employee)

        return per_employee(items, "BambooHR", write, _explain)

    # -- training records ---------------------------------------------------------------

    def _training_record(self, item: OutboxItem, employee: str, ref: ExternalRef | None) -> Outcome:
        problem = self._unknown_training_type()
        if problem:
            return Outcome(ok=False, error=problem)
        body = self._record_body(item)
        remote_id = ref.remote_id if ref is not None else None
        if remote_id is None and item.uncertain:
            remote_id = self._find_record(employee, item.object_id)
        if remote_id is not None:
            # The update request has no `type` (UpdateEmployeeTrainingRecordRequest): a record keeps its type.
            update = {k: v for k, v in body.items() if k != "type"}
            response = self.client.request("PUT", f"training/record/{remote_id}", json=update, accept=(404,))
            if response.status_code != 404:
                return Outcome(ok=True, remote_id=remote_id)
            # removed by hand in BambooHR: add it again, HR wanted these hours recorded
        created = self.client.json("POST", f"training/record/employee/{employee}", json=body)
        return Outcome(ok=True, remote_id=str(created.get("id")) if isinstance(created, dict) and created.get("id") else None)

    def _retract(self, item: OutboxItem, employee: str, ref: ExternalRef | None) -> Outcome:
        """A day that no longer counts: its record is deleted (DELETE training/record/{id}). One
        whose creation may have landed unbooked is looked up by its st-ref first; a record that
        is already gone (404, or none found) leaves nothing to take back."""
        remote_id = ref.remote_id if ref is not None else None
        if remote_id is None or item.uncertain:
            remote_id = self._find_record(employee, item.object_id) or remote_id
        if remote_id is not None:
            self.client.request("DELETE", f"training/record/{remote_id}", accept=(404,))  # idempotent: a repeat finds it gone
        return Outcome(ok=True, remote_id=remote_id)

    def _record_body(self, item: OutboxItem) -> dict[str, Any]:
        record = item.payload
        notes = [record["title"], f"Leervraag: {record['learning_question']}", f"Leercoach: {record['coach']}"]
        if record.get("leerbewijs_number"):
            notes.append(f"Leerbewijs {record['leerbewijs_number']}")
        notes.append(reference(item.object_id))
        return {"completed": record["date"], "type": int(self.options["training_type"]), "hours": record["hours"],
                "instructor": record["provider"], "notes": "\n".join(notes)}

    def _find_record(self, employee: str, object_id: str) -> str | None:
        marker = reference(object_id)
        for record in training_records(self.client.json("GET", f"training/record/employee/{employee}")):
            if str(record.get("notes") or "").rstrip().endswith(marker):
                return str(record.get("id"))
        return None

    def _unknown_training_type(self) -> str | None:
        if self._training_types is None:
            self._training_types = training_type_names(self.client)
        wanted = str(self.options["training_type"])
        if wanted in self._training_types:
            return None
        known = ", ".join(f"{k} ({v})" for k, v in sorted(self._training_types.items())) or "none"
        return f"training type {wanted} does not exist in BambooHR (known: {known}); set `training_type` to one of these"

    # -- leerbewijzen ------------------------------------------------------------------

    def _leerbewijs(self, item: OutboxItem, employee: str) -> Outcome:
        name = f"Leerbewijs {item.object_id}.pdf"
        existing = self._find_file(employee, name)
        if existing is not None:
            self._edc(item, employee)
            return Outcome(ok=True, remote_id=existing)
        pdf = leerbewijs_pdf(self.context.runtime, item.payload["content"], item.payload["fingerprint"])
        share = "yes" if self.options.get("share_with_employee", True) else "no"
        response = self.client.request("POST", f"employees/{employee}/files",
                                       data={"fileName": name, "category": str(self.options["file_category"]), "share": share},
                                       files={"file": (name, pdf, "application/pdf")})
        location = response.headers.get("Location", "")
        self._edc(item, employee)
        return Outcome(ok=True, remote_id=location.rstrip("/").rsplit("/", 1)[-1] or name)

    def _edc(self, item: OutboxItem, employee: str) -> None:
        """The European Digital Credential beside the PDF (option `edc = false`: not). Looked up by
        name first, like the PDF: a repeated item never uploads it twice."""
        if not self.options.get("edc", True):
            return
        name = f"Leerbewijs {item.object_id} (Europass){SUFFIX}"
        edc = leerbewijs_edc(self.context.runtime, item.payload["content"])
        if edc is None or self._find_file(employee, name) is not None:
            return
        share = "yes" if self.options.get("share_with_employee", True) else "no"
        self.client.request("POST", f"employees/{employee}/files",
                            data={"fileName": name, "category": str(self.options["file_category"]), "share": share},
                            files={"file": (name, edc, MEDIA_TYPE)})

    def _find_file(self, employee: str, name: str) -> str | None:
        listing = self.client.json("GET", f"employees/{employee}/files/view")
        for category in (listing.get("categories") if isinstance(listing, dict) else None) or []:
            for file in category.get("files") or []:
                if name in (file.get("name"), file.get("originalFileName")):
                    return str(file.get("id"))
        return None


def _explain(error: HttpError) -> str:
    if error.status == 404:
        return "BambooHR does not know this employee (deleted, or the API key may not see them)"
    if error.status == 403:
        return "the API key's user may not add training or files for this employee"
    return str(error)


SINK = BambooHRSink
