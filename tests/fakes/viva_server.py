"""Viva Learning's provider endpoints in Microsoft Graph v1.0, on loopback (the sign-in is
the Graph fake's business; these tests hand the sink a client for this server).

Shapes and statuses are those of tests/contracts/msgraph.json (the CSDL metadata and the
Graph docs), which the base class holds every request and answer to:
- `PATCH /employeeExperience/learningProviders/{id}/learningContents(externalId='x')`
  creates or updates the content and answers 202 with it.
- `GET .../learningCourseActivities(externalcourseActivityId='x')` (the alternate key as the
  metadata spells it) answers the activity or 404; `POST .../learningCourseActivities`
  creates one (201); `PATCH .../learningCourseActivities/{id}` answers 204.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests.fakes.loopback import Answer, LoopbackAPI, Request

PROVIDER = "01e8f81b-3060-4dec-acf0-0389665a0a38"


class FakeViva(LoopbackAPI):
    def __init__(self) -> None:
        super().__init__(contract="msgraph")
        self.contents: dict[str, dict[str, Any]] = {}
        self.activities: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        prefix = f"/v1.0/employeeExperience/learningProviders/{PROVIDER}"
        self.route("content", "PATCH", prefix + r"/learningContents\(externalId='([^']+)'\)", self._content)
        self.route("find", "GET", prefix + r"/learningCourseActivities\(externalcourseActivityId='([^']+)'\)", self._find)
        self.route("create", "POST", prefix + "/learningCourseActivities", self._create)
        self.route("update", "PATCH", prefix + "/learningCourseActivities/([^/]+)", self._update)
        self.route("delete", "DELETE", prefix + "/learningCourseActivities/([^/]+)", self._delete)

    @property
    def url(self) -> str:
        return f"{self.base}/v1.0/"

    def _content(self, request: Request) -> Answer:
        external = request.match.group(1)
        content = self.contents.setdefault(external, {"id": f"content-{next(self._ids)}", "externalId": external})
        content.update(request.json())
        return Answer(202, content)

    def _find(self, request: Request) -> Answer:
        found = next((a for a in self.activities.values() if a.get("externalcourseActivityId") == request.match.group(1)), None)
        if found is None:
            return Answer(404, {"error": {"code": "itemNotFound", "message": "Course activity not found"}})
        return Answer(200, found)

    def _create(self, request: Request) -> Answer:
        body = request.json()
        if body.get("learningContentId") not in {c["id"] for c in self.contents.values()}:
            return Answer(400, {"error": {"code": "badRequest", "message": "unknown learningContentId"}})
        activity = {**body, "id": f"activity-{next(self._ids)}"}
        self.activities[activity["id"]] = activity
        return Answer(201, activity)

    def _update(self, request: Request) -> Answer:
        activity = self.activities.get(request.match.group(1))
        if activity is None:
            return Answer(404, {"error": {"code": "itemNotFound", "message": "Course activity not found"}})
        activity.update(request.json())
        return Answer(204, None)

    def _delete(self, request: Request) -> Answer:
        if self.activities.pop(request.match.group(1), None) is None:
            return Answer(404, {"error": {"code": "itemNotFound", "message": "Course activity not found"}})
        return Answer(204, None)
