"""A stand-in for the BambooHR API on loopback, with the shapes its documentation gives.

Shapes and statuses are those of tests/contracts/bamboohr.json (BambooHR's OpenAPI
description as generated into github.com/BambooHR/bhr-api-php and bhr-api-python), which
the base class holds every request and answer to:
- Authentication: HTTP Basic, the API key as user name, any password.
- `POST /v1/reports/custom?format=JSON&onlyCurrent=true`: `title`, `fields`, optional
  `filters.lastChanged {includeNull, value}`; answers `title`, `fields` and `employees`
  (every status), empty dates "0000-00-00".
- `GET /v1/employees/changed?since=`: `latest` and `employees` keyed by id.
- `GET /v1/training/type`: an object keyed by type id, each `{id, name, ...}`.
- `GET /v1/training/record/employee/{id}`: records keyed by record id, or `[]` when there
  are none; a record's `type` is the training type's id; `hours`, `instructor` and
  `credits` are null when the company's training settings leave them out
  (`optional_fields_enabled`). `POST` the same path (completed, type id, hours,
  instructor, notes) answers 201; `PUT /v1/training/record/{id}` (the same without type)
  answers 201 too.
- `GET /v1/employees/{id}/files/view`; `POST /v1/employees/{id}/files` (multipart: file,
  fileName, category, share) answers 201 with the new file's URL in Location.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
from typing import Any

from tests.fakes.loopback import Answer, LoopbackAPI, Request

COMPANY = "brouwerspeeters"
API_KEY = "fake-bamboohr-api-key"
TRAINING_TYPE = 7
FILE_CATEGORY = 12
BLANK_DATE = "0000-00-00"


class FakeBambooHR(LoopbackAPI):
    def __init__(self) -> None:
        super().__init__(contract="bamboohr")
        self.employees: dict[str, dict[str, Any]] = {}
        self.changed: dict[str, tuple[str, dt.datetime]] = {}  # id -> (action, when)
        self.trainings: dict[str, dict[str, Any]] = {}
        self.files: dict[str, list[dict[str, Any]]] = {}
        self.contents: dict[str, bytes] = {}
        self.types = [{"id": TRAINING_TYPE, "name": "Informeel leren", "renewable": False, "required": False},
                      {"id": 3, "name": "Veiligheid", "renewable": True, "required": True}]
        self._ids = itertools.count(4001)
        self.refuse_writes_for: set[str] = set()  # employees the API key may read but not write
        self.optional_fields_enabled = True  # Settings > Training: hours, instructor and credits
        self.only_current: list[str | None] = []  # onlyCurrent of each custom report asked
        prefix = f"/api/gateway.php/{COMPANY}/v1"
        self.route("report", "POST", f"{prefix}/reports/custom", self._report)
        self.route("changed", "GET", f"{prefix}/employees/changed", self._changed)
        self.route("types", "GET", f"{prefix}/training/type", lambda r: Answer(200, {str(t["id"]): t for t in self.types}))
        self.route("trainings", "GET", f"{prefix}/training/record/employee/(\\d+)", self._list_trainings)
        self.route("add_training", "POST", f"{prefix}/training/record/employee/(\\d+)", self._add_training)
        self.route("update_training", "PUT", f"{prefix}/training/record/(\\d+)", self._update_training)
        self.route("delete_training", "DELETE", f"{prefix}/training/record/(\\d+)", self._delete_training)
        self.route("files", "GET", f"{prefix}/employees/(\\d+)/files/view", self._list_files)
        self.route("upload", "POST", f"{prefix}/employees/(\\d+)/files", self._upload)
        self.goals: dict[str, list[dict[str, Any]]] = {}  # employee id -> goals, shaped as TransformedApiGoal
        self.route("goals", "GET", f"{prefix}/performance/employees/(\\d+)/goals", self._list_goals)
        self.comments: dict[str, list[dict[str, Any]]] = {}  # goal id -> comments, shaped as GoalCommentResponse
        goal = f"{prefix}/performance/employees/(\\d+)/goals/(\\d+)/comments"
        self.route("goal_comments", "GET", goal, self._list_comments)
        self.route("add_goal_comment", "POST", goal, self._add_comment)
        self.route("update_goal_comment", "PUT", f"{goal}/(\\d+)", self._update_comment)
        self.clock = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)

    @property
    def url(self) -> str:
        return f"{self.base}/api/gateway.php/{COMPANY}/v1/"

    # -- state -----------------------------------------------------------------------------

    def add_employee(self, employee_id: str, number: str, first: str, last: str, email: str, **fields: Any) -> None:
        self.employees[employee_id] = {"id": employee_id, "employeeNumber": number, "firstName": first, "lastName": last,
                                       "workEmail": email, "status": "Active", "hireDate": "2015-03-01",
                                       "terminationDate": BLANK_DATE, **fields}
        self.changed[employee_id] = ("Inserted", self.clock)

    def update_employee(self, employee_id: str, **fields: Any) -> None:
        self.employees[employee_id].update(fields)
        self.changed[employee_id] = ("Updated", self.clock)

    def delete_employee(self, employee_id: str) -> None:
        del self.employees[employee_id]
        self.changed[employee_id] = ("Deleted", self.clock)

    def add_training(self, employee_id: str, completed: str, hours: str, type_id: int = 3, notes: str = "", instructor: str = "") -> str:
        record_id = str(next(self._ids))
        self.trainings[record_id] = {"id": int(record_id), "employeeId": employee_id, "completed": completed, "notes": notes,
                                     "instructor": instructor, "credits": None, "hours": hours, "cost": None, "type": type_id}
        return record_id

    def add_goal(self, employee_id: str, title: str, **fields: Any) -> dict[str, Any]:
        goal = {"id": str(next(self._ids)), "title": title, "description": None, "percentComplete": 0, "alignsWithOptionId": None,
                "sharedWithEmployeeIds": [int(employee_id)], "dueDate": None, "completionDate": None,
                "lastChangedDateTime": self.clock.strftime("%Y-%m-%dT%H:%M:%SZ"), "status": "in_progress", **fields}
        self.goals.setdefault(employee_id, []).append(goal)
        return goal

    def _goal(self, request: Request) -> dict[str, Any] | None:
        employee_id, goal_id = request.match.group(1), request.match.group(2)
        return next((g for g in self.goals.get(employee_id, []) if g["id"] == goal_id), None)

    def _list_comments(self, request: Request) -> Answer:
        goal = self._goal(request)
        return Answer(404, None) if goal is None else Answer(200, {"comments": self.comments.get(goal["id"], [])})

    def _add_comment(self, request: Request) -> Answer:
        goal = self._goal(request)
        if goal is None:
            return Answer(403, None)  # the SDK documents 400 and 403 for this call
        comment = {"id": str(next(self._ids)), "authorUserId": 1, "createdAt": self.clock.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "text": request.json()["text"], "canEdit": True, "canDelete": True}
        self.comments.setdefault(goal["id"], []).append(comment)
        return Answer(201, comment)

    def _update_comment(self, request: Request) -> Answer:
        goal = self._goal(request)
        comment = next((c for c in self.comments.get(goal["id"], []) if c["id"] == request.match.group(3)), None) if goal else None
        if comment is None:
            return Answer(404, None)
        comment["text"] = request.json()["text"]
        return Answer(200, comment)

    def _list_goals(self, request: Request) -> Answer:
        employee_id = request.match.group(1)
        if employee_id not in self.employees:
            return Answer(404, None)
        return Answer(200, {"goals": self.goals.get(employee_id, [])})

    def shown(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record as the API shows it: optional fields null when the company disabled them."""
        if self.optional_fields_enabled:
            return record
        return {**record, "hours": None, "instructor": None, "credits": None}

    def records_of(self, employee_id: str) -> list[dict[str, Any]]:
        return [r for r in self.trainings.values() if r["employeeId"] == employee_id]

    def type_of(self, record: dict[str, Any]) -> int:
        return int(record["type"])

    # -- handlers ----------------------------------------------------------------------------

    def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer | None:
        header = headers.get("authorization", "")
        if not header.startswith("Basic ") or base64.b64decode(header[6:]).decode().split(":", 1)[0] != API_KEY:
            self.requests["unauthorised"] += 1
            return Answer(401, None)
        return super().dispatch(method, target, headers, body)

    def _report(self, request: Request) -> Answer:
        spec = request.json()
        self.only_current.append(request.param("onlyCurrent"))
        fields = spec["fields"]
        since = ((spec.get("filters") or {}).get("lastChanged") or {}).get("value")
        chosen = [e for e in self.employees.values()
                  if since is None or (e["id"] in self.changed and self.changed[e["id"]][1] >= dt.datetime.fromisoformat(since.replace("Z", "+00:00")))]
        employees = [{"id": e["id"], **{f: e.get(f) for f in fields if f != "id"}} for e in chosen]
        return Answer(200, {"title": spec.get("title"), "fields": [{"id": f, "type": "text", "name": f} for f in fields],
                            "employees": employees})

    def _changed(self, request: Request) -> Answer:
        since = dt.datetime.fromisoformat(str(request.param("since")).replace("Z", "+00:00"))
        changes = {i: {"id": i, "action": action, "lastChanged": when.isoformat()}
                   for i, (action, when) in self.changed.items() if when >= since}
        return Answer(200, {"latest": self.clock.isoformat(), "employees": changes})

    def _list_trainings(self, request: Request) -> Answer:
        employee_id = request.match.group(1)
        if employee_id not in self.employees:
            return Answer(404, None)
        records = {str(r["id"]): self.shown(r) for r in self.records_of(employee_id)}
        return Answer(200, records or [])  # BambooHR answers an empty list, not an empty object

    def _training_fields(self, body: dict[str, Any], type_id: int | None = None) -> dict[str, Any] | None:
        kind = body.get("type", type_id)
        if kind not in {t["id"] for t in self.types} or not body.get("completed"):
            return None
        return {"completed": body["completed"], "notes": body.get("notes", ""), "instructor": body.get("instructor", ""),
                "hours": str(body.get("hours")), "type": kind}

    def _add_training(self, request: Request) -> Answer:
        employee_id = request.match.group(1)
        if employee_id not in self.employees or employee_id in self.refuse_writes_for:
            return Answer(404, None)
        fields = self._training_fields(request.json())
        if fields is None:
            return Answer(400, None, {"X-BambooHR-Error-Message": "Invalid training type or completed date"})
        record_id = self.add_training(employee_id, fields["completed"], fields["hours"], fields["type"])
        self.trainings[record_id].update(fields)
        return Answer(201, self.trainings[record_id])

    def _update_training(self, request: Request) -> Answer:
        record_id = request.match.group(1)
        if record_id not in self.trainings:
            return Answer(404, None)
        fields = self._training_fields(request.json(), self.type_of(self.trainings[record_id]))
        if fields is None:
            return Answer(400, None)
        self.trainings[record_id].update(fields)
        return Answer(201, self.trainings[record_id])

    def _delete_training(self, request: Request) -> Answer:
        record_id = request.match.group(1)
        if self.trainings.pop(record_id, None) is None:
            return Answer(404, None)
        return Answer(200, None)

    def _list_files(self, request: Request) -> Answer:
        employee_id = request.match.group(1)
        if employee_id not in self.employees:
            return Answer(404, None)
        files = self.files.get(employee_id, [])
        return Answer(200, {"employee": {"id": employee_id}, "categories": [
            {"id": FILE_CATEGORY, "name": "Opleiding", "canUploadFiles": "yes", "files": files},
            {"id": 13, "name": "Contracten", "canUploadFiles": "yes", "files": []}]})

    def _upload(self, request: Request) -> Answer:
        employee_id = request.match.group(1)
        if employee_id not in self.employees:
            return Answer(404, None)
        form = request.form()
        filename, content = form["file"]
        file_id = str(next(self._ids))
        self.files.setdefault(employee_id, []).append({
            "id": int(file_id), "name": form["fileName"], "originalFileName": filename, "size": len(content),
            "dateCreated": "2026-11-22 10:00:00", "createdBy": "API", "shareWithEmployee": form["share"],
            "category": form["category"]})
        self.contents[file_id] = content
        return Answer(201, None, {"Location": f"{self.url}employees/{employee_id}/files/{file_id}"})
