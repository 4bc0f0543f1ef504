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
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph  # noqa: E402

HOST_COACHES = 10


def serve(users: int, ready: multiprocessing.Queue, stop: multiprocessing.Event) -> None:  # type: ignore[type-arg]
    fake = FakeGraph(page_size=200, token_lifetime=7200).start()
    for n in range(users):
        address = f"medewerker{n:06d}@bigco.be"
        fake.add_user({"id": f"{n:08d}-0000-4000-8000-000000000000", "givenName": f"Voornaam{n}", "surname": f"Achternaam{n}",
                       "mail": address, "userPrincipalName": address, "employeeId": f"E{n:06d}", "jobTitle": "Medewerker",
                       "department": f"Afdeling {n % 40}", "companyName": "BigCo", "accountEnabled": True, "preferredLanguage": "nl-BE"})
    ready.put((fake.base, fake.graph_url, str(fake.ca_file)))
    stop.wait()
    fake.stop()


def write_network(folder: Path, base: str, graph_url: str, ca_file: str, invites: int) -> Path:
    cohort = folder / "cohort"
    host = folder / "host"
    cohort.mkdir()
    host.mkdir()
    (host / "medewerkers.csv").write_text("Personeelsnummer;Voornaam;Familienaam;E-mail werk\n" + "".join(
        f"H{i};Coach{i};Gastheer;coach{i}@host.be\n" for i in range(HOST_COACHES)), encoding="utf-8")
    exchanges = invites // 2
    (cohort / "leerplekken.csv").write_text("Code;Organisatie;Leerplek;Adres\n" + "".join(
        f"LP{i};host;Leerplek {i};Straat {i}, 1000 Brussel\n" for i in range(HOST_COACHES)), encoding="utf-8")
    (cohort / "leercoaches.csv").write_text("Leerplek;Leercoach\n" + "".join(f"LP{i};H{i}\n" for i in range(HOST_COACHES)), encoding="utf-8")
    (cohort / "leervragen.csv").write_text("Code;Organisatie;Switcher;Leervraag\n" + "".join(
        f"LV{i};bigco;E{i:06d};Leervraag {i}\n" for i in range(exchanges)), encoding="utf-8")
    (cohort / "uitwisselingen.csv").write_text("Code;Leervraag;Leerplek;Leercoaches;Status\n" + "".join(
        f"EX{i};LV{i};LP{i % HOST_COACHES};H{i % HOST_COACHES};bevestigd\n" for i in range(exchanges)), encoding="utf-8")
    rows = []
    for i in range(exchanges):
        day = 1 + i % 28
        month = 1 + (i // 28) % 12
        rows.append(f"S{i}-INTRO;EX{i};kennismaking;{day:02d}/{month:02d}/2027;10:00;10:20;online;;\n")
        rows.append(f"S{i}-D1;EX{i};uitwisselingsdag;{day:02d}/{month:02d}/2028;09:00;16:30;ter plaatse;;7\n")
    (cohort / "sessies.csv").write_text("Code;Uitwisseling;Soort;Datum;Van;Tot;Vorm;Locatie;Uren\n" + "".join(rows), encoding="utf-8")
    config = folder / "config.toml"
    config.write_text(f"""
[partner]
id = "bench"
name = "Benchmark partner"
organiser_email = "switch@bench.be"

[store]
url = "sqlite:///state/connector.db"

[[tenants]]
name = "bench"
tenant_id = "{TENANT}"
client_id = "{CLIENT_ID}"
client_secret = "${{BENCH_GRAPH_SECRET}}"
authority_host = "{base}"
graph_url = "{graph_url}"
ca_bundle = "{ca_file}"

[channels.msgraph]
tenant = "bench"

[[sources]]
name = "cohort"
kind = "files"
path = "cohort"
entities = ["learning_places", "coaches", "learning_questions", "exchanges", "sessions"]

[[organisations]]
id = "bigco"
name = "BigCo nv"
average_workforce = 50000
invitations = "msgraph"
  [[organisations.sources]]
  name = "entra"
  kind = "msgraph_users"
  tenant = "bench"
  entities = ["people"]

[[organisations]]
id = "host"
name = "Host vzw"
average_workforce = 10
invitations = "msgraph"
  [[organisations.sources]]
  name = "hr"
  kind = "files"
  path = "host"
  entities = ["people"]
""", encoding="utf-8")
    return config


def run_measured(config: Path) -> tuple[dict, float, float]:
    """Run one sync as a child and read its own peak RSS from wait4."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "connector.cli", "sync", "--config", str(config), "--json", "--as-of", "2026-11-22"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT, env={**os.environ, "BENCH_GRAPH_SECRET": CLIENT_SECRET})
    output = process.stdout.read() if process.stdout else b""
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise SystemExit(f"sync failed with exit code {process.returncode}")
    return json.loads(output), seconds, usage.ru_maxrss / 1024


def stats(base: str) -> dict:
    return requests.get(f"{base}/_stats", verify=False, timeout=30).json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--invites", type=int, default=1_000)
    args = parser.parse_args()
    import urllib3

    urllib3.disable_warnings()
    ready: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(args.users, ready, stop), daemon=True)
    server.start()
    base, graph_url, ca_file = ready.get(timeout=600)
    with tempfile.TemporaryDirectory() as folder:
        config = write_network(Path(folder), base, graph_url, ca_file, args.invites)
        first, seconds, rss = run_measured(config)
        after_first = stats(base)
        second, rerun_seconds, rerun_rss = run_measured(config)
        after_second = stats(base)
    stop.set()
    server.join(timeout=30)
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
