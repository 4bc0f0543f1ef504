"""Exchanges as completed courses in Microsoft Viva Learning (Microsoft Graph).

The ST-partner registers itself as a learning provider in the employer's tenant; the
connector then keeps one learning content item per learning place (`learningContents`
by externalId, created or updated in one PATCH, titled with the place and its host) and, per exchange, one self-initiated
course activity of the switcher (`learnerUserId`: their Entra user id, from the
organisation's msgraph_users source), status completed, `completedDateTime` the last
exchange day so far, and `externalcourseActivityId` derived from the exchange, so it is
found again (GET by that alternate key) instead of created twice. The property and key are
spelled as Graph's CSDL metadata spells them (lower-case c; the docs' examples differ).
Content PATCH answers 202 with the content; an activity PATCH answers 204 and must carry
`status` (learningcourseactivity-update). Facts: tests/contracts/msgraph.json.
A day that no longer counts moves `completedDateTime` back to the last day that does, or
deletes the activity when none does (learningcourseactivity-delete).
Viva Learning has no hours field on a course activity: the hours themselves are not
written there. Count them from the ledger, xAPI or the HR system.
Permissions (application): LearningContent.ReadWrite.All, LearningSelfInitiatedCourse.ReadWrite.All.
Options: `tenant` (a [[tenants]] block), `provider_id` (the learning provider's
registration id), `employees_from` (the organisation's msgraph_users source).
"""

from __future__ import annotations

import re
from typing import Any

from connector.plumbing.http import HttpClient, parse_json
from connector.plumbing.msgraph import graph_client
from connector.sinks import TRAINING_RECORD, Sink, per_employee
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "host"


class VivaLearning(Sink):
    kind = "viva_learning"
    object_types = frozenset({TRAINING_RECORD})
    needs_employee_id = True
    needs_learning_place = True
    batch_size = 100

    @property
    def client(self) -> HttpClient:
        return graph_client(self.context.runtime, str(self.options["tenant"]))

    @property
    def provider(self) -> str:
        return f"employeeExperience/learningProviders/{self.options['provider_id']}"

    def problems(self) -> list[str]:
        problems = []
        if self.context.runtime.config.tenant(str(self.options.get("tenant"))) is None:
            problems.append(f"no [[tenants]] named '{self.options.get('tenant')}'")
        if not self.options.get("provider_id"):
            problems.append("give `provider_id`, the registration id of the learning provider in Viva Learning")
        if not self.options.get("employees_from"):
            problems.append("give `employees_from`, the organisation's msgraph_users source (learners are Entra users)")
        return problems

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        contents: dict[str, str] = {}  # learning place -> content id, one PATCH per place and batch

        def write(item: OutboxItem, learner: str) -> Outcome:
            if item.action == "retract":
                return self._retract(item)
            place = _slug(item.payload["learning_place"]["code"])
            if place not in contents:
                contents[place] = self._content(place, item.payload)
            return self._activity(item, contents[place], learner)

        return per_employee(items, "Entra ID", write)

    def _content(self, place: str, record: dict[str, Any]) -> str:
        external = f"{self.context.config.partner.id}-{place}"
        details = record["learning_place"]
        body = {"title": f"{details['name']} ({record['provider']})"[:255],
                "description": details.get("description") or f"Switching Talent: {details['name']}, {record['provider']}",
                "contentWebUrl": f"https://{self.context.config.partner.uid_host}/switching-talent/{place}",
                "sourceName": self.context.config.partner.name, "languageTag": "nl-BE", "isActive": True,
                "format": "Workshop", "isPremium": False, "isSearchable": False}
        answer = self.client.json("PATCH", f"{self.provider}/learningContents(externalId='{external}')", json=body,
                                  idempotent=True)  # an upsert by our external id
        return str(answer["id"])

    def _retract(self, item: OutboxItem) -> Outcome:
        """A day that no longer counts: the exchange's course activity keeps the last day that
        still does (`exchange_last_date`), or is deleted when none does (DELETE, 204; a 404
        means it is gone already)."""
        external = f"{self.context.config.partner.id}-{item.payload['exchange']}"
        path = f"{self.provider}/learningCourseActivities(externalcourseActivityId='{external}')"
        existing = self.client.request("GET", path, accept=(404,))
        if existing.status_code == 404:
            return Outcome(ok=True)
        activity = parse_json(existing, "GET", path)
        last = item.payload.get("exchange_last_date")
        if last is None:
            self.client.request("DELETE", f"{self.provider}/learningCourseActivities/{activity['id']}", accept=(404,))
        elif str(activity.get("completedDateTime", ""))[:10] != last:
            self.client.request("PATCH", f"{self.provider}/learningCourseActivities/{activity['id']}",
                                json={"@odata.type": "#microsoft.graph.learningSelfInitiatedCourse",
                                      "completedDateTime": f"{last}T17:00:00Z", "status": "completed"}, idempotent=True)
        return Outcome(ok=True, remote_id=str(activity["id"]))

    def _activity(self, item: OutboxItem, content_id: str, learner: str) -> Outcome:
        record = item.payload
        external = f"{self.context.config.partner.id}-{record['exchange']}"
        done = f"{record['date']}T17:00:00Z"
        path = f"{self.provider}/learningCourseActivities(externalcourseActivityId='{external}')"
        existing = self.client.request("GET", path, accept=(404,))
        if existing.status_code != 404:
            activity = parse_json(existing, "GET", path)
            if str(activity.get("completedDateTime", ""))[:10] < record["date"]:
                self.client.request("PATCH", f"{self.provider}/learningCourseActivities/{activity['id']}",
                                    json={"@odata.type": "#microsoft.graph.learningSelfInitiatedCourse", "completedDateTime": done,
                                          "status": "completed"},  # status is required in an update
                                    idempotent=True)  # sets a value
            return Outcome(ok=True, remote_id=str(activity["id"]))
        created = self.client.json("POST", f"{self.provider}/learningCourseActivities", json={
            "@odata.type": "#microsoft.graph.learningSelfInitiatedCourse", "learningProviderId": str(self.options["provider_id"]),
            "learningContentId": content_id, "learnerUserId": learner, "externalcourseActivityId": external,
            "startedDateTime": f"{record['date']}T08:00:00Z", "completedDateTime": done, "completionPercentage": 100,
            "status": "completed"})
        return Outcome(ok=True, remote_id=str(created["id"]))


SINK = VivaLearning
