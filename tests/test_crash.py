"""Crashes and lost answers, against the real CLI in a process of its own (issue 21).

Each case kills a sync with SIGKILL at the n-th point of one kind (ST_TEST_KILL_AT, the
test-only hook in connector/plumbing/killpoint.py: `file`, `send`, `write`, `commit`, `ddl`),
runs it again, and checks that every target holds exactly one copy of everything and that a
third run writes nothing. A case whose kill point is never reached fails: the sample must
follow the code. By default each matrix runs a sample of its points;
`ST_TEST_KILL_MATRIX=full` runs every point, until a run gets through without reaching the
next one.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from connector.engine.sync import run_sync
from connector.plumbing.killpoint import VARIABLE
from connector.store.db import migrate, open_engine, session_factory
from connector.store.tables import Base, OutboxItem, SyncRun
from tests.conftest import KILL_MATRIX_FULL, REPO, Network, _postgres_schema_url, shared_between_stores
from tests.fakes.bamboohr_server import API_KEY
from tests.fakes.faults import refuse
from tests.fakes.graph_server import CLIENT_SECRET
from tests.fakes.loopback import Answer
from tests.fakes.smtp_server import PASSWORD, FakeSmtp
from tests.test_bamboohr import STIJN, brouwers_peeters_in_bamboohr, ours, use_bamboohr
from tests.test_imip import invite_by_mail
from tests.test_msgraph_e2e import groenkracht_in_graph, invite_through_outlook, live_events

pytestmark = pytest.mark.slow

FULL = KILL_MATRIX_FULL
AS_OF = ("--as-of", "2026-11-22")
KILLED = -signal.SIGKILL


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connector.cli", *args], capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})}, cwd=REPO)


def sync(network: Network, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    return cli("sync", "--config", str(network.config_path), *AS_OF, "--json", env={VARIABLE: kill_at} if kill_at else None)


def points(sample: Iterable[int]) -> Iterator[int]:
    return itertools.count(1) if FULL else iter(sample)


def kill_matrix(cases: dict[str, list[int]], fresh: Callable[[], Network], check: Callable[[Network], None], store: str) -> int:
    """For each kind and point: a fresh network, a sync killed there, a sync to the end, and
    `check`; then a last sync that must write nothing (after every point in the full matrix,
    after the first one in the sample). By default the sample's points are shared between the
    two stores (conftest.shared_between_stores; `store` is the one `fresh` makes networks on).
    Returns how many kills were run."""
    kills = 0
    mine = None if FULL else set(shared_between_stores([(kind, point) for kind, sample in cases.items() for point in sample], store))
    for kind, sample in cases.items():
        for point in points(sample):
            if mine is not None and (kind, point) not in mine:
                continue
            network = fresh()
            killed = sync(network, f"{kind}:{point}")
            if killed.returncode != KILLED:
                assert FULL and killed.returncode == 0, f"{kind}:{point} was not reached (exit {killed.returncode}): {killed.stderr[-2000:]}"
                break
            kills += 1
            finished = sync(network)
            assert finished.returncode == 0, f"after a kill at {kind}:{point}: {finished.stdout[-3000:]}{finished.stderr[-3000:]}"
            check(network)
            if FULL or kills == 1:
                again = json.loads(sync(network).stdout)
                assert sum(again["invites"].values()) == again["training_records"]["written"] == again["leerbewijzen"]["issued"] == 0, again
    assert kills
    return kills


@dataclass
class Networks:
    """Makes fresh example networks, each with a store of its own on `store` ("sqlite" or "postgres")."""

    store: str
    make: Callable[[], Network]

    def __call__(self) -> Network:
        return self.make()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def networks(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Networks]:
    """Fresh example networks, each with a store of its own: a SQLite file, or a new schema of
    the PostgreSQL test database (dropped afterwards)."""
    schemas: list[Iterator[str]] = []

    def fresh() -> Network:
        folder = tmp_path_factory.mktemp("network")
        if request.param == "sqlite":
            return Network(folder, f"sqlite:///{folder / 'state' / 'connector.db'}")
        schema = _postgres_schema_url()
        schemas.append(schema)
        return Network(folder, next(schema))

    yield Networks(request.param, fresh)
    for schema in schemas:
        next(schema, None)  # drops it


# -- files: outputs and signing keys written, deliveries booked ----------------------------

def test_a_kill_at_any_file_or_commit_leaves_outputs_the_next_run_completes(networks):
    clean = networks()
    assert sync(clean).returncode == 0
    expected = clean.output_hashes()

    def same_outputs_and_the_dead_run_closed(network: Network) -> None:
        assert network.output_hashes() == expected
        closed = runs(network.store_url)  # the killed run (if it got as far as starting one) was closed as killed
        assert all(ended and status != "running" for status, ended in closed) and closed[-1][0] == "ok", closed

    kill_matrix({"file": [1, 29], "commit": [3]}, networks, same_outputs_and_the_dead_run_closed, networks.store)


def runs(store_url: str) -> list[tuple[str, bool]]:
    """Each sync run's status, and whether it has an end time, oldest first."""
    engine = open_engine(store_url)
    with session_factory(engine)() as db:
        found = [(run.status, run.finished_at is not None) for run in db.scalars(select(SyncRun).order_by(SyncRun.id))]
    engine.dispose()
    return found


# -- e-mail: a kill right after the server accepted a message ------------------------------

def test_a_kill_after_any_smtp_send_repeats_at_most_that_message(networks, monkeypatch):
    monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", PASSWORD)
    server = FakeSmtp().start()
    try:
        def fresh() -> Network:
            server.received.clear()
            return invite_by_mail(networks(), server)

        def one_each(network: Network) -> None:
            ids = [email.message_from_bytes(r.data, policy=email.policy.default)["Message-ID"] for r in server.received]
            # 17 for the exchanges, 12 for the cohort's kick-off and terugkommoment (6 people by e-mail, twice), the
            # terugkommoment to Wim (a switcher's line manager) and the note to Nathalie's manager Amélie
            assert len(set(ids)) == 31 and len(ids) - len(set(ids)) <= 1, f"{len(ids)} messages for 31 messages to send"

        kill_matrix({"send": [2, 17]}, fresh, one_each, networks.store)
    finally:
        server.stop()


# -- Microsoft Graph: a kill after the $batch of creations, or between bookings ------------

def test_a_kill_after_the_graph_batch_leaves_one_event_per_session(networks, monkeypatch):
    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", CLIENT_SECRET)
    fakes = []

    def fresh() -> Network:
        fakes.append(groenkracht_in_graph())
        return invite_through_outlook(networks(), fakes[-1])

    try:
        kill_matrix({"write": [1]}, fresh, lambda network: _one_event_each(fakes[-1]), networks.store)
    finally:
        for fake in fakes:
            fake.stop()


def _one_event_each(fake) -> None:  # type: ignore[no-untyped-def]
    assert len(live_events(fake)) == 19  # live_events asserts one event per key (17 + the 2 group moments)


# -- BambooHR: a kill after a training record or the leerbewijs file was added -------------

def test_a_kill_after_any_bamboohr_write_adds_nothing_twice(networks, monkeypatch):
    monkeypatch.setenv("ST_TEST_BAMBOOHR_KEY", API_KEY)
    fakes = []

    def fresh() -> Network:
        network = networks()
        fakes.append(brouwers_peeters_in_bamboohr(network))
        return use_bamboohr(network, fakes[-1])

    def once(network: Network) -> None:
        assert len(ours(fakes[-1])) == 2 and len(fakes[-1].files[STIJN]) == 2  # the PDF and its EDC

    try:
        kill_matrix({"write": [1, 3, 4]}, fresh, once, networks.store)  # after the first training record; after the leerbewijs file; after its EDC
    finally:
        for fake in fakes:
            fake.stop()


def test_a_kill_between_a_retraction_and_its_booking_neither_loses_nor_doubles_it(networks, monkeypatch):
    """Issue 16: Stijn's second exchange day, written to the ledger and BambooHR, turns absent.
    The sync that takes it back is killed right after the BambooHR DELETE and right after the
    voided ledger file, each before its booking; the next run finishes: one voided row, the record
    gone once, the other day kept, one corrected leerbewijs (`ST_TEST_KILL_MATRIX=full`: every point)."""
    monkeypatch.setenv("ST_TEST_BAMBOOHR_KEY", API_KEY)
    fakes = []
    day = "S-03-D2;EX-03;uitwisselingsdag;26/10/2026;08:00;15:30;ter plaatse;;7;"

    def fresh() -> Network:
        network = networks()
        fakes.append(brouwers_peeters_in_bamboohr(network))
        use_bamboohr(network, fakes[-1])
        assert sync(network).returncode == 0
        network.edit_csv("cohort/sessies.csv", day, day + "afwezig")  # the day turns absent after it was written
        return network

    def retracted_once(network: Network) -> None:
        assert [r["completed"] for r in ours(fakes[-1])] == ["2026-10-23"]
        ledger = (network.out / "ledgers" / "brouwers-peeters" / "training-ledger.csv").read_text(encoding="utf-8-sig")
        rows = [line for line in ledger.splitlines() if line.startswith("exchange:S-03-")]
        assert len(rows) == 2 and rows[1].endswith(";voided;afwezig gemeld") and ";recorded;" in rows[0], rows
        assert len(fakes[-1].files[STIJN]) == 4  # the revoked leerbewijs and its corrected one, each once with its EDC
        engine = open_engine(network.store_url)
        with session_factory(engine)() as db:
            retractions = db.scalars(select(OutboxItem).where(OutboxItem.action == "retract")).all()
            assert sorted((r.target, r.status) for r in retractions) == [("brouwers-peeters/bamboohr", "done"),
                                                                          ("brouwers-peeters/ledger_files", "done")]
        engine.dispose()

    try:
        # BambooHR first (the corrected leerbewijs and its EDC uploaded, the kept day's PUT, then the DELETE: write 4), then
        # the ledger (files 1-4 are the witness and the status list, written before delivery; 5 the voided CSV)
        kill_matrix({"write": [4], "file": [5]}, fresh, retracted_once, networks.store)
    finally:
        for fake in fakes:
            fake.stop()


# -- the store: a kill at any schema statement, on SQLite and PostgreSQL -------------------

@contextlib.contextmanager
def empty_store(dialect: str, folder: Path) -> Iterator[str]:
    if dialect == "sqlite":
        yield f"sqlite:///{folder / 'connector.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.mark.parametrize("dialect", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_kill_at_any_schema_statement_leaves_a_store_the_next_run_migrates(dialect, tmp_path_factory):
    kills = 0
    for point in points(shared_between_stores([1, 2, 9, 20], dialect)):
        with empty_store(dialect, tmp_path_factory.mktemp("store")) as url:
            killed = subprocess.run([sys.executable, "-c", f"from connector.store.db import migrate, open_engine; migrate(open_engine({url!r}))"],
                                    cwd=REPO, env={**os.environ, VARIABLE: f"ddl:{point}"}, capture_output=True, text=True, timeout=60)
            if killed.returncode != KILLED:
                assert FULL and killed.returncode == 0, f"ddl:{point} not reached: {killed.stderr[-2000:]}"
                break
            kills += 1
            engine = open_engine(url)
            try:
                migrate(engine)  # the next run: no "table ... already exists"
                assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
            finally:
                engine.dispose()
    assert kills


def test_a_first_sync_killed_during_schema_creation_is_finished_by_the_next(networks):
    network = networks()
    assert sync(network, "ddl:9").returncode == KILLED
    finished = sync(network)
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["invites"]["created"] == 19  # 17 + the 2 group moments


def test_two_first_syncs_started_together_one_runs_the_other_says_so(store_url, tmp_path):
    network = Network(tmp_path, store_url)
    command = [sys.executable, "-m", "connector.cli", "sync", "--config", str(network.config_path), *AS_OF, "-q"]
    both = [subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = sorted((process.wait(timeout=120), process.stderr.read()) for process in both)  # type: ignore[union-attr]
    for process in both:
        process.stdout.close()  # type: ignore[union-attr]
        process.stderr.close()  # type: ignore[union-attr]
    assert [code for code, _ in results] == [0, 3], results
    assert "another sync is running" in results[1][1] and "Traceback" not in results[1][1]
    assert len(list((tmp_path / "keys").glob("*.credential.pem"))) == 1  # one key generation, made once


# -- a run that died is closed as killed (the file matrix above kills one for real) ---------

def test_a_run_left_running_by_a_dead_process_is_closed_as_killed(store_url, tmp_path):
    network = Network(tmp_path, store_url)
    engine = open_engine(store_url)
    migrate(engine)
    with session_factory(engine).begin() as db:  # what a process killed during its sync leaves behind
        db.add(SyncRun(started_at=datetime.now(UTC), as_of=datetime.now(UTC), status="running"))
    engine.dispose()
    assert run_sync(network.config(), datetime(2026, 11, 22, tzinfo=UTC)).status == "ok"
    assert runs(store_url) == [("killed", True), ("ok", True)]


# -- stopping on time ----------------------------------------------------------------------

def test_sigterm_during_a_120_s_retry_after_stops_within_5_s_and_loses_nothing(networks, monkeypatch):
    monkeypatch.setenv("ST_TEST_BAMBOOHR_KEY", API_KEY)
    network = networks()
    bamboo = brouwers_peeters_in_bamboohr(network)
    try:
        use_bamboohr(network, bamboo)
        throttled = refuse(bamboo, "POST", r"/training/record/employee/\d+$",
                           lambda: Answer(429, {"error": "Too Many Requests"}, {"Retry-After": "120"}))
        process = subprocess.Popen([sys.executable, "-m", "connector.cli", "sync", "--config", str(network.config_path), *AS_OF, "--json"],
                                   cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not throttled and time.monotonic() < deadline:
            time.sleep(0.05)
        assert throttled, "the write-back was never throttled"
        time.sleep(0.5)  # well into the wait
        process.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        stdout, stderr = process.communicate(timeout=60)
        assert time.monotonic() - asked < 5, "SIGTERM was not answered within 5 s"
        assert process.returncode == 1 and json.loads(stdout)["status"] == "partial", stderr
        engine = open_engine(network.store_url)
        with session_factory(engine)() as db:
            waiting = db.scalars(select(OutboxItem).where(OutboxItem.target == "brouwers-peeters/bamboohr",
                                                          OutboxItem.status == "pending")).all()
        engine.dispose()
        assert waiting, "the interrupted write-back must stay in the outbox"
        assert sync(network).returncode == 0
        assert len(ours(bamboo)) == 2 and len(bamboo.files[STIJN]) == 2  # the PDF and its EDC
    finally:
        bamboo.stop()
