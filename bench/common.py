"""What the Graph benchmarks (bench/scale.py, bench/graph.py) share: the generated users and
cohort, the fake Graph in a process of its own, and running `st-connector sync` as a measured
child process."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT  # noqa: E402

COHORT_SOURCE = """
[[sources]]
name = "cohort"
kind = "files"
path = "cohort"
entities = ["learning_places", "coaches", "learning_questions", "exchanges", "sessions"]
"""


def user(organisation: int, n: int, domain: str | None = None) -> dict[str, Any]:
    """Entra user n of an organisation, as `users/delta` delivers it ($select of the source)."""
    address = f"medewerker{n:06d}@{domain or f'org{organisation}.be'}"
    return {"id": f"{organisation:04d}{n:04d}-0000-4000-8000-{n:012d}", "givenName": f"Voornaam{n}", "surname": f"Achternaam{n}",
            "displayName": f"Voornaam{n} Achternaam{n}", "mail": address, "userPrincipalName": address, "employeeId": f"E{n:06d}",
            "jobTitle": "Medewerker", "department": f"Afdeling {n % 40}", "officeLocation": None, "companyName": f"Org {organisation}",
            "accountEnabled": True, "preferredLanguage": "nl-BE", "employeeHireDate": "2020-01-01T00:00:00Z",
            "employeeLeaveDateTime": None, "employeeType": "Employee"}


@contextmanager
def fake_in_process(serve: Callable[..., None], *args: Any) -> Iterator[Any]:
    """Run `serve(*args, ready, stop)` in a process of its own (so its work is not the
    measured process's): yields what it put on `ready` (its URLs), stops it afterwards."""
    ready: Any = multiprocessing.Queue()
    stop = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(*args, ready, stop), daemon=True)
    server.start()
    try:
        yield ready.get(timeout=900)
    finally:
        stop.set()
        server.join(timeout=60)


def write_cohort(folder: Path, organisation: str, places: int, exchanges: int, sessions: Callable[[int], str]) -> None:
    """The cohort's files (folder/cohort) and the host's staff (folder/host): `places` learning
    places of `host`, each with its coach, and `exchanges` switchers of `organisation`
    (employee numbers E000000...), exchange i on place i mod `places`; `sessions(i)` gives
    exchange i's lines of sessies.csv."""
    cohort, host = folder / "cohort", folder / "host"
    cohort.mkdir()
    host.mkdir()
    (host / "medewerkers.csv").write_text("Personeelsnummer;Voornaam;Familienaam;E-mail werk\n" + "".join(
        f"H{i};Coach{i};Gastheer;coach{i}@host.be\n" for i in range(places)), encoding="utf-8")
    (cohort / "leerplekken.csv").write_text("Code;Organisatie;Leerplek;Adres\n" + "".join(
        f"LP{i};host;Leerplek {i};Straat {i}, 1000 Brussel\n" for i in range(places)), encoding="utf-8")
    (cohort / "leercoaches.csv").write_text("Leerplek;Leercoach\n" + "".join(f"LP{i};H{i}\n" for i in range(places)), encoding="utf-8")
    (cohort / "leervragen.csv").write_text("Code;Organisatie;Switcher;Leervraag\n" + "".join(
        f"LV{i};{organisation};E{i:06d};Leervraag {i}\n" for i in range(exchanges)), encoding="utf-8")
    (cohort / "uitwisselingen.csv").write_text("Code;Leervraag;Leerplek;Leercoaches;Status\n" + "".join(
        f"EX{i};LV{i};LP{i % places};H{i % places};bevestigd\n" for i in range(exchanges)), encoding="utf-8")
    (cohort / "sessies.csv").write_text("Code;Uitwisseling;Soort;Datum;Van;Tot;Vorm;Locatie;Uren\n" + "".join(
        sessions(i) for i in range(exchanges)), encoding="utf-8")


def partner_and_store(store_url: str) -> str:
    """The configuration's [partner] and [store]."""
    return f"""
[partner]
id = "bench"
name = "Benchmark partner"
organiser_email = "switch@bench.be"

[store]
url = "{store_url}"
"""


def tenant_block(name: str, base: str, graph_url: str, ca_file: str) -> str:
    """A [[tenants]] block for the fake (its secret in BENCH_GRAPH_SECRET)."""
    return f"""
[[tenants]]
name = "{name}"
tenant_id = "{TENANT}"
client_id = "{CLIENT_ID}"
client_secret = "${{BENCH_GRAPH_SECRET}}"
authority_host = "{base}"
graph_url = "{graph_url}"
ca_bundle = "{ca_file}"
"""


def organisation_block(identifier: str, name: str, workforce: int, source: str, extra: str = "") -> str:
    """An [[organisations]] block with one source (`source`: its lines, indented)."""
    return f"""
[[organisations]]
id = "{identifier}"
name = "{name}"
average_workforce = {workforce}
{extra}  [[organisations.sources]]
{source}"""


def entra_source(tenant: str) -> str:
    return f'  name = "entra"\n  kind = "msgraph_users"\n  tenant = "{tenant}"\n  entities = ["people"]\n'


HOST_SOURCE = '  name = "hr"\n  kind = "files"\n  path = "host"\n  entities = ["people"]\n'


def run_measured(command: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> tuple[bytes, float, float, float]:
    """Run `command` as a child: its output, wall seconds, CPU seconds (user + system) and peak
    RSS in MB, the last two the child's own (wait4)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd, env={**os.environ, **(env or {})})
    output = process.stdout.read() if process.stdout else b""
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"{command[:5]} failed with exit code {code}: {output[-2000:]!r}")
    return output, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def connector_sync(config: Path, profile: Path | None = None, root: Path = ROOT) -> tuple[dict[str, Any], float, float, float]:
    """`st-connector sync --json` of `root`'s connector (under cProfile into `profile`): its
    summary, wall and CPU seconds, peak RSS in MB."""
    command = [sys.executable]
    if profile is not None:
        command += ["-m", "cProfile", "-o", str(profile)]
    command += ["-m", "connector.cli", "sync", "--config", str(config), "--json", "--as-of", "2026-11-22"]
    output, wall, cpu, rss = run_measured(command, {"BENCH_GRAPH_SECRET": CLIENT_SECRET}, cwd=root)
    summary = json.loads(output)
    if "pulled" not in summary:
        raise SystemExit(f"the sync did not run: {output[:3000]!r}")
    return summary, wall, cpu, rss


def stats(base: str, ca_file: str | bool = False) -> dict[str, Any]:
    """The fake's counters: {"operations": {"GET /users/delta": n, ...}, "max_batch": n, ...}."""
    return requests.get(f"{base}/_stats", verify=ca_file, timeout=60).json()


def sign_in_requests(operations: dict[str, int]) -> int:
    """Requests to the identity platform (discovery and tokens) among the fake's operations."""
    return sum(v for k, v in operations.items() if "oauth2" in k or "well-known" in k)
