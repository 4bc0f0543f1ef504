"""The leerbewijs as a document in the switcher's Personio profile, and optionally the
switcher's exchange hours this year in a custom attribute.

Personio's API has no training object, so the proof of the exchange days is filed where HR
looks: `POST /v1/company/documents` (title, comment, employee_id, category_id, date, the
PDF). Uploads are not idempotent there, so before uploading again after a crash the
employee's documents in the category are listed (`GET /v2/document-management/documents`,
with a v2 token of its own) and a document with the same title is taken as already there. If that list cannot be read,
nothing is uploaded and the item waits for the next run: a missing upload is visible in the
summary, a doubled one is not.
The yearly hours go to a decimal custom attribute (`hours_attribute = "dynamic_<id>"`) with
`PATCH /v1/company/employees/{id}`; setting a value is idempotent, and it is only sent when
the total changed (a new year starts again at 0).
Options: `client_id`, `client_secret`, `category_id` (a document category, see
`GET /v1/company/document-categories`), `hours_attribute`, `employees_from`, `url`, `ca_bundle`,
`edc` (default true: the leerbewijs's European Digital Credential is uploaded beside the PDF as
"Leerbewijs <number> (Europass)", with the text on importing it into Europass as its comment).
"""

from __future__ import annotations

import re
from typing import Any

from connector.leerbewijs.edc import MEDIA_TYPE, SUFFIX, europass_note, leerbewijs_edc
from connector.leerbewijs.issuer import IssuerProfile
from connector.leerbewijs.proof import leerbewijs_pdf
from connector.plumbing.http import HttpClient, HttpError, NextLinkInBody
from connector.sinks import LEERBEWIJS, YEARLY_HOURS, Sink, describe, per_employee
from connector.sources.personio import personio_client, personio_problems, personio_v2_client
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem


class PersonioDocuments(Sink):
    kind = "personio"
    object_types = frozenset({LEERBEWIJS, YEARLY_HOURS})
    needs_employee_id = True
    batch_size = 20  # uploads are limited to 60 a minute

    @property
    def client(self) -> HttpClient:
        return personio_client(self.context.runtime, self.options)

    def problems(self) -> list[str]:
        problems = personio_problems("personio", self.options)
        if "category_id" in self.options and not str(self.options["category_id"]).isdigit():
            problems.append("`category_id` is the number of a Personio document category (GET /v1/company/document-categories)")
        attribute = self.options.get("hours_attribute")
        if attribute is not None and not re.fullmatch(r"dynamic_\d+", str(attribute)):
            problems.append(f"`hours_attribute` is a custom attribute key like dynamic_1146702, not '{attribute}'")
        if not self.takes():
            problems.append("give `category_id` (leerbewijzen as documents) and/or `hours_attribute` (yearly exchange hours)")
        return problems

    def takes(self) -> frozenset[str]:
        wanted = {LEERBEWIJS: "category_id", YEARLY_HOURS: "hours_attribute"}
        return frozenset(kind for kind, option in wanted.items() if self.options.get(option))

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        def write(item: OutboxItem, employee: str) -> Outcome:
            return self._set_hours(item, employee) if item.object_type == YEARLY_HOURS else self._upload(item, employee)

        return per_employee(items, "Personio", write, _explain)

    def _upload(self, item: OutboxItem, employee: str) -> Outcome:
        title = f"Leerbewijs {item.object_id}"
        existing_pdf = self._find(employee, title) if item.uncertain else None
        if existing_pdf is not None and not self.options.get("edc", True):
            return Outcome(ok=True, remote_id=existing_pdf)
        content = item.payload["content"]
        form = {"title": title, "employee_id": employee, "category_id": str(self.options["category_id"]),
                "date": content["issued_on"], "comment": f"Switching Talent: {content['place']} ({content['host']['name']})"}
        if existing_pdf is None:
            pdf = leerbewijs_pdf(self.context.runtime, content, item.payload["fingerprint"])
            answer = self.client.json("POST", "company/documents", data=form, files={"file": (f"{title}.pdf", pdf, "application/pdf")})
            existing_pdf = _document_id(answer) or title
        edc = leerbewijs_edc(self.context.runtime, content) if self.options.get("edc", True) else None
        if edc is not None:
            # The EDC beside it, with the text on importing it into Europass. Once the PDF landed,
            # a failure here is reported uncertain, so the repeat looks both up by title first.
            edc_title = f"{title} (Europass)"
            if not (item.uncertain and self._find(employee, edc_title) is not None):
                note = europass_note(content, IssuerProfile.of(self.context.config).name)
                try:
                    self.client.json("POST", "company/documents", data={**form, "title": edc_title, "comment": note},
                                     files={"file": (f"{item.object_id}{SUFFIX}", edc, MEDIA_TYPE)})
                except HttpError as error:
                    return Outcome(ok=False, error=f"{describe(item.payload)}: the PDF is in Personio, its EDC not: {error}",
                                   uncertain=True)
        return Outcome(ok=True, remote_id=existing_pdf)

    def _set_hours(self, item: OutboxItem, employee: str) -> Outcome:
        attribute = str(self.options["hours_attribute"])
        self.client.json("PATCH", f"company/employees/{employee}",
                         json={"employee": {"custom_attributes": {attribute: item.payload["hours"]}}}, idempotent=True)  # sets a value
        return Outcome(ok=True, remote_id=f"{employee}/{attribute}")

    def _find(self, employee: str, title: str) -> str | None:
        params = {"owner_id": employee, "category_id": str(self.options["category_id"]), "limit": 100}
        paging = NextLinkInBody(path="_meta.links.next.href")
        client = personio_v2_client(self.context.runtime, self.options)
        for page in client.paginate("v2/document-management/documents", paging, params=params, records_path="_data"):
            for document in page.records:
                if title in (document.get("title"), document.get("name"), str(document.get("file_name", "")).removesuffix(".pdf")):
                    return str(document.get("id"))
        return None


def _explain(error: HttpError) -> str:
    return f"{error} (Personio does not know this employee)" if error.status in (404, 422) else str(error)


def _document_id(answer: Any) -> str | None:
    data = answer.get("data") if isinstance(answer, dict) else None
    if isinstance(data, dict):
        found = data.get("id") or (data.get("attributes") or {}).get("id")
        return str(found) if found is not None else None
    return None


SINK = PersonioDocuments
