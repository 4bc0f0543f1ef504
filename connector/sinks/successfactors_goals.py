"""The origin of a learning question, updated in SAP SuccessFactors: a text field of the
employee's development goal saying which leerbewijs answers it.

When a learning question accepted from a SuccessFactors development goal (entity
`DevGoal_<template id>`, connector/engine/plans.py) is answered by a finished exchange, the
planner writes the note into one text field of that goal, as an OData v2 update (MERGE: only
the fields sent change): `POST /odata/v2/DevGoal_<template>(<id>L)` with the header
`X-HTTP-Method: MERGE` and the body `{"__metadata": {"uri", "type"}, <note_field>: text}`
(SAP KBA 2627985), answered 204 No Content. Writing the same text again leaves the goal as it
was, so a request whose answer was lost is simply sent once more (idempotent); a changed
text (a second exchange of the same question) replaces the first. Facts:
tests/contracts/successfactors.json (update_development_goal).

Options: `url`, `company_id`, `client_id`, `user_id`, `private_key`, `ca_bundle` (as the
successfactors source), `devgoal_template` (the development goal plan's template id),
`note_field` (the text field to write: a field of that template the partner keeps for this,
e.g. a custom field added to the plan template; its earlier content is replaced),
`goals_from` (the source whose goals these are; default: the organisation's successfactors
source). The API user needs edit permission on that goal plan's field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connector.plumbing.adapters import required_options
from connector.plumbing.http import HttpClient, HttpError
from connector.sinks import PLAN_ORIGIN, Sink, reference
from connector.sources.successfactors import sap_client
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem


class SuccessFactorsGoals(Sink):
    kind = "successfactors_goals"
    object_types = frozenset({PLAN_ORIGIN})
    batch_size = 50

    @property
    def client(self) -> HttpClient:
        return sap_client(self.context.runtime, self.name, self.options)

    def problems(self) -> list[str]:
        found = required_options(f"write-back target '{self.name}'", self.options,
                                 ("url", "company_id", "client_id", "user_id", "private_key", "devgoal_template", "note_field"))
        if "devgoal_template" in self.options and not str(self.options["devgoal_template"]).strip().isdigit():
            found.append(f"write-back target '{self.name}': devgoal_template must be the template's number (DevGoal_<id>, e.g. 2001)")
        return found

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> Iterator[Outcome]:
        for item in items:
            try:
                yield self._note(item)
            except HttpError as error:
                if error.uncertain:
                    raise  # the engine marks the batch uncertain; the MERGE is then simply sent again
                yield Outcome(ok=False, error=f"development goal {item.payload.get('goal')}: {error}")

    def _note(self, item: OutboxItem) -> Outcome:
        payload: dict[str, Any] = item.payload
        template = str(self.options["devgoal_template"]).strip()
        entity = f"DevGoal_{template}({int(payload['goal'])}L)"
        body = {"__metadata": {"uri": entity, "type": f"SFOData.DevGoal_{template}"},
                str(self.options["note_field"]): f"{payload['text']}\n{reference(item.object_id)}"}
        self.client.request("POST", f"odata/v2/{entity}", json=body, headers={"X-HTTP-Method": "MERGE"}, idempotent=True)
        return Outcome(ok=True, remote_id=entity)


SINK = SuccessFactorsGoals
