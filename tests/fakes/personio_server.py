"""A stand-in for the Personio API on loopback, with the shapes its documentation gives.

Shapes and statuses are those of tests/contracts/personio.json (personio/api-docs OpenAPI
for v1, developer.personio.de's v2 reference), which the base class holds every request
and answer to:
- `POST /v1/auth` (client_id, client_secret) answers `{"success": true, "data": {"token"}}`;
  v1 tokens open /v1 only.
- `POST /v2/auth/token` (form: grant_type client_credentials, client_id, client_secret)
  answers `{access_token, token_type, expires_in}`; v2 tokens open /v2 only.
- `GET /v1/company/employees`: `limit` (at most 100) and `offset`, `updated_since`;
  answers `success`, `metadata {total_elements, current_page, total_pages}`, `offset`,
  `limit`, `data` of `{"type": "Employee", "attributes": {name: {label, value, type,
  universal_id}}}`; custom attributes are `dynamic_<id>`.
- `POST /v1/company/documents` (multipart: title, comment, employee_id, category_id, date,
  file) answers 201 with the document; an unknown employee or category 404.
- `GET /v2/document-management/documents?owner_id=&category_id=`: `_data` and
  `_meta.links.next.href`.
- `PATCH /v1/company/employees/{employee_id}` (`{"employee": {"custom_attributes": {...}}}`)
  answers 200, or 422 for an attribute the company does not have.
Tokens expire on demand (`expire_tokens()`), and `hired_while_reading` hires someone after
the first page of a listing, which moves every later employee one place down.
"""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlencode

from tests.fakes.loopback import Answer, LoopbackAPI, Request

CLIENT_ID = "papi-fake-client"
CLIENT_SECRET = "papi-fake-secret"
NUMBER_ATTRIBUTE = "dynamic_1146666"
CATEGORY = 88
HOURS_ATTRIBUTE = "dynamic_1146702"  # a decimal attribute "Uitwisselingsuren dit jaar"


def _attribute(label: str, value: Any, kind: str = "standard", universal_id: str | None = None) -> dict[str, Any]:
    return {"label": label, "value": value, "type": kind, "universal_id": universal_id}


class FakePersonio(LoopbackAPI):
    def __init__(self) -> None:
        super().__init__(contract="personio")
        self.employees: list[dict[str, Any]] = []  # in Personio's order
        self.documents: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        self.v2_tokens: set[str] = set()
        self._numbers = itertools.count(1)
        self.hired_while_reading: list[dict[str, Any]] = []  # one is hired after each listing's first page
        self.route("auth", "POST", "/v1/auth", self._auth)
        self.route("v2_auth", "POST", "/v2/auth/token", self._v2_auth)
        self.route("employees", "GET", "/v1/company/employees", self._employees)
        self.route("upload", "POST", "/v1/company/documents", self._upload)
        self.route("documents", "GET", "/v2/document-management/documents", self._documents)
        self.route("update", "PATCH", r"/v1/company/employees/(\d+)", self._update)

    @property
    def url(self) -> str:
        return f"{self.base}/v1/"

    def employee(self, personio_id: int, number: str, first: str, last: str, email: str, department: str, **extra: Any) -> dict[str, Any]:
        attributes = {
            "id": _attribute("ID", personio_id, "integer", "id"),
            "first_name": _attribute("First name", first, universal_id="first_name"),
            "last_name": _attribute("Last name", last, universal_id="last_name"),
            "email": _attribute("Email", email, universal_id="email"),
            "status": _attribute("Status", extra.pop("status", "active"), universal_id="status"),
            "position": _attribute("Position", extra.pop("position", None), universal_id="position"),
            "department": _attribute("Department", {"type": "Department", "attributes": {"id": 1000 + personio_id, "name": department}},
                                     universal_id="department"),
            "office": _attribute("Office", {"type": "Office", "attributes": {"id": 7, "name": "Lokeren"}}, universal_id="office"),
            "hire_date": _attribute("Hire date", extra.pop("hire_date", "2018-10-01T00:00:00+02:00"), "date", "hire_date"),
            "termination_date": _attribute("Termination date", None, "date", "termination_date"),
            "weekly_working_hours": _attribute("Weekly hours", extra.pop("weekly_hours", "38"), universal_id="weekly_working_hours"),
            NUMBER_ATTRIBUTE: _attribute("Personeelsnummer", number, "dynamic"),
            HOURS_ATTRIBUTE: _attribute("Uitwisselingsuren dit jaar", None, "decimal"),
        }
        return {"type": "Employee", "attributes": attributes}

    def add(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        employee = self.employee(*args, **kwargs)
        self.employees.append(employee)
        return employee

    def expire_tokens(self) -> None:
        self.tokens.clear()
        self.v2_tokens.clear()

    # -- handlers ----------------------------------------------------------------------------

    def _auth(self, request: Request) -> Answer:
        body = request.json() or {}
        if body.get("client_id") != CLIENT_ID or body.get("client_secret") != CLIENT_SECRET:
            return Answer(403, {"success": False, "error": {"code": 0, "message": "Wrong API credentials"}})
        token = f"papi-token-{next(self._numbers)}"
        self.tokens.add(token)
        return Answer(200, {"success": True, "data": {"token": token}})

    def _v2_auth(self, request: Request) -> Answer:
        form = request.form()
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return Answer(401, {"error": "invalid_client", "error_description": "Wrong API credentials"})
        token = f"v2-token-{next(self._numbers)}"
        self.v2_tokens.add(token)
        return Answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": 86400, "scope": "documents:read"})

    def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer | None:
        if not target.startswith(("/v1/auth", "/v2/auth/token")):
            token = headers.get("authorization", "").removeprefix("Bearer ")
            if token not in (self.v2_tokens if target.startswith("/v2/") else self.tokens):
                self.requests["unauthorised"] += 1
                return Answer(401, {"success": False, "error": {"code": 0, "message": "The token is invalid or expired"}})
        return super().dispatch(method, target, headers, body)

    def _employees(self, request: Request) -> Answer:
        limit = min(int(request.param("limit", "50") or 50), 100)
        offset = int(request.param("offset", "0") or 0)
        page = self.employees[offset:offset + limit]
        total = len(self.employees)
        answer = {"success": True, "metadata": {"total_elements": total, "current_page": offset // limit,
                                                "total_pages": -(-total // limit)},
                  "offset": offset, "limit": limit, "data": page}
        if self.hired_while_reading and offset == 0:
            self.employees.insert(0, self.hired_while_reading.pop(0))  # moves everyone after one place down
        return Answer(200, answer)

    def attribute(self, personio_id: int, key: str) -> Any:
        employee = next(e for e in self.employees if e["attributes"]["id"]["value"] == personio_id)
        return employee["attributes"][key]["value"]

    def _update(self, request: Request) -> Answer:
        personio_id = int(request.match.group(1))
        employee = next((e for e in self.employees if e["attributes"]["id"]["value"] == personio_id), None)
        if employee is None:
            return Answer(422, {"success": False, "error": {"code": 0, "message": "Employee not found"}})
        custom = (request.json().get("employee") or {}).get("custom_attributes") or {}
        unknown = [key for key in custom if key not in employee["attributes"]]
        if unknown:
            return Answer(422, {"success": False, "error": {"code": 0, "message": f"Unknown attribute {unknown[0]}"}})
        for key, value in custom.items():
            employee["attributes"][key]["value"] = value
        return Answer(200, {"success": True, "data": {"id": personio_id, "message": "success"}})

    def _upload(self, request: Request) -> Answer:
        form = request.form()
        filename, content = form["file"]
        if not any(e["attributes"]["id"]["value"] == int(form["employee_id"]) for e in self.employees):
            return Answer(404, {"success": False, "error": {"code": 0, "message": "No query results for model [Employee]"}})
        document = {"id": 5000 + len(self.documents), "title": form["title"], "owner_id": int(form["employee_id"]),
                    "category_id": int(form["category_id"]), "date": form.get("date"), "comment": form.get("comment"),
                    "file_name": filename, "size": len(content)}
        self.documents.append(document)
        return Answer(201, {"success": True, "data": {"id": document["id"], "type": "Document", "attributes": {
            "title": document["title"], "date": document["date"], "comment": document["comment"]}}})

    def _documents(self, request: Request) -> Answer:
        """Cursor pages of `limit` (default 50), the next one linked in `_meta.links.next.href`."""
        owner = int(request.param("owner_id") or 0)
        category = request.param("category_id")
        found = [d for d in self.documents if d["owner_id"] == owner and (category is None or d["category_id"] == int(category))]
        limit = int(request.param("limit") or 50)
        start = int(request.param("cursor") or 0)
        page = found[start:start + limit]
        links: dict[str, Any] = {}
        if start + limit < len(found):
            query = urlencode({"owner_id": owner, **({"category_id": category} if category else {}), "limit": limit, "cursor": start + limit})
            links["next"] = {"href": f"{self.base}/v2/document-management/documents?{query}"}
        return Answer(200, {"_data": [{"id": str(d["id"]), "title": d["title"], "category": {"id": str(d["category_id"])},
                                        "created_at": f"{d['date']}T10:00:00Z"} for d in page], "_meta": {"links": links}})
