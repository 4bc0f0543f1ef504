"""The origin of a learning question, updated in BambooHR: a comment on the employee's goal
saying which leerbewijs answers it.

When a learning question accepted from a BambooHR goal (connector/engine/plans.py) is
answered by a finished exchange, the planner writes one comment on that goal
(`POST performance/employees/{id}/goals/{goalId}/comments`, body `{"text"}`); a changed text
(a second exchange of the same question) updates that comment in place (`PUT .../comments/
{commentId}`). The text ends with `st-ref:<planned item id>`: after a lost answer, the goal's
comments (`GET .../comments`) are read and a comment carrying it is taken as already there.
Facts: tests/contracts/bamboohr.json (get_goal_comments, post_goal_comment, put_goal_comment).

Options: `company`, `api_key`, `url`, `ca_bundle` (as the bamboohr source), `goals_from`
(the source whose goals these are; default: the organisation's bamboohr source). The API
key's user must be allowed to comment on the employees' goals.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connector.plumbing.http import HttpClient, HttpError
from connector.sinks import PLAN_ORIGIN, Sink, reference
from connector.sources.bamboohr import bamboohr_client, bamboohr_problems
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem


class BambooHRGoals(Sink):
    kind = "bamboohr_goals"
    object_types = frozenset({PLAN_ORIGIN})
    batch_size = 50

    @property
    def client(self) -> HttpClient:
        return bamboohr_client(self.context.runtime, self.name, self.options)

    def problems(self) -> list[str]:
        return bamboohr_problems("bamboohr_goals", self.options)

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> Iterator[Outcome]:
        for item in items:
            try:
                yield self._comment(item, known.get(item.object_id))
            except HttpError as error:
                if error.uncertain:
                    raise  # the engine marks the batch uncertain and looks before writing again
                yield Outcome(ok=False, error=f"goal {item.payload.get('goal')} of employee {item.payload.get('employee')}: {error}")

    def _comment(self, item: OutboxItem, ref: ExternalRef | None) -> Outcome:
        payload: dict[str, Any] = item.payload
        goal = f"performance/employees/{payload['employee']}/goals/{payload['goal']}/comments"
        text = f"{payload['text']}\n{reference(item.object_id)}"
        comment_id = ref.remote_id if ref is not None else None
        if comment_id is None and item.uncertain:
            comment_id = self._find(goal, item.object_id)
        if comment_id is not None:
            self.client.json("PUT", f"{goal}/{comment_id}", json={"text": text}, idempotent=True)  # the same text twice is one text
            return Outcome(ok=True, remote_id=comment_id)
        answer = self.client.json("POST", goal, json={"text": text})
        created = answer.get("id") if isinstance(answer, dict) else None
        return Outcome(ok=True, remote_id=str(created) if created is not None else None)

    def _find(self, goal: str, object_id: str) -> str | None:
        """The comment a lost answer may have made: the one carrying our reference."""
        answer = self.client.json("GET", goal)
        for comment in (answer.get("comments") if isinstance(answer, dict) else None) or []:
            if isinstance(comment, dict) and reference(object_id) in str(comment.get("text") or ""):
                return str(comment.get("id"))
        return None


SINK = BambooHRGoals
