"""A stand-in for SAP SuccessFactors (OData v2 API and Learning) on loopback.

Shapes and statuses are those of tests/contracts/successfactors.json (SAP's OData
reference guide and KBAs, each fact with its source), which the base class holds every
request and answer to:
- `POST /oauth/idp` (form: client_id, user_id, token_url, private_key) answers a
  base64 SAML assertion as text; `POST /oauth/token` (form: company_id, client_id,
  grant_type saml2-bearer, assertion) answers `{access_token, token_type, expires_in}`.
- `GET /odata/v2/User?$format=json&$select=...&$filter=...&paging=snapshot&customPageSize=n`
  answers `{"d": {"results": [...], "__next": "<url with $skiptoken>"}}` in pages of
  customPageSize (default and most 1000); `$top` caps the whole result, so a listing cut
  by it ends without `__next`. Without a status filter only active users are listed.
- Learning: `POST /learning/oauth-api/rest/v1/token` (Basic client credentials, JSON
  grant_type and scope) answers `{access_token, expires_in, token_type}`; external learning
  events are posted as `{"externalLearningEvents": [...]}`, at most 10 a call. There is
  no way to read them back, as in SAP's documentation.
- `POST /odata/v2/DevGoal_<template>(<id>L)` with `X-HTTP-Method: MERGE` changes only the
  properties sent (an unknown one is 400) and answers 204 without a body.
"""

from __future__ import annotations

import base64
import itertools
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.loopback import Answer, LoopbackAPI, Request

COMPANY = "zonnekeT1"
CLIENT_ID = "ZmFrZS1zZi1jbGllbnQ"
PRIVATE_KEY = "fake-private-key-base64"
LEARNING_SECRET = "fake-learning-secret"
DEVGOAL_TEMPLATE = "2001"
EVENTS = "/learning/odatav4/public/admin/learningevent-service/v1/ExternalLearningEvents"


def odata_date(day: str) -> str:
    return f"/Date({int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp() * 1000)})/"


class FakeSuccessFactors(LoopbackAPI):
    def __init__(self) -> None:
        super().__init__(contract="successfactors")
        self.users: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.tokens: set[str] = set()
        self.calls: list[int] = []  # events in each POST of external learning events
        self._numbers = itertools.count(1)
        self.route("idp", "POST", "/oauth/idp", self._idp)
        self.route("token", "POST", "/oauth/token", self._token)
        self.route("users", "GET", "/odata/v2/User", self._users)
        self.dev_goals: list[dict[str, Any]] = []  # of template DEVGOAL_TEMPLATE, shaped as the SFOData DevGoal_<id>
        self.custom_goal_fields = {"stLeerbewijs"}  # a text field the partner added to the plan template
        self.goal_updates: list[tuple[str, dict[str, Any]]] = []
        self.route("dev_goals", "GET", f"/odata/v2/DevGoal_({DEVGOAL_TEMPLATE})", self._dev_goals)
        self.route("update_dev_goal", "POST", rf"/odata/v2/DevGoal_{DEVGOAL_TEMPLATE}\((\d+)L\)", self._update_dev_goal)
        self.route("learning_token", "POST", "/learning/oauth-api/rest/v1/token", self._learning_token)
        self.route("post_events", "POST", EVENTS, self._post_events)

    def add_user(self, user_id: str, first: str, last: str, email: str, **extra: Any) -> None:
        self.users.append({"userId": user_id, "empId": user_id, "username": email.split("@")[0], "firstName": first,
                           "lastName": last, "email": email, "status": extra.pop("status", "t"), "defaultLocale": "nl_BE",
                           "hireDate": odata_date(extra.pop("hire_date", "2015-09-01")),
                           "lastModifiedDateTime": extra.pop("modified", "/Date(1760000000000+0000)/"), **extra})

    def add_dev_goal(self, user_id: str, name: str, **extra: Any) -> dict[str, Any]:
        goal = {"id": str(next(self._numbers) + 7000), "userId": user_id, "name": name, "category": "Development", "purpose": None,
                "state": "Not Started", "stateLabel": "Not Started", "start": None, "due": None, "status": "0",
                "lastModified": extra.pop("modified", "/Date(1760000000000)/"), **extra}
        self.dev_goals.append(goal)
        return goal

    def _dev_goals(self, request: Request) -> Answer:
        chosen = list(self.dev_goals)
        since = re.search(r"lastModified gt datetime'([^']+)'", request.param("$filter") or "")
        if since:
            moment = int(datetime.fromisoformat(since.group(1)).replace(tzinfo=UTC).timestamp() * 1000)
            chosen = [g for g in chosen if int(re.findall(r"\d+", g["lastModified"])[0]) > moment]
        fields = [f for f in (request.param("$select") or "").split(",") if f]
        expanded = (request.param("$expand") or "").split(",")
        size = int(request.param("customPageSize") or 1000)
        skip = int(request.param("$skiptoken") or 0)
        results = []
        for goal in chosen[skip:skip + size]:
            shown: dict[str, Any] = {"__metadata": {"uri": f"{self.base}/odata/v2/DevGoal_{DEVGOAL_TEMPLATE}({goal['id']}L)",
                                                    "type": f"SFOData.DevGoal_{DEVGOAL_TEMPLATE}"}}
            for field in fields:
                if "/" in field:
                    navigation, property_ = field.split("/", 1)
                    if navigation == "goalOwner" and "goalOwner" in expanded:
                        owner = next((u for u in self.users if u["userId"] == goal["userId"]), {})
                        shown.setdefault("goalOwner", {"__metadata": {"uri": f"{self.base}/odata/v2/User('{goal['userId']}')",
                                                                      "type": "SFOData.User"}, "userId": goal["userId"]})
                        shown["goalOwner"][property_] = owner.get(property_)
                else:
                    shown[field] = goal.get(field)
            results.append(shown)
        body: dict[str, Any] = {"d": {"results": results}}
        if skip + size < len(chosen):
            query = {k: v[0] for k, v in request.query.items() if k != "$skiptoken"}
            body["d"]["__next"] = f"{self.base}/odata/v2/DevGoal_{DEVGOAL_TEMPLATE}?{urlencode({**query, '$skiptoken': skip + size})}"
        return Answer(200, body)

    def _update_dev_goal(self, request: Request) -> Answer:
        """MERGE (X-HTTP-Method): only the properties sent change; 204 without a body."""
        goal_id = re.search(r"\((\d+)L\)", request.path).group(1)
        goal = next((g for g in self.dev_goals if g["id"] == goal_id), None)
        if goal is None:
            return Answer(404, {"error": {"code": "COE_RESOURCE_NOT_FOUND", "message": {"lang": "en-US", "value": "not found"}}})
        changes = {k: v for k, v in request.json().items() if k != "__metadata"}
        unknown = sorted(set(changes) - set(goal) - self.custom_goal_fields)
        if unknown:
            return Answer(400, {"error": {"code": "COE_PROPERTY_NOT_FOUND", "message": {"lang": "en-US", "value": f"{unknown}"}}})
        goal.update(changes)
        self.goal_updates.append((goal_id, changes))
        return Answer(204, None)

    def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer | None:
        if target.startswith(("/odata/", EVENTS)):
            if headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
                self.requests["unauthorised"] += 1
                return Answer(401, {"error": {"code": "LGN0022", "message": {"lang": "en-US", "value": "Invalid token"}}})
        return super().dispatch(method, target, headers, body)

    def _idp(self, request: Request) -> Answer:
        form = request.form()
        if form.get("client_id") != CLIENT_ID or form.get("private_key") != PRIVATE_KEY:
            return Answer(401, {"errorCode": 401, "errorMessage": "Unable to make SAML assertion: invalid private key"})
        assertion = base64.b64encode(f"<saml:Assertion user='{form['user_id']}'/>".encode())
        return Answer(200, assertion, {"Content-Type": "text/plain"})

    def _token(self, request: Request) -> Answer:
        form = request.form()
        if form.get("company_id") != COMPANY or not form.get("assertion"):
            return Answer(400, {"errorCode": 400, "errorMessage": "invalid company or assertion"})
        token = f"sf-token-{next(self._numbers)}"
        self.tokens.add(token)
        return Answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": 86399})

    def _users(self, request: Request) -> Answer:
        condition = request.param("$filter") or ""
        chosen = [u for u in self.users if u["status"] == "t" or "'f'" in condition]
        since = re.search(r"lastModifiedDateTime gt datetimeoffset'([^']+)'", condition)
        if since:
            moment = int(datetime.fromisoformat(since.group(1).replace("Z", "+00:00")).timestamp() * 1000)
            chosen = [u for u in chosen if int(re.findall(r"\d+", u["lastModifiedDateTime"])[0]) > moment]
        fields = (request.param("$select") or "").split(",")
        top = request.param("$top")
        if top is not None:
            chosen = chosen[:int(top)]  # $top limits the result set itself: nothing after it
        size = int(request.param("customPageSize") or 1000)
        skip = int(request.param("$skiptoken") or 0)
        page = chosen[skip:skip + size]
        results = [{"__metadata": {"uri": f"{self.base}/odata/v2/User('{u['userId']}')", "type": "SFOData.User"},
                    **{f: u.get(f) for f in fields if f}} for u in page]
        body: dict[str, Any] = {"d": {"results": results}}
        if skip + size < len(chosen):
            query = {k: v[0] for k, v in request.query.items() if k != "$skiptoken"}
            body["d"]["__next"] = f"{self.base}/odata/v2/User?{urlencode({**query, '$skiptoken': skip + size})}"
        return Answer(200, body)

    def _learning_token(self, request: Request) -> Answer:
        expected = base64.b64encode(f"{CLIENT_ID}:{LEARNING_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Answer(401, {"error": "invalid_client"})
        token = f"learning-token-{next(self._numbers)}"
        self.tokens.add(token)
        return Answer(200, {"access_token": token, "expires_in": 1799, "token_type": "Bearer"})

    def _post_events(self, request: Request) -> Answer:
        events = request.json()["externalLearningEvents"]
        self.calls.append(len(events))
        for event in events:
            if not any(u["userId"] == event.get("studentID") for u in self.users):
                return Answer(400, {"error": {"code": "INVALID_STUDENT", "message": f"student {event.get('studentID')} not found"}})
        self.events.extend({"id": f"ELE-{next(self._numbers)}", **event} for event in events)
        return Answer(200, None)
