"""Benchmark: Microsoft Graph users delta and invitations against the loopback fake Graph.

    python bench/graph.py [--users 50000] [--invites 1000]

Runs the real CLI (`st-connector sync --json`) twice in child processes against a fake
Graph running in another process: a first sync (all users, all invitations) and a second
one with nothing changed, which should cost only the delta requests (users, and the
project mailbox's calendar for attendee answers) and write nothing. Prints requests made against the minimum possible
(ceil(users/200) delta pages; ceil(invites/20) $batch calls), wall time and the sync
process's peak memory, then one JSON line. Run it with a smaller --users too to see
whether memory stays flat in the number of users.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    COHORT_SOURCE,
    HOST_SOURCE,
    connector_sync,
    entra_source,
    fake_in_process,
    organisation_block,
    partner_and_store,
    stats,
    tenant_block,
    user,
    write_cohort,
)
from tests.fakes.graph_server import FakeGraph  # noqa: E402

HOST_COACHES = 10


def serve(users: int, ready: Any, stop: Any) -> None:
    fake = FakeGraph(page_size=200, token_lifetime=7200).start()
    for n in range(users):
        fake.add_user(user(0, n, "bigco.be"))
    ready.put((fake.base, fake.graph_url, str(fake.ca_file)))
    stop.wait()
    fake.stop()


def sessions(i: int) -> str:
    """Exchange i's introduction in 2027 and its exchange day in 2028."""
    day, month = 1 + i % 28, 1 + (i // 28) % 12
    return (f"S{i}-INTRO;EX{i};kennismaking;{day:02d}/{month:02d}/2027;10:00;10:20;online;;\n"
            f"S{i}-D1;EX{i};uitwisselingsdag;{day:02d}/{month:02d}/2028;09:00;16:30;ter plaatse;;7\n")


def write_network(folder: Path, base: str, graph_url: str, ca_file: str, invites: int) -> Path:
    write_cohort(folder, "bigco", HOST_COACHES, invites // 2, sessions)
    invitations = 'invitations = "msgraph"\n'
    config = folder / "config.toml"
    config.write_text(f"""{partner_and_store("sqlite:///state/connector.db")}{tenant_block("bench", base, graph_url, ca_file)}
[channels.msgraph]
tenant = "bench"
{COHORT_SOURCE}{organisation_block("bigco", "BigCo nv", 50000, entra_source("bench"), invitations)}{organisation_block("host", "Host vzw", 10, HOST_SOURCE, invitations)}""", encoding="utf-8")
    return config


def run_measured(config: Path) -> tuple[dict[str, Any], float, float]:
    """One sync as a child: its summary, wall seconds and its own peak RSS (MB)."""
    summary, seconds, _, rss = connector_sync(config)
    return summary, seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--invites", type=int, default=1_000)
    args = parser.parse_args()
    import urllib3

    urllib3.disable_warnings()
    with fake_in_process(serve, args.users) as (base, graph_url, ca_file), tempfile.TemporaryDirectory() as folder:
        config = write_network(Path(folder), base, graph_url, ca_file, args.invites)
        first, seconds, rss = run_measured(config)
        after_first = stats(base)
        second, rerun_seconds, rerun_rss = run_measured(config)
        after_second = stats(base)
    delta_pages = after_first["operations"].get("GET /users/delta", 0)
    batches = after_first["operations"].get("POST /$batch (events)", 0)
    schedule_batches = after_first["operations"].get("POST /$batch (getSchedule)", 0)
    calendar_pages = after_first["operations"].get("GET /users/{id}/calendarView/delta", 0)
    rerun_delta = after_second["operations"].get("GET /users/delta", 0) - delta_pages
    rerun_calendar = after_second["operations"].get("GET /users/{id}/calendarView/delta", 0) - calendar_pages
    rerun_batches = after_second["operations"].get("POST /$batch", 0) - after_first["operations"].get("POST /$batch", 0)
    invites = first["invites"]["created"] // 2  # the .ics copies count too; Graph events are half
    user_min, invite_min = math.ceil(args.users / 200), math.ceil(args.invites / 20)
    rerun_writes = sum(second["invites"].values()) + second["training_records"]["written"] + second["leerbewijzen"]["issued"]
    print(f"users:   {first['pulled']['people']['created']:>6} pulled with {delta_pages} delta requests (minimum {user_min})")
    print(f"invites: {invites:>6} events created with {batches} $batch requests (minimum {invite_min}); largest batch {after_first['max_batch']}")
    print(f"first sync:  {seconds:7.1f} s, peak RSS {rss:6.1f} MB, status {first['status']}, problems {len(first['errors'])}")
    print(f"free/busy:   {invites:>6} new sessions checked with {schedule_batches} $batch requests of getSchedule")
    print(f"answers:     read back with {calendar_pages} calendarView delta requests")
    print(f"second sync: {rerun_seconds:7.1f} s, peak RSS {rerun_rss:6.1f} MB, {rerun_delta} users delta + {rerun_calendar} calendar delta"
          f" + {rerun_batches} batch requests, {rerun_writes} writes")
    print(json.dumps({"users": args.users, "user_requests": delta_pages, "user_requests_min": user_min, "invites": invites,
                      "invite_requests": batches, "invite_requests_min": invite_min, "rerun_writes": rerun_writes,
                      "rerun_requests": rerun_delta + rerun_calendar + rerun_batches, "peak_rss_mb": round(rss, 1), "seconds": round(seconds, 1)}))


if __name__ == "__main__":
    main()
