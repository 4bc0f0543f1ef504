"""Exchange days as xAPI statements in a learning record store (LRS), xAPI 1.0.3.

One statement per exchange day: the switcher (an account in the HR system, else their work
e-mail) *attended* the exchange day, `result.duration` in ISO 8601, and a context naming the
host organisation, the coach, the learning question and the leerbewijs. The statement id is
derived from the record and its version, so sending it again is a no-op for the LRS.
Statements are immutable: a changed day voids the previous statement and sends a new one,
so the LRS never counts the hours twice; a day that no longer counts (absent, declined, the
exchange cancelled) is voided (verb http://adlnet.gov/expapi/verbs/voided) and nothing replaces it. When the store cannot know what was sent before (a
write whose answer was lost, a restored store), the LRS is asked for our statements of that
day first (by the ids of its earlier versions), and every one but the current is voided.
Options: `url` (the LRS endpoint, e.g. https://lrs.example/xAPI/), `username`, `password`,
`account_home_page` (the HR system's URL, for actor accounts), `ca_bundle`.
"""

from __future__ import annotations

import uuid
from typing import Any

from connector.plumbing.http import HttpClient, HttpError
from connector.sinks import TRAINING_RECORD, Sink
from connector.sources.xapi import PLATFORM, XAPI_HEADERS
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem

NAMESPACE = uuid.UUID("7d0e9a1c-5b3f-4c2d-8e6a-1f4b2c3d5e6f")
ATTENDED = {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended", "nl-BE": "nam deel aan"}}
VOIDED = {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}}
EXTENSION = "https://w3id.org/switching-talent/xapi/"


class XapiStatements(Sink):
    kind = "xapi"
    object_types = frozenset({TRAINING_RECORD})
    batch_size = 100

    @property
    def client(self) -> HttpClient:
        return self.context.runtime.api_client(f"xapi:{self.name}", self.options, XAPI_HEADERS)

    def problems(self) -> list[str]:
        if not str(self.options.get("url", "")).startswith(("http://", "https://")):
            return ["`url` must be the LRS endpoint (https://.../xAPI/)"]
        return []

    def statement_id(self, item: OutboxItem, sequence: int) -> str:
        # The partner's id too: two ST-partners may share an LRS, and their record ids look alike.
        return str(uuid.uuid5(NAMESPACE, f"{self.context.config.partner.id}|{self.name}|{item.object_id}|{sequence}"))

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        outcomes = []
        for item in items:
            ref = known.get(item.object_id)
            retract = item.action == "retract"  # the day no longer counts: every statement of it is voided, none sent
            statements = [] if retract else [self.statement(item)]
            try:
                # What the LRS still counts, where the store may not know; else the one we last sent.
                previous = self._earlier(item, ref) if item.uncertain else {ref.remote_id} if ref and ref.remote_id else set()
            except HttpError as error:
                outcomes.append(Outcome(ok=False, error=f"looking for earlier statements: {error}"))
                continue
            if statements:
                previous.discard(statements[0]["id"])
            statements[:0] = [self.void(statement_id, item) for statement_id in sorted(previous)]
            try:
                # One statement a request: an LRS refuses a whole batch with 409 when one id in it
                # is already stored (a void sent before), which would hide that the rest was not.
                # Our statement ids make a repeat a no-op for the LRS (xAPI 1.0.3 section 2.2: same id, same statement).
                for statement in statements:
                    self.client.request("POST", "statements", json=[statement], headers={"Content-Type": "application/json"},
                                        accept=(409,), idempotent=True)
            except HttpError as error:
                outcomes.append(Outcome(ok=False, error=str(error)))
                continue
            outcomes.append(Outcome(ok=True, remote_id=statements[-1]["id"] if statements else (ref.remote_id if ref else None)))
        return outcomes

    def _earlier(self, item: OutboxItem, ref: ExternalRef | None) -> set[str]:
        """Our statements for this exchange day that the LRS still counts: what runs the store
        no longer remembers (a crash, a restored store) may have sent. Every earlier version's
        id is derived, so each is asked for by `statementId`, which every LRS answers (xAPI
        1.0.3 section 2.1.3) and which finds no voided statement (those answer 404)."""
        first = ref.sequence if ref is not None and ref.sequence is not None else 0
        candidates = {self.statement_id(item, sequence) for sequence in range(first, item.sequence)}
        if ref is not None and ref.remote_id:
            candidates.add(ref.remote_id)
        found = set()
        for statement_id in sorted(candidates):
            answer = self.client.request("GET", "statements", params={"statementId": statement_id}, accept=(404,))
            if answer.status_code == 200:
                found.add(statement_id)
        return found

    def actor(self, record: dict[str, Any]) -> dict[str, Any]:
        name = f"{record['first_name']} {record['last_name']}"
        if record.get("employee_number") and self.options.get("account_home_page"):
            return {"objectType": "Agent", "name": name, "account": {"homePage": str(self.options["account_home_page"]), "name": record["employee_number"]}}
        return {"objectType": "Agent", "name": name, "mbox": f"mailto:{record['email']}"}

    def statement(self, item: OutboxItem) -> dict[str, Any]:
        record = item.payload
        host = self.context.config.partner.uid_host
        minutes = round(float(record["hours"]) * 60)
        return {
            "id": self.statement_id(item, item.sequence),
            "actor": self.actor(record),
            "verb": ATTENDED,
            "object": {"objectType": "Activity", "id": f"https://{host}/switching-talent/{record['exchange']}/{record['record_id'].split(':', 1)[-1]}",
                       "definition": {"name": {"nl-BE": record["title"]}, "type": "http://adlnet.gov/expapi/activities/meeting"}},
            "result": {"completion": True, "duration": f"PT{minutes // 60}H{minutes % 60}M" if minutes % 60 else f"PT{minutes // 60}H"},
            "context": {"platform": PLATFORM, "language": "nl-BE", "extensions": {
                f"{EXTENSION}host-organisation": record["provider"], f"{EXTENSION}coach": record["coach"],
                f"{EXTENSION}learning-question": record["learning_question"], f"{EXTENSION}leerbewijs": record.get("leerbewijs_number")}},
            "timestamp": f"{record['date']}T00:00:00+00:00",
        }

    def void(self, previous: str, item: OutboxItem) -> dict[str, Any]:
        return {"id": str(uuid.uuid5(NAMESPACE, f"void|{previous}")), "actor": self.actor(item.payload), "verb": VOIDED,
                "object": {"objectType": "StatementRef", "id": previous}, "context": {"platform": PLATFORM}}


SINK = XapiStatements
