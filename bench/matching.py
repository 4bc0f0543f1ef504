"""Benchmark: matching generated cohorts of 100, 1,000 and 5,000 open learning questions.

    python bench/matching.py [--sizes 100 1000 5000] [--seed 1]

Per size, in a fresh process: a cohort of about one learning place per two questions (1-3
switchers each, 1-2 coaches), organisations with competitors and commitments, real Belgian
postcodes (tests/fakes/cohorts.py). It prints the time to constrain, score and solve (the
solve time), the time to suggest dates for every proposal, the peak memory of the process,
the objective (questions matched, total score in thousandths), and the gap to the
capacity-free upper bound (each question its best candidate: not reachable when places are
scarce, so the gap is the price of capacity, not of the solver), and up to 1,000 questions the
gap to the LP relaxation's optimum solved by another algorithm (GLOP simplex), which is 0 for an
exact flow. Then, on small cohorts, the gap to brute force, which must be 0 too. Target: 1,000 questions solved in under 10 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from connector.core.config import MatchingConfig  # noqa: E402
from connector.matching.constraints import feasible  # noqa: E402
from connector.matching.dates import Planner  # noqa: E402
from connector.matching.scoring import score  # noqa: E402
from connector.matching.solver import assign, brute_force  # noqa: E402
from tests.fakes.cohorts import generate  # noqa: E402


def measure(size: int, seed: int, queue: multiprocessing.Queue, lp_up_to: int) -> None:  # type: ignore[type-arg]
    settings = MatchingConfig()
    cohort = generate(size, seed)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    cpu = time.process_time()
    allowed = feasible(cohort, settings.max_distance_km)
    scored = score(cohort, allowed, settings.weights, settings.max_distance_km)
    found = assign(scored, allowed, {q.code: q.organisation for q in cohort.questions},
                   {c: p.organisation for c, p in cohort.places.items()})
    solve_wall, solve_cpu = time.perf_counter() - started, time.process_time() - cpu
    started = time.perf_counter()
    planner = Planner(settings, ZoneInfo("Europe/Brussels"), date(2027, 1, 4))
    coaches = {c.key: c for c in cohort.coaches}
    questions = {q.code: q for q in cohort.questions}
    dated = 0
    for code, row in sorted(found.chosen.items()):
        place = cohort.places[row.candidate.place]
        coach = coaches[(place.code, row.candidate.coach)]
        dated += bool(planner.plan([f"s-{code}", f"c-{coach.person}"], place.weekdays & coach.weekdays, questions[code].period).days)
    plan_wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    lp_gap = None
    if size <= lp_up_to:
        owners = {q.code: q.organisation for q in cohort.questions}
        hosts = {c: p.organisation for c, p in cohort.places.items()}
        from connector.matching.solver import bonus

        flow_value = found.matched * bonus(scored) + found.points
        bound = lp_bound(scored, allowed, owners, hosts)
        lp_gap = (bound - flow_value) / bound if bound else 0.0
    queue.put({"size": size, "places": len(cohort.places), "coaches": len(cohort.coaches),
               "candidates": sum(len(c) for c in allowed.candidates.values()), "solve_s": solve_wall, "solve_cpu_s": solve_cpu,
               "plan_s": plan_wall, "dated": dated, "peak_mb": peak / 1024, "added_mb": (peak - before) / 1024,
               "matched": found.matched, "points": found.points, "bound": found.bound, "lp_gap": lp_gap})


def lp_bound(scored, allowed, owners, hosts) -> float:  # type: ignore[no-untyped-def]
    """The LP relaxation's optimum of the same problem (GLOP simplex, fractional assignments
    allowed), in the solver's units: an upper bound computed by another algorithm. Equal to the
    flow's optimum when the flow is exact."""
    from collections import defaultdict

    from ortools.linear_solver import pywraplp

    from connector.matching.solver import bonus

    solver = pywraplp.Solver.CreateSolver("GLOP")
    extra = bonus(scored)
    groups: dict[tuple[str, ...], list] = defaultdict(list)  # type: ignore[type-arg]
    objective = solver.Objective()
    for code, rows in scored.items():
        for row in rows:
            variable = solver.NumVar(0.0, 1.0, "")
            objective.SetCoefficient(variable, float(extra + row.points))
            candidate = row.candidate
            for key in (("q", code), ("coach", candidate.place, candidate.coach), ("place", candidate.place),
                        ("host", hosts[candidate.place]), ("send", owners[code])):
                groups[key].append(variable)
    objective.SetMaximization()
    for key, variables in groups.items():
        limit = {"q": 1, "coach": allowed.coach_left.get(key[1:], 0), "place": allowed.place_left.get(key[1], 0),
                 "host": allowed.host_left.get(key[1]), "send": allowed.send_left.get(key[1])}[key[0]]
        if limit is not None:
            solver.Add(sum(variables) <= limit)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return float("nan")
    return objective.Value()


def small_gaps(count: int) -> list[int]:
    """points(brute force) - points(solver) on small cohorts: each must be 0."""
    gaps = []
    for seed in range(count):
        cohort = generate(6, 1000 + seed, places=3, organisations=3)
        allowed = feasible(cohort, 60.0)
        scored = score(cohort, allowed, MatchingConfig().weights, 60.0)
        owners = {q.code: q.organisation for q in cohort.questions}
        hosts = {c: p.organisation for c, p in cohort.places.items()}
        found = assign(scored, allowed, owners, hosts)
        best = brute_force(scored, allowed, owners, hosts)
        gaps.append((best[0] - found.matched) * 10**9 + best[1] - found.points)
    return gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lp-up-to", type=int, default=1000, help="solve the LP relaxation (GLOP) for sizes up to this")
    args = parser.parse_args()
    print(f"{'questions':>9} {'places':>6} {'coaches':>7} {'candidates':>10} {'solve s':>8} {'cpu s':>6} {'dates s':>7} "
          f"{'peak MB':>8} {'matched':>7} {'objective':>10} {'bound':>10} {'gap':>6} {'LP gap':>8}")
    context = multiprocessing.get_context("spawn")
    for size in args.sizes:
        queue = context.Queue()
        process = context.Process(target=measure, args=(size, args.seed, queue, args.lp_up_to))
        process.start()
        row = queue.get()
        process.join()
        gap = (row["bound"] - row["points"]) / row["bound"] if row["bound"] else 0.0
        print(f"{row['size']:>9} {row['places']:>6} {row['coaches']:>7} {row['candidates']:>10} {row['solve_s']:>8.2f} "
              f"{row['solve_cpu_s']:>6.2f} {row['plan_s']:>7.2f} {row['peak_mb']:>8.0f} {row['matched']:>7} {row['points']:>10} "
              f"{row['bound']:>10} {gap:>6.1%} {'-' if row['lp_gap'] is None else format(row['lp_gap'], '.2e'):>8}")
    gaps = small_gaps(20)
    print(f"gap to brute force on 20 cohorts of 6 questions: {'all 0' if not any(gaps) else gaps}")


if __name__ == "__main__":
    main()
