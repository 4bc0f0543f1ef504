"""The optimal assignment: the whole pool at once, as a minimum-cost flow (OR-Tools).

Network (each arc: capacity, cost per unit of flow):

    source -> sending organisation o      switchers o may still send (its commitment; else all)
    o -> question q                       1
    q -> coach c at place p               1, -(BONUS + points(q, p))   one arc per CANDIDATE
    coach c at p -> place p               what c may still guide at p
    place p -> hosting organisation h     what p may still host
    h -> sink                             switchers h may still host (its commitment; else any)
    source -> sink                        every question, cost 0: leaving a question unmatched

Every node but the source has one way out towards the sink and the capacities nest (coach
within place within host), so the constraint matrix is a network matrix and the min-cost
flow's integral optimum is the optimum of the integer programme: no rounding, no heuristic.
BONUS exceeds any total score, so the flow first matches as many questions as can be matched
and only then maximises the total score. `brute_force` enumerates the same problem for the
tests and the benchmark, which check that both agree.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from connector.matching.constraints import Feasible
from connector.matching.scoring import SCALE, Scored


@dataclass
class Assignment:
    """The chosen candidate per matched question; `points` the summed whole-thousandth scores."""

    chosen: dict[str, Scored]
    points: int
    bound: int  # capacity-free upper bound of `points`: each question its best candidate

    @property
    def matched(self) -> int:
        return len(self.chosen)

    @property
    def objective(self) -> tuple[int, int]:
        """(questions matched, total points): compared lexicographically."""
        return (self.matched, self.points)


def bonus(scored: Mapping[str, list[Scored]]) -> int:
    """More than any question's best total: one more match always outweighs better scores."""
    return max((s.points for rows in scored.values() for s in rows), default=0) * max(1, len(scored)) + 1


def assign(scored: Mapping[str, list[Scored]], feasible: Feasible, owners: Mapping[str, str],
           hosts: Mapping[str, str]) -> Assignment:
    """The optimum. `owners`: question -> its organisation; `hosts`: place -> its organisation."""
    questions = [q for q in sorted(scored) if scored[q]]
    if not questions:
        return Assignment({}, 0, 0)
    flow = min_cost_flow.SimpleMinCostFlow()
    nodes: dict[tuple[str, ...], int] = {("source",): 0, ("sink",): 1}

    def node(*key: str) -> int:
        return nodes.setdefault(key, len(nodes))

    total = len(questions)
    extra = bonus(scored)
    per_owner = Counter(owners[q] for q in questions)
    for organisation, count in sorted(per_owner.items()):
        limit = feasible.send_left.get(organisation)
        flow.add_arc_with_capacity_and_unit_cost(0, node("send", organisation), min(count, count if limit is None else limit), 0)
    rows: list[Scored] = []
    tails: list[int] = []
    heads: list[int] = []
    costs: list[int] = []
    coach_ids: dict[tuple[str, str], int] = {}
    for code in questions:
        flow.add_arc_with_capacity_and_unit_cost(node("send", owners[code]), node("q", code), 1, 0)
        question_node = node("q", code)
        for row in scored[code]:
            candidate = row.candidate
            key = (candidate.place, candidate.coach)
            head = coach_ids.get(key)
            if head is None:
                head = coach_ids[key] = node("coach", *key)
            rows.append(row)
            tails.append(question_node)
            heads.append(head)
            costs.append(-(extra + row.points))
    coach_nodes = set(coach_ids)
    place_nodes = {place for place, _ in coach_ids}
    # one call for all candidate arcs: thousands of questions make millions of them
    first_arc = flow.num_arcs()
    flow.add_arcs_with_capacity_and_unit_cost(np.array(tails, dtype=np.int32), np.array(heads, dtype=np.int32),
                                              np.ones(len(rows), dtype=np.int64), np.array(costs, dtype=np.int64))
    for place, coach in sorted(coach_nodes):
        flow.add_arc_with_capacity_and_unit_cost(node("coach", place, coach), node("place", place),
                                                 min(total, feasible.coach_left[(place, coach)]), 0)
    host_nodes = set()
    for place in sorted(place_nodes):
        flow.add_arc_with_capacity_and_unit_cost(node("place", place), node("host", hosts[place]), min(total, feasible.place_left[place]), 0)
        host_nodes.add(hosts[place])
    for organisation in sorted(host_nodes):
        limit = feasible.host_left.get(organisation)
        flow.add_arc_with_capacity_and_unit_cost(node("host", organisation), 1, total if limit is None else min(total, limit), 0)
    flow.add_arc_with_capacity_and_unit_cost(0, 1, total, 0)
    flow.set_node_supply(0, total)
    flow.set_node_supply(1, -total)
    status = flow.solve()
    if status != flow.OPTIMAL:  # cannot happen: the bypass arc always makes the flow feasible
        raise RuntimeError(f"the min-cost flow solver ended with status {status}")
    flows = flow.flows(np.arange(first_arc, first_arc + len(rows), dtype=np.int32))
    chosen = {rows[i].candidate.question: rows[i] for i in np.nonzero(flows)[0]}
    return Assignment(chosen, sum(r.points for r in chosen.values()), upper_bound(scored))


def upper_bound(scored: Mapping[str, list[Scored]]) -> int:
    """Points if every question got its best candidate, capacities ignored."""
    return sum(max((r.points for r in rows), default=0) for rows in scored.values())


def brute_force(scored: Mapping[str, list[Scored]], feasible: Feasible, owners: Mapping[str, str],
                hosts: Mapping[str, str]) -> tuple[int, int]:
    """(matched, points) of the best assignment, by trying every one: for tests on small pools only."""
    questions = sorted(scored)
    options = [[None, *scored[q]] for q in questions]
    best = (0, 0)
    for combination in itertools.product(*options):
        picked = [row for row in combination if row is not None]
        if not _within(picked, feasible, owners, hosts):
            continue
        value = (len(picked), sum(r.points for r in picked))
        best = max(best, value)
    return best


def _within(picked: list[Scored], feasible: Feasible, owners: Mapping[str, str], hosts: Mapping[str, str]) -> bool:
    coaches = Counter((r.candidate.place, r.candidate.coach) for r in picked)
    places = Counter(r.candidate.place for r in picked)
    hosting = Counter(hosts[r.candidate.place] for r in picked)
    sending = Counter(owners[r.candidate.question] for r in picked)
    return (all(n <= feasible.coach_left[k] for k, n in coaches.items())
            and all(n <= feasible.place_left[k] for k, n in places.items())
            and all(feasible.host_left.get(k) is None or n <= feasible.host_left[k] for k, n in hosting.items())  # type: ignore[operator]
            and all(feasible.send_left.get(k) is None or n <= feasible.send_left[k] for k, n in sending.items()))  # type: ignore[operator]


__all__ = ["SCALE", "Assignment", "assign", "brute_force", "upper_bound"]
