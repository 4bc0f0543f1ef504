"""Exchange days as external learning events in SAP SuccessFactors Learning.

Follows SAP KBA 2421887 ("ExternalLearningEvents" in learningevent-service) and the
Learning OData API reference, as recorded in tests/contracts/successfactors.json: each
exchange day becomes one external learning event of the switcher, posted as
`{"externalLearningEvents": [...]}` with at most 10 events a call: `studentID` (their
SuccessFactors user id), `description` (the exchange, ending in `st-ref:<record id>`),
`completionDate` in epoch milliseconds with `completionTimeZoneID`, `totalHours` and
`creditHours`, `instructorName`, `comments`.
SAP documents no way to read external learning events back (no GET, and recorded events
cannot be updated through the API). So a day whose earlier attempt may have reached
Learning (a crash after sending) is never sent again on its own: it is reported, naming the
reference to look for in the switcher's learning history, and waits until the record id is
listed under `recorded` (it is there: booked as written) or `resend` (it is not: sent once
more). A missing event is visible in the summary; a doubled one would count the day twice.
For the same reason a day that no longer counts (absent, declined, the exchange cancelled) cannot
be taken back through the API: it is listed as a manual action naming the event's reference.
Learning has its own OAuth token endpoint (`/learning/oauth-api/rest/v1/token`, client
credentials with an admin user as scope) and its own server.
Options: `learning_url` (e.g. https://mycompany.plateau.com), `company_id`, `client_id`,
`client_secret`, `user_id` (the Learning admin the API acts as), `events_path` (default
learning/odatav4/public/admin/learningevent-service/v1/ExternalLearningEvents),
`recorded`, `resend` (record ids, see above), `employees_from` (default: the
organisation's successfactors source), `ca_bundle`.
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
PER_CALL = 10  # "In one API call an array of up to 10 records" (SAP KBA 2421887)


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
            if item.action == "retract":
                outcomes[item.id] = self._manual_retraction(item, known.get(item.object_id))
                continue
            unknown = unknown_employee(item.payload, "SuccessFactors")
            if unknown is not None:
                outcomes[item.id] = unknown
                continue
            if item.object_id in known and not known[item.object_id].cancelled:
                # A second event would count the day twice; a recorded event is corrected in Learning itself.
                outcomes[item.id] = Outcome(ok=False, retry=False, error=(
                    f"{describe(item.payload)} changed after it was recorded in SuccessFactors Learning "
                    f"(event '{known[item.object_id].remote_id or '?'}'): correct that event there by hand"))
                continue
            held = self._held(item) if item.uncertain else None
            if held is not None:
                outcomes[item.id] = held
            else:
                to_send.append(item)
        for start in range(0, len(to_send), PER_CALL):
            group = to_send[start:start + PER_CALL]
            try:
                self.client.request("POST", self.path, json={"externalLearningEvents": [self._event(i) for i in group]})
            except HttpError as error:
                for item in group:
                    outcomes[item.id] = failed(error, describe(item.payload))
                continue
            for item in group:
                # Learning answers no event id; the reference in the description is how people find it.
                outcomes[item.id] = Outcome(ok=True, remote_id=self._marker(item))
        return [outcomes[item.id] for item in items]

    def _manual_retraction(self, item: OutboxItem, ref: ExternalRef | None) -> Outcome:
        """Learning's API takes external learning events in, and documents no way to delete or
        void one: a day that no longer counts is booked as retracted here and listed for a person
        (the summary, `--json` and the training report), with the reference to look for."""
        # what was recorded (its sequence), or for an attempt that may have landed unbooked, any event of the day
        marker = ref.remote_id if ref is not None and ref.remote_id else reference(item.object_id)
        action = (f"delete the external learning event '{marker}' of {describe(item.payload)} in SuccessFactors Learning "
                  f"({item.payload.get('reason') or 'no longer counts'})")
        return Outcome(ok=True, remote_id=marker, details={"manual": action})

    def _held(self, item: OutboxItem) -> Outcome | None:
        """What to do with a day an earlier attempt may have recorded: nothing until a person says."""
        if item.object_id in self._listed("recorded"):
            return Outcome(ok=True, remote_id=self._marker(item))
        if item.object_id in self._listed("resend"):
            return None
        return Outcome(ok=False, error=(
            f"{describe(item.payload)} may already be recorded in SuccessFactors Learning (an earlier attempt may have "
            f"reached it, and Learning cannot be asked): look in the switcher's learning history for an external event "
            f"described with '{self._marker(item)}', then list '{item.object_id}' under `recorded` (it is there) or "
            f"`resend` (it is not) of this write-back"))

    def _listed(self, option: str) -> set[str]:
        return {str(value) for value in self.options.get(option) or ()}

    @staticmethod
    def _marker(item: OutboxItem) -> str:
        return f"{reference(item.object_id)}, sequence {item.sequence}"

    def _event(self, item: OutboxItem) -> dict[str, Any]:
        record = item.payload
        zone = self.context.config.partner.timezone
        completed = datetime.fromisoformat(record["date"]).replace(hour=17, tzinfo=ZoneInfo(zone))
        description = f"{record['title']} - {record['learning_question']} ({self._marker(item)})"
        return {"studentID": str(record["employee_id"]), "description": description[-1000:],
                "completionDate": int(completed.timestamp() * 1000), "completionTimeZoneID": zone,
                "totalHours": record["hours"], "creditHours": record["hours"],
                "instructorName": record["provider"], "comments": f"Leerbewijs {record.get('leerbewijs_number') or '-'}"}


SINK = LearningEvents
