"""Exchange days as external learning events in SAP SuccessFactors Learning.

Each exchange day becomes one external learning event of the switcher (`studentID`, their
SuccessFactors user id): `description` (the exchange, ending in `st-ref:<record id>`),
`completionDate` with `completionTimeZoneID`, `totalHours` and `creditHours`. Learning
takes at most 10 events a call, so they go in groups of 10. Before sending an event again
after a crash, the switcher's events are read back and one carrying the same reference is
taken as already recorded.
Learning has its own OAuth token endpoint (`/learning/oauth-api/rest/v1/token`, client
credentials with an admin user as scope) and its own server.
Options: `learning_url` (e.g. https://mycompany.plateau.com), `company_id`, `client_id`,
`client_secret`, `user_id` (the Learning admin the API acts as), `events_path` (default
learning/odatav4/public/admin/learningevent-service/v1/ExternalLearningEvents),
`employees_from` (default: the organisation's successfactors source), `ca_bundle`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from connector.core.errors import AuthenticationFailed
from connector.plumbing.adapters import required_options
from connector.plumbing.http import HttpClient, HttpError, secret_text
from connector.plumbing.runtime import Runtime
from connector.sinks import TRAINING_RECORD, Sink, describe, failed, reference, unknown_employee
from connector.sources.successfactors import bearer_token
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem

EVENTS = "learning/odatav4/public/admin/learningevent-service/v1/ExternalLearningEvents"
PER_CALL = 10


def learning_client(runtime: Runtime, name: str, options: Mapping[str, Any]) -> HttpClient:
    """Learning signs in on its own server, with client credentials and an admin user as scope."""
    def sign_in(client: HttpClient) -> tuple[str, float]:
        basic = base64.b64encode(f"{options['client_id']}:{secret_text(options['client_secret'])}".encode()).decode()
        scope = {"userId": str(options["user_id"]), "companyId": str(options["company_id"]), "userType": "admin",
                 "resourceType": "learning_public_api"}
        try:
            answer = client.json("POST", "learning/oauth-api/rest/v1/token", json={"grant_type": "client_credentials", "scope": scope},
                                 headers={"Authorization": f"Basic {basic}"})
        except HttpError as error:
            raise AuthenticationFailed(f"SuccessFactors Learning refused the client of '{name}': {error.detail}") from None
        return bearer_token(answer, "SuccessFactors Learning", name)

    return runtime.token_client(f"sf-learning:{name}", str(options["learning_url"]).rstrip("/") + "/", options, sign_in)


class LearningEvents(Sink):
    kind = "successfactors"
    object_types = frozenset({TRAINING_RECORD})
    needs_employee_id = True
    batch_size = 200

    @property
    def client(self) -> HttpClient:
        return learning_client(self.context.runtime, self.name, self.options)

    @property
    def path(self) -> str:
        return str(self.options.get("events_path", EVENTS))

    def problems(self) -> list[str]:
        return required_options("successfactors", self.options, ("learning_url", "company_id", "client_id", "client_secret", "user_id"))

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        outcomes: dict[int, Outcome] = {}
        to_send: list[OutboxItem] = []
        for item in items:
            unknown = unknown_employee(item.payload, "SuccessFactors")
            if unknown is not None:
                outcomes[item.id] = unknown
                continue
            if item.object_id in known:
                # A second event would count the day twice; a recorded event is corrected in Learning itself.
                outcomes[item.id] = Outcome(ok=False, retry=False, error=(
                    f"{describe(item.payload)} changed after it was recorded in SuccessFactors Learning "
                    f"(event {known[item.object_id].remote_id or '?'}): correct that event there by hand"))
                continue
            try:
                found = self._find(item) if item.uncertain else None
            except HttpError as error:
                outcomes[item.id] = failed(error, describe(item.payload))
                continue
            if found is not None:
                outcomes[item.id] = Outcome(ok=True, remote_id=found)
            else:
                to_send.append(item)
        for start in range(0, len(to_send), PER_CALL):
            group = to_send[start:start + PER_CALL]
            try:
                answer = self.client.json("POST", self.path, json={"value": [self._event(i) for i in group]})
            except HttpError as error:
                for item in group:
                    outcomes[item.id] = failed(error, describe(item.payload))
                continue
            ids = [str(e.get("id") or "") for e in (answer.get("value") or [])] if isinstance(answer, dict) else []
            for index, item in enumerate(group):
                outcomes[item.id] = Outcome(ok=True, remote_id=ids[index] if index < len(ids) and ids[index] else None)
        return [outcomes[item.id] for item in items]

    def _event(self, item: OutboxItem) -> dict[str, Any]:
        record = item.payload
        zone = self.context.config.partner.timezone
        completed = datetime.fromisoformat(record["date"]).replace(hour=17, tzinfo=ZoneInfo(zone))
        description = f"{record['title']} - {record['learning_question']} ({reference(item.object_id)}, sequence {item.sequence})"
        return {"studentID": str(record["employee_id"]), "description": description[-1000:],
                "completionDate": int(completed.timestamp() * 1000), "completionTimeZoneID": zone,
                "totalHours": record["hours"], "creditHours": record["hours"],
                "instructorName": record["provider"], "comments": f"Leerbewijs {record.get('leerbewijs_number') or '-'}"}

    def _find(self, item: OutboxItem) -> str | None:
        """An event for this record and this version, already in Learning."""
        marker = f"{reference(item.object_id)}, sequence {item.sequence})"
        body = self.client.json("GET", self.path, params={"$filter": f"studentID eq '{item.payload['employee_id']}'"})
        for event in (body.get("value") or []) if isinstance(body, dict) else []:
            if str(event.get("description", "")).endswith(marker):
                return str(event.get("id") or marker)
        return None


SINK = LearningEvents
