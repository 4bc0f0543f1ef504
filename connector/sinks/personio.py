"""The leerbewijs as a document in the switcher's Personio profile.

Personio's API has no training object, so the proof of the exchange days is filed where HR
looks: `POST /v1/company/documents` (title, comment, employee_id, category_id, date, the
PDF). Uploads are not idempotent there, so before uploading again after a crash the
employee's documents in the category are listed (`GET /v2/document-management/documents`)
and a document with the same title is taken as already there. If that list cannot be read,
nothing is uploaded and the item waits for the next run: a missing upload is visible in the
summary, a doubled one is not.
Options: `client_id`, `client_secret`, `category_id` (a document category, see
`GET /v1/company/document-categories`), `employees_from`, `url`, `ca_bundle`.
"""

from __future__ import annotations

from typing import Any

from connector.http import HttpClient, HttpError, NextLinkInBody
from connector.leerbewijs import render_pdf
from connector.outbox import Outcome
from connector.sinks import LEERBEWIJS, Sink, describe, unknown_employee
from connector.sources.personio import personio_client, personio_problems
from connector.store.tables import ExternalRef, OutboxItem


class PersonioDocuments(Sink):
    kind = "personio"
    object_types = frozenset({LEERBEWIJS})
    needs_employee_id = True
    batch_size = 20  # uploads are limited to 60 a minute

    @property
    def client(self) -> HttpClient:
        return personio_client(self.context.runtime, self.options)

    def problems(self) -> list[str]:
        problems = personio_problems("personio", self.options)
        if not str(self.options.get("category_id", "")).isdigit():
            problems.append("give `category_id`, the id of the Personio document category for leerbewijzen")
        return problems

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        outcomes = []
        for item in items:
            unknown = unknown_employee(item.payload, "Personio")
            if unknown is not None:
                outcomes.append(unknown)
                continue
            employee = str(item.payload["employee_id"])
            try:
                outcomes.append(self._upload(item, employee))
            except HttpError as error:
                hint = " (Personio does not know this employee)" if error.status in (404, 422) else ""
                outcomes.append(Outcome(ok=False, error=f"{describe(item.payload)}, Personio employee {employee}: {error}{hint}"))
        return outcomes

    def _upload(self, item: OutboxItem, employee: str) -> Outcome:
        title = f"Leerbewijs {item.object_id}"
        if item.uncertain:
            existing = self._find(employee, title)
            if existing is not None:
                return Outcome(ok=True, remote_id=existing)
        content = item.payload["content"]
        pdf = render_pdf(content, item.payload["fingerprint"])
        form = {"title": title, "employee_id": employee, "category_id": str(self.options["category_id"]),
                "date": content["issued_on"], "comment": f"Switching Talent: {content['place']} ({content['host']['name']})"}
        answer = self.client.json("POST", "company/documents", data=form, files={"file": (f"{title}.pdf", pdf, "application/pdf")})
        return Outcome(ok=True, remote_id=_document_id(answer) or title)

    def _find(self, employee: str, title: str) -> str | None:
        params = {"owner_id": employee, "category_id": str(self.options["category_id"]), "limit": 100}
        paging = NextLinkInBody(path="_meta.links.next.href")
        for page in self.client.paginate("../v2/document-management/documents", paging, params=params, records_path="_data"):
            for document in page.records:
                if title in (document.get("title"), document.get("name"), str(document.get("file_name", "")).removesuffix(".pdf")):
                    return str(document.get("id"))
        return None


def _document_id(answer: Any) -> str | None:
    data = answer.get("data") if isinstance(answer, dict) else None
    if isinstance(data, dict):
        found = data.get("id") or (data.get("attributes") or {}).get("id")
        return str(found) if found is not None else None
    return None


SINK = PersonioDocuments
