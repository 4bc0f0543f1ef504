"""Benchmark at scale: the connector beside a plain baseline and beside msgraph-sdk, in one run.

    python bench/scale.py [--people 10000 50000 100000] [--store sqlite postgres] [--rounds 1]
                          [--network 200x500] [--profile DIR] [--no-sdk]

For each size and store, a loopback fake Graph (tests/fakes/graph_server.py, in a process of
its own) holds N Entra users of one organisation, and three things read the same pages:

- the connector: `st-connector sync` as a child process (first sync, then a sync with nothing
  changed: the stored delta link answers one empty page), a small cohort beside it;
- the plain baseline, in this process: the same pages fetched with `requests`, parsed with
  `.json()`, and inserted with plain SQL `executemany` into a table of the same store in one
  transaction (the no-change baseline: one GET of the delta link);
- msgraph-sdk (Microsoft's Python SDK, `pip install -e '.[bench]'`), as a child process: the
  same `users/delta` pages, followed to the delta link, each user parsed into its model.

Printed per case: wall seconds, CPU seconds (user + system, of the process doing the work:
the child for the connector and the SDK, this process for the baseline), peak RSS, and the
connector's CPU ratio to the baseline and to the SDK, measured in the same run, so the ratio
holds on a noisy machine (shared/decisions.md: ratios are CPU seconds; wall times are
indicative), and the no-change run's requests to the fake (sign-in and Graph: 2 per tenant,
the token and the delta link). `--network 200x500` runs the many-tenants case: 200
organisations of 500 people, each with its own Graph tenant on the fake, on PostgreSQL, synced
`[sync] concurrency` at a time. On PostgreSQL (the server of ST_BENCH_POSTGRES_URL) each case
makes a database of its own (st_bench_...) and drops it; the tests' database is not touched.
`--profile DIR` runs the connector under cProfile and writes two .prof files per case,
<store>-<case>.first.prof and .nochange.prof (slower; the figures of such a run are not the
benchmark's; a later round overwrites an earlier one's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    COHORT_SOURCE,
    HOST_SOURCE,
    ROOT,
    connector_sync,
    entra_source,
    fake_in_process,
    organisation_block,
    partner_and_store,
    run_measured,
    sign_in_requests,
    stats,
    tenant_block,
    user,
    write_cohort,
)
from tests.fakes.graph_server import CLIENT_ID, CLIENT_SECRET, TENANT, FakeGraph  # noqa: E402

SELECT = ("id,givenName,surname,displayName,mail,userPrincipalName,jobTitle,department,officeLocation,"
          "employeeId,companyName,preferredLanguage,accountEnabled,employeeHireDate,employeeLeaveDateTime,employeeType")
# the server; each case makes a database of its own on it (st_bench_...) and drops it
POSTGRES = os.environ.get("ST_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
EXCHANGES = 10
CONNECTOR_ROOT = ROOT  # --connector-root: another checkout's connector (e.g. an older commit), for a before/after
PAGE = 200


class BenchGraph(FakeGraph):
    """The fake Graph, with two things a benchmark needs that a test does not: a full listing
    is sorted once, not once per page (the fake's own cost would otherwise grow with N²), and
    several tenants on one server: `/o<k>/v1.0/...` is organisation k's Graph."""

    def __init__(self, organisations: int) -> None:
        super().__init__(page_size=PAGE, token_lifetime=7200)
        self.tenant_users: list[dict[str, Any]] = [{} for _ in range(organisations)]
        self._sorted: dict[int, list[dict[str, Any]]] = {}
        self._local = threading.local()

    def add_org_user(self, organisation: int, user: dict[str, Any]) -> None:
        self.tenant_users[organisation][user["id"]] = user

    def org_url(self, organisation: int) -> str:
        return f"{self.base}/o{organisation}/v1.0"

    def checked(self, method, target, headers, raw, answer):  # type: ignore[no-untyped-def]
        target = target.replace("/users/delta()", "/users/delta")  # the SDK calls the function with (), Graph takes both
        match = re.match(r"/o(\d+)(/v1\.0/.*)", target)
        if match:
            self._local.organisation = int(match.group(1))
            target = match.group(2)
        return super().checked(method, target, headers, raw, answer)

    def handle(self, method, target, headers, body):  # type: ignore[no-untyped-def]
        target = target.replace("/users/delta()", "/users/delta")
        match = re.match(r"/o(\d+)(/v1\.0/.*)", target)
        if match:
            self._local.organisation = int(match.group(1))
            target = match.group(2)
        return super().handle(method, target, headers, body)

    def _delta(self, query: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        organisation = getattr(self._local, "organisation", 0)
        url = self.org_url(organisation)
        if "$skiptoken" in query:
            kind, offset = query["$skiptoken"][0].split(".")
        elif "$deltatoken" in query:
            if query["$deltatoken"][0] != "1":
                return 410, {}, {"error": {"code": "syncStateNotFound", "message": "The sync state is no longer available."}}
            kind, offset = "d", "0"
        else:
            kind, offset = "f", "0"
        with self._lock:
            if organisation not in self._sorted:
                self._sorted[organisation] = [self.tenant_users[organisation][k] for k in sorted(self.tenant_users[organisation])]
        rows = self._sorted[organisation] if kind == "f" else []  # nothing changes between two rounds
        start = int(offset)
        page: dict[str, Any] = {"@odata.context": f"{url}/$metadata#users", "value": rows[start: start + PAGE]}
        if start + PAGE < len(rows):
            page["@odata.nextLink"] = f"{url}/users/delta?$skiptoken={kind}.{start + PAGE}"
        else:
            page["@odata.deltaLink"] = f"{url}/users/delta?$deltatoken=1"
        return 200, {}, page


def serve(organisations: int, people: int, ready: Any, stop: Any) -> None:
    fake = BenchGraph(organisations)
    for organisation in range(organisations):
        for n in range(people):
            fake.add_org_user(organisation, user(organisation, n))
    fake.start()
    ready.put((fake.base, [fake.org_url(k) for k in range(organisations)], str(fake.ca_file)))
    stop.wait()
    fake.server.shutdown()


# -- the network the connector syncs ---------------------------------------------------------

def write_network(folder: Path, base: str, graph_urls: list[str], ca_file: str, store_url: str, concurrency: int | None) -> Path:
    """A config of len(graph_urls) organisations, each with its own Entra tenant on the fake,
    and a small cohort: EXCHANGES switchers of organisation 0 on learning places of `host`."""
    write_cohort(folder, "org0", EXCHANGES, EXCHANGES,
                 lambda i: f"S{i}-D1;EX{i};uitwisselingsdag;{1 + i:02d}/03/2027;09:00;16:30;ter plaatse;;7\n")
    tenants = "".join(tenant_block(f"t{k}", base, url, ca_file) for k, url in enumerate(graph_urls))
    organisations = "".join(organisation_block(f"org{k}", f"Organisatie {k}", 500, entra_source(f"t{k}")) for k in range(len(graph_urls)))
    config = folder / "config.toml"
    sync = f"\n[sync]\nconcurrency = {concurrency}\n" if concurrency else ""
    config.write_text(f"""{partner_and_store(store_url)}{sync}{tenants}{COHORT_SOURCE}{organisations}{organisation_block("host", "Host vzw", 10, HOST_SOURCE)}""", encoding="utf-8")
    return config


# -- the plain baseline ---------------------------------------------------------------------

def token(base: str, ca_file: str) -> str:
    answer = requests.post(f"{base}/{TENANT}/oauth2/v2.0/token", verify=ca_file, timeout=60, data={
        "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "scope": "https://graph.microsoft.com/.default"})
    return str(answer.json()["access_token"])


def cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Baseline:
    """The same pages, fetched and parsed with requests, inserted with plain SQL in one transaction."""

    COLUMNS = ("id", "given_name", "surname", "mail", "employee_id", "job_title", "department", "language", "enabled", "raw")

    def __init__(self, store_url: str, folder: Path) -> None:
        self.store_url, self.folder = store_url, folder

    def connect(self) -> Any:
        """A plain DB-API connection to the connector's own store (a table of its own in it)."""
        if self.store_url.startswith("sqlite"):
            import sqlite3

            return sqlite3.connect(self.folder / "baseline.db"), "?"
        import psycopg

        return psycopg.connect(self.store_url.replace("postgresql+psycopg", "postgresql")), "%s"

    def run(self, graph_urls: list[str], base: str, ca_file: str, links: list[str] | None) -> tuple[float, float, int, list[str]]:
        """Wall and CPU seconds, the users read and each tenant's delta link (`links`: follow those instead)."""
        session = requests.Session()
        session.verify = ca_file
        headers = {"Authorization": f"Bearer {token(base, ca_file)}"}
        connection, mark = self.connect()
        table = f"baseline_{uuid.uuid4().hex[:8]}"
        cursor = connection.cursor()
        cursor.execute(f"CREATE TABLE {table} ({', '.join(c + ' TEXT' for c in self.COLUMNS)}, PRIMARY KEY (id))")
        connection.commit()
        insert = f"INSERT INTO {table} VALUES ({', '.join([mark] * len(self.COLUMNS))})"
        started, cpu = time.perf_counter(), cpu_now()
        count, delta_links = 0, []
        for k, graph_url in enumerate(graph_urls):
            url: str | None = links[k] if links else f"{graph_url}/users/delta?$select={SELECT}"
            while url:
                body = session.get(url, headers=headers, timeout=60, verify=ca_file).json()
                rows = [(u["id"], u.get("givenName"), u.get("surname"), u.get("mail"), u.get("employeeId"), u.get("jobTitle"),
                         u.get("department"), u.get("preferredLanguage"), str(u.get("accountEnabled")), json.dumps(u)) for u in body["value"]]
                if rows:
                    cursor.executemany(insert, rows)
                count += len(rows)
                url = body.get("@odata.nextLink")
                if "@odata.deltaLink" in body:
                    delta_links.append(body["@odata.deltaLink"])
        connection.commit()
        wall, used = time.perf_counter() - started, cpu_now() - cpu
        cursor.execute(f"DROP TABLE {table}")
        connection.commit()
        connection.close()
        return wall, used, count, delta_links


# -- msgraph-sdk as a peer --------------------------------------------------------------------

def sdk_child(graph_url: str, base: str, ca_file: str) -> None:
    """Read every user with msgraph-sdk (a child of the benchmark): print how many."""
    import httpx
    from kiota_abstractions.authentication import AccessTokenProvider, AllowedHostsValidator, BaseBearerTokenAuthenticationProvider
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.users.delta.delta_request_builder import DeltaRequestBuilder

    bearer = token(base, ca_file)

    class Tokens(AccessTokenProvider):
        async def get_authorization_token(self, uri: str, additional_authentication_context: dict[str, Any] | None = None) -> str:
            return bearer

        def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
            return AllowedHostsValidator([])

    async def read() -> int:
        async with httpx.AsyncClient(verify=ca_file, timeout=60) as http:
            adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(Tokens()), client=http)
            adapter.base_url = graph_url
            client = GraphServiceClient(request_adapter=adapter)
            query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(select=SELECT.split(","))
            config = DeltaRequestBuilder.DeltaRequestBuilderGetRequestConfiguration(query_parameters=query)
            page = await client.users.delta.get(request_configuration=config)
            count = 0
            while page is not None:
                count += len(page.value or [])
                if not page.odata_next_link:
                    break
                page = await client.users.delta.with_url(page.odata_next_link).get()
            return count

    print(asyncio.run(read()))


def sdk_pull(graph_url: str, base: str, ca_file: str) -> tuple[int, float, float, float]:
    output, wall, cpu, rss = run_measured([sys.executable, str(Path(__file__)), "--sdk-child", graph_url, base, ca_file])
    if not output.strip().isdigit():
        raise SystemExit("msgraph-sdk did not read the users (run bench/scale.py --sdk-child URL BASE CA to see why)")
    return int(output.strip()), wall, cpu, rss


# -- the cases ---------------------------------------------------------------------------------

def store_url(store: str, folder: Path) -> tuple[str, Any]:
    """A fresh store: a SQLite file, or a PostgreSQL database of its own on the server of
    ST_BENCH_POSTGRES_URL (never the tests' database), dropped by the returned function."""
    if store == "sqlite":
        return f"sqlite:///{folder}/state/connector.db", lambda: None
    import psycopg

    database = f"st_bench_{uuid.uuid4().hex[:10]}"
    server = POSTGRES.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {database}")

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE {database} WITH (FORCE)")

    return f"{POSTGRES.rsplit('/', 1)[0]}/{database}", drop


def case(organisations: int, people: int, store: str, args: argparse.Namespace) -> dict[str, Any]:
    total = organisations * people
    label = f"{organisations}x{people}" if organisations > 1 else str(people)
    result: dict[str, Any] = {"case": label, "people": total, "store": store}
    with fake_in_process(serve, organisations, people) as (base, graph_urls, ca_file), tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url, drop = store_url(store, folder)
        try:
            # a connector from before [sync] existed would refuse the table
            config = write_network(folder, base, graph_urls, ca_file, url, None if args.connector_root else args.concurrency)
            profile = Path(args.profile) / f"{store}-{label}" if args.profile else None
            first, wall, cpu, rss = connector_sync(config, profile and profile.with_suffix(".first.prof"), CONNECTOR_ROOT)
            before = stats(base, ca_file)["operations"]
            again, wall2, cpu2, rss2 = connector_sync(config, profile and profile.with_suffix(".nochange.prof"), CONNECTOR_ROOT)
            after = stats(base, ca_file)["operations"]
            baseline = Baseline(url, folder)
            b_wall, b_cpu, b_count, links = baseline.run(graph_urls, base, ca_file, None)
            b2_wall, b2_cpu, _, _ = baseline.run(graph_urls, base, ca_file, links)
        finally:
            drop()
        created = sum(c.get("created", 0) for c in first["pulled"].values())
        requests_made = sum(after.values()) - sum(before.values())
        sign_in = sign_in_requests(after) - sign_in_requests(before)
        result.update({
            "first": {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "rss_mb": round(rss, 1), "status": first["status"],
                      "created": created, "errors": len(first["errors"])},
            "nochange": {"wall_s": round(wall2, 2), "cpu_s": round(cpu2, 2), "rss_mb": round(rss2, 1), "status": again["status"],
                         "requests": requests_made, "sign_in_requests": sign_in, "graph_requests": requests_made - sign_in},
            "baseline": {"wall_s": round(b_wall, 2), "cpu_s": round(b_cpu, 2), "users": b_count,
                         "nochange_wall_s": round(b2_wall, 3), "nochange_cpu_s": round(b2_cpu, 3)},
        })
        if not args.no_sdk and organisations == 1 and people <= args.sdk_max:
            count, s_wall, s_cpu, s_rss = sdk_pull(graph_urls[0], base, ca_file)
            result["sdk"] = {"wall_s": round(s_wall, 2), "cpu_s": round(s_cpu, 2), "rss_mb": round(s_rss, 1), "users": count}
    return result


def show(result: dict[str, Any]) -> None:
    first, again, baseline = result["first"], result["nochange"], result["baseline"]
    sdk = result.get("sdk")
    ratio = first["cpu_s"] / baseline["cpu_s"] if baseline["cpu_s"] else float("nan")
    print(f"{result['store']:>8} {result['case']:>8} first sync: {first['wall_s']:7.1f} s wall, {first['cpu_s']:7.1f} CPU-s, "
          f"{first['rss_mb']:6.1f} MB | baseline {baseline['wall_s']:6.1f} s, {baseline['cpu_s']:6.2f} CPU-s | "
          f"x{ratio:.1f} baseline" + (f" | sdk {sdk['wall_s']:6.1f} s, {sdk['cpu_s']:6.1f} CPU-s, {sdk['rss_mb']:.0f} MB: "
                                    f"connector x{first['cpu_s'] / sdk['cpu_s']:.2f} of the sdk" if sdk else ""))
    print(f"{'':>8} {'':>8} no change:  {again['wall_s']:7.1f} s wall, {again['cpu_s']:7.1f} CPU-s, {again['rss_mb']:6.1f} MB, "
          f"{again['requests']} requests ({again['sign_in_requests']} sign-in, {again['graph_requests']} Graph) | baseline {baseline['nochange_cpu_s']:.3f} CPU-s")
    print(json.dumps(result), flush=True)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--sdk-child":
        sdk_child(*sys.argv[2:5])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, nargs="*", default=[10_000, 50_000, 100_000])
    parser.add_argument("--store", nargs="*", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--rounds", type=int, default=1, help="run every case this many times, one after the other (default 1)")
    parser.add_argument("--network", default=None, help="ORGANISATIONSxPEOPLE, e.g. 200x500: the many-tenants case")
    parser.add_argument("--concurrency", type=int, default=4, help="[sync] concurrency in the generated config")
    parser.add_argument("--profile", default=None, help="a folder: run the connector under cProfile, a .prof per case and sync (first, no change)")
    parser.add_argument("--no-sdk", action="store_true", help="do not run msgraph-sdk (the peer) at all")
    parser.add_argument("--sdk-max", type=int, default=10_000,
                        help="run msgraph-sdk only up to this many users (it needs about 10 CPU-ms per user: 100,000 take a quarter of an hour)")
    parser.add_argument("--connector-root", default=None, help="run the connector of this checkout (a git worktree of an older commit)")
    args = parser.parse_args()
    if args.connector_root:
        global CONNECTOR_ROOT
        CONNECTOR_ROOT = Path(args.connector_root).resolve()
    import urllib3

    urllib3.disable_warnings()
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
    cases = [(1, n) for n in args.people] if args.network is None else [tuple(int(p) for p in args.network.split("x"))]
    for _ in range(args.rounds):
        for organisations, people in cases:
            for store in args.store:
                show(case(organisations, people, store, args))


if __name__ == "__main__":
    main()
