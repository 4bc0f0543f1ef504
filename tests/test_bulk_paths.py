"""The bulk paths of a sync at scale (issue 18) do what the record-by-record paths did.

- Pull stores chunks with one INSERT ... ON CONFLICT: the store ends up as the old way (one
  ORM object per record, kept here as the reference) leaves it, round after round, on SQLite
  and PostgreSQL.
- A record delivered again with the same raw content is not mapped again, but one changed
  field, a changed mapping, or a record that was removed, is.
- The mapping rules compiled once map as the interpreted rules do.
- Sources read ahead in threads: never more than `[sync] concurrency` at once, stored in the
  configured order, and a source that fails does not stop the others.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from connector.core.errors import Problem, RecordError, SourceUnavailable
from connector.core.mapping import FieldRule, _evaluate, compile_rule, load_mapping
from connector.engine.prefetch import Prefetcher
from connector.engine.pull import jsonable, pull_entity
from connector.engine.sync import run_sync
from connector.sources import Pull, RemoteRecord
from connector.store.db import migrate, open_engine, session_factory
from connector.store.outbox import content_hash
from connector.store.tables import Organisation, SourceRecord, SyncRun

MAPPING = """
[people]
id = "employee_number"

[people.fields]
employee_number = "Nr"
first_name = { from = "Voornaam", transform = ["trim"], required = true }
last_name = { from = "Naam", transform = ["trim"], required = true }
email = { from = "Mail", transform = ["trim", "lower"] }
start_date = { from = "Start", date = "%d/%m/%Y" }
fte = { from = "FTE", type = "decimal" }
"""


class Listed:
    """A source that lists the records it is given (a complete export, like a file)."""

    merges_raw = False

    def __init__(self, records: list[RemoteRecord], complete: bool = True) -> None:
        self.records, self.complete = records, complete

    def pull(self, entity: Any, cursor: str | None) -> Pull:
        return Pull(records=iter(self.records), complete=self.complete)


def person(number: str, first: str = "An", row: int = 2, **extra: Any) -> RemoteRecord:
    raw = {"Nr": number, "Voornaam": first, "Naam": "Peeters", "Mail": f" {number}@Firma.be", "Start": "01/02/2020", "FTE": "0,8", **extra}
    return RemoteRecord(raw=raw, location=f"medewerkers.csv row {row}")


ROUNDS = [
    # first pull: two good people, a bad date, a duplicate, an unidentifiable row
    [person("E1"), person("E2", row=3), person("E3", row=4, Start="31/02/2020"), person("E1", "Bis", row=5), person("", row=6)],
    # nothing changed, one moved down a row (its location changes, nothing else)
    [person("E1"), person("E2", row=4), person("E3", row=5, Start="31/02/2020")],
    # E2's first name changes; E3 is fixed; E1 drops out (removed after a complete pull)
    [person("E2", "Bea", row=2), person("E3", row=3)],
    # E1 comes back unchanged: taken in again though its raw content is what was stored
    [person("E1"), person("E2", "Bea", row=3), person("E3", row=4)],
    # duplicates after a bad version and after a good one, each first seen a chunk earlier when chunks are small
    [person("E2", row=2, Start="31/02/2020"), person("E1", row=3), person("E2", "Bea", row=4), person("E1", "Bis", row=5),
     person("E3", row=6)],
]


class ReferenceChunk:
    """What pull stored before issue 18: one ORM object per record, mapping applied twice."""

    def __init__(self, db: Any, run_id: int, key: str, mapping: Any, problems: list[Problem], counts: Counter[str]) -> None:
        self.db, self.run_id, self.key, self.mapping, self.problems, self.counts = db, run_id, key, mapping, problems, counts
        self.seen: dict[str, str] = {}

    def problem(self, location: str, field: str, message: str) -> None:
        self.counts["failed"] += 1
        self.problems.append(Problem(self.key, "people", location, field, message))

    def take(self, records: list[RemoteRecord]) -> None:
        identified = []
        for record in records:
            try:
                identified.append((record, self.mapping.remote_id(self.mapping.apply(record.raw, only=self.mapping.id_field_names))))
            except RecordError as error:
                self.problem(record.location, error.field, error.message)
                identified.append((record, None))
        existing = {row.remote_id: row for row in self.db.scalars(select(SourceRecord).where(SourceRecord.source == self.key))}
        for record, remote_id in identified:
            if remote_id is None:
                continue
            try:
                data = self.mapping.validate(self.mapping.apply(record.raw))
            except RecordError as error:
                self.seen.setdefault(remote_id, record.location)
                self.problem(record.location, error.field, error.message)
                continue
            if remote_id in self.seen:
                self.problem(record.location, "employee_number", f"'{remote_id}' appears twice (first at {self.seen[remote_id]}); the first one is kept")
                continue
            self.seen[remote_id] = record.location
            row, digest = existing.get(remote_id), content_hash(data)
            if row is None:
                row = SourceRecord(source=self.key, entity="people", remote_id=remote_id, organisation_id="firma")
                self.db.add(row)
                existing[remote_id] = row
                self.counts["created"] += 1
            elif row.data_hash != digest or row.deleted:
                self.counts["updated"] += 1
            else:
                self.counts["unchanged"] += 1
                row.location = record.location
                continue
            row.data, row.raw, row.data_hash = data, json.loads(json.dumps(jsonable(record.raw))), digest
            row.location, row.deleted, row.changed_run = record.location, False, self.run_id

    def finish(self) -> None:
        for row in self.db.scalars(select(SourceRecord).where(SourceRecord.source == self.key, SourceRecord.deleted.is_(False))):
            if row.remote_id not in self.seen:
                row.deleted, row.changed_run = True, self.run_id
                self.counts["removed"] += 1


def open_store(url: str) -> Any:
    engine = open_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    with factory.begin() as db:
        db.add(Organisation(id="firma", name="Firma"))
    return engine, factory


def stored(factory: Any) -> list[tuple[Any, ...]]:
    with factory() as db:
        return sorted((r.remote_id, r.organisation_id, json.dumps(r.data, sort_keys=True), json.dumps(r.raw), r.data_hash, r.location,
                       r.deleted, r.changed_run) for r in db.scalars(select(SourceRecord)))


def new_run(db: Any) -> int:
    run = SyncRun(started_at=datetime.now(ZoneInfo("UTC")), as_of=datetime.now(ZoneInfo("UTC")), dry_run=False, status="running")
    db.add(run)
    db.flush()
    return run.id


@pytest.fixture
def mapping(tmp_path: Path) -> Any:
    (tmp_path / "firma.toml").write_text(MAPPING, encoding="utf-8")
    return load_mapping("firma", tmp_path).entity("people")


@pytest.mark.parametrize("size", [500, 2])
def test_chunked_upsert_stores_what_one_orm_object_per_record_stored(store_url: str, mapping: Any, tmp_path: Path, size: int,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Also in chunks of two: what a pull has seen is kept in the store between chunks (the
    first place of a duplicate, who is absent from a complete pull), not in the chunk."""
    monkeypatch.setattr("connector.engine.pull.CHUNK", size)
    engine, factory = open_store(store_url)
    reference_engine, reference = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        for records in ROUNDS:
            problems: list[Problem] = []
            with factory.begin() as db:
                counts = pull_entity(db, new_run(db), "firma/hr", Listed(records), mapping, "firma", problems)  # type: ignore[arg-type]
            expected_problems: list[Problem] = []
            expected: Counter[str] = Counter({k: 0 for k in counts})
            with reference.begin() as db:
                chunk = ReferenceChunk(db, new_run(db), "firma/hr", mapping, expected_problems, expected)
                chunk.take(records)
                db.flush()
                chunk.finish()
            assert counts == expected
            # Chunk by chunk, a later chunk's unidentifiable rows come after an earlier chunk's other problems.
            assert problems == expected_problems if size >= len(records) else sorted(map(repr, problems)) == sorted(map(repr, expected_problems))
            assert stored(factory) == stored(reference)
    finally:
        engine.dispose()
        reference_engine.dispose()


def test_an_unchanged_raw_record_is_not_mapped_again_but_a_changed_field_is(store_url: str, mapping: Any, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    engine, factory = open_store(store_url)
    validated: list[str] = []
    original = type(mapping).validate

    def counting(self: Any, mapped: dict[str, Any]) -> dict[str, Any]:
        validated.append(mapped["employee_number"])
        return original(self, mapped)

    monkeypatch.setattr(type(mapping), "validate", counting)

    def pull(records: list[RemoteRecord], reader: Any = mapping) -> Counter[str]:
        with factory.begin() as db:
            return pull_entity(db, new_run(db), "firma/hr", Listed(records), reader, "firma", [])  # type: ignore[arg-type]

    try:
        assert pull([person("E1"), person("E2", row=3)])["created"] == 2
        validated.clear()
        again = pull([person("E1"), person("E2", row=3)])
        assert (again["unchanged"], validated) == (2, [])  # neither mapped nor validated
        changed = pull([person("E1"), person("E2", row=3, FTE="0,5")])
        assert (changed["updated"], changed["unchanged"], validated) == (1, 1, ["E2"])
        with factory() as db:
            assert db.scalar(select(SourceRecord.data).where(SourceRecord.remote_id == "E2"))["fte"] == 0.5
        # The same raw content read by another mapping is read again: the reader is part of the hash.
        (tmp_path / "other.toml").write_text(MAPPING.replace('last_name = { from = "Naam"', 'last_name = { from = "Voornaam"'), encoding="utf-8")
        validated.clear()
        reread = pull([person("E1"), person("E2", row=3, FTE="0,5")], load_mapping("other", tmp_path).entity("people"))
        assert (reread["updated"], sorted(validated)) == (2, ["E1", "E2"])
        with factory() as db:
            assert db.scalar(select(SourceRecord.data).where(SourceRecord.remote_id == "E1"))["last_name"] == "An"
    finally:
        engine.dispose()


rules = st.builds(
    FieldRule,
    name=st.just("department"),
    paths=st.sampled_from([("A",), ("A", "B"), ("n.x",), ("l.0",), ()]),
    join=st.sampled_from([(), ("A", "B")]),
    constant=st.sampled_from([None, "vast", " "]),
    transforms=st.sampled_from([(), ("trim",), ("trim", "lower"), ("collapse_spaces", "upper")]),
    split=st.sampled_from([None, (" ", "first"), (",", "rest")]),
    lookup=st.sampled_from([None, {"a": "x", "B": "y"}, {"a": "x", "*": "z"}]),
    date_formats=st.sampled_from([(), ("%d/%m/%Y",), ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d")]),
    type=st.sampled_from([None, "decimal", "bool", "list", "str"]),
    default=st.sampled_from([None, "standaard"]),
)
values = st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["a", " B ", "1,5", "ja", "03/04/2021", "a, b", "", "2021-04-03",
                                                                   "2021-4-3", "2021-04-03T10:00:00Z", "20210403", " 2021-04-03 "]),
                   st.integers(-3, 3), st.booleans(), st.just(date(2021, 4, 3)))


@settings(max_examples=400, deadline=None)
@given(rule=rules, a=values, b=values, nested=values)
def test_a_compiled_rule_maps_as_the_interpreted_rule(rule: FieldRule, a: Any, b: Any, nested: Any) -> None:
    raw = {"A": a, "B": b, "n": {"x": nested}, "l": [nested]}

    def outcome(evaluate: Any) -> tuple[str, Any]:
        try:
            return "value", evaluate(raw)
        except (ValueError, TypeError, KeyError) as error:
            return type(error).__name__, str(error)

    assert outcome(compile_rule(rule)) == outcome(lambda r: _evaluate(rule, r))


# -- reading ahead ---------------------------------------------------------------------------

class Gated:
    """A source whose pull waits until the test opens its gate, and says when it started."""

    def __init__(self, name: str, tracker: dict[str, Any], fails: bool = False) -> None:
        self.name, self.tracker, self.fails = name, tracker, fails
        self.gate = threading.Event()

    def pull(self) -> Pull:
        with self.tracker["lock"]:
            self.tracker["active"] += 1
            self.tracker["most"] = max(self.tracker["most"], self.tracker["active"])
            self.tracker["started"].append(self.name)
            self.tracker["changed"].notify_all()
        assert self.gate.wait(timeout=60)
        with self.tracker["lock"]:
            self.tracker["active"] -= 1
        if self.fails:
            raise SourceUnavailable(f"{self.name} is down")
        return Pull(records=iter([RemoteRecord(raw={"n": f"{self.name}-{i}"}, location=str(i)) for i in range(3)]))


def test_sources_are_read_at_most_concurrency_at_a_time_and_taken_in_order() -> None:
    lock = threading.Lock()
    tracker: dict[str, Any] = {"lock": lock, "changed": threading.Condition(lock), "active": 0, "most": 0, "started": []}
    sources = [Gated(f"s{i}", tracker, fails=(i == 1)) for i in range(5)]
    prefetcher = Prefetcher(concurrency=2, chunk=2)
    try:
        started = [prefetcher.add(source.pull) for source in sources]
        with tracker["changed"]:
            assert tracker["changed"].wait_for(lambda: len(tracker["started"]) == 2, timeout=60)
            assert tracker["started"] == ["s0", "s1"]  # the others wait for a free thread
        for source in sources:
            source.gate.set()
        taken: list[str] = []
        for source, prefetched in zip(sources, started, strict=True):
            try:
                _, chunks = prefetched.open()
                taken.extend(record.raw["n"] for chunk in chunks for record in chunk)
            except SourceUnavailable as error:  # handed over where the run reads it, as if read in its own thread
                taken.append(str(error))
    finally:
        prefetcher.close()
    assert tracker["most"] == 2
    assert taken == ["s0-0", "s0-1", "s0-2", "s1 is down", *(f"s{i}-{j}" for i in (2, 3, 4) for j in range(3))]


def test_a_source_read_to_its_end_holds_its_thread_until_the_run_has_taken_it() -> None:
    """Many small sources (a network of small tenants) are not all read ahead of the run:
    a thread reads the next source only when the run is done with the one it read."""
    lock = threading.Lock()
    tracker: dict[str, Any] = {"lock": lock, "changed": threading.Condition(lock), "active": 0, "most": 0, "started": []}
    sources = [Gated(f"s{i}", tracker) for i in range(4)]
    for source in sources:
        source.gate.set()
    prefetcher = Prefetcher(concurrency=2, chunk=2)
    try:
        started = [prefetcher.add(source.pull) for source in sources]
        for _ in range(600):  # until s0 and s1 are read to their end: the pull, two chunks, the end
            if all(prefetched._queue.full() for prefetched in started[:2]):
                break
            time.sleep(0.1)
        assert all(prefetched._queue.full() for prefetched in started[:2])
        assert tracker["started"] == ["s0", "s1"]
        _, chunks = started[0].open()
        assert [record.raw["n"] for chunk in chunks for record in chunk] == ["s0-0", "s0-1", "s0-2"]
        with tracker["changed"]:
            assert tracker["changed"].wait_for(lambda: len(tracker["started"]) == 3, timeout=60)
        started[1].done()  # given up on (a source refused before its records were taken)
        with tracker["changed"]:
            assert tracker["changed"].wait_for(lambda: len(tracker["started"]) == 4, timeout=60)
    finally:
        prefetcher.close()


def test_a_failing_organisation_does_not_stop_the_others_read_concurrently(network: Any) -> None:
    network.replace("concurrency = 4", "concurrency = 3")
    config = network.config()
    assert config.sync.concurrency == 3
    broken = next(o for o in config.organisations if o.sources and "people" in o.sources[0].entities)
    folder = network.root / str(broken.sources[0].options["path"])
    for export in folder.iterdir():
        export.unlink()  # the export is gone: this source cannot be read
    summary = run_sync(config, datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels")))
    unreadable = [p for p in summary.errors if p.record == "(source)" and p.source.startswith(f"{broken.id}/")]
    assert unreadable, summary.errors
    others = [o.id for o in config.organisations if o.id != broken.id and any("people" in s.entities for s in o.sources)]
    assert others
    for organisation in others:
        assert network.people(organisation), organisation  # read and stored although another organisation failed


@pytest.mark.postgres
def test_postgres_statistics_follow_a_table_filled_inside_the_transaction(postgres_url: str) -> None:
    """Inside a sync's one transaction PostgreSQL would keep planning source_records as empty."""
    from sqlalchemy import insert, text

    from connector.store.bulk import FIRST_ANALYZE, wrote

    engine, factory = open_store(postgres_url)
    try:
        with factory.begin() as db:
            run_id = new_run(db)
            rows = [{"source": "firma/hr", "entity": "people", "remote_id": f"E{n}", "organisation_id": "firma", "data": {},
                     "raw": {}, "data_hash": "", "deleted": False, "changed_run": run_id} for n in range(FIRST_ANALYZE)]
            db.execute(insert(SourceRecord.__table__), rows[:-1])
            wrote(db, SourceRecord.__table__, FIRST_ANALYZE - 1)
            estimate = "SELECT reltuples FROM pg_class WHERE oid = 'source_records'::regclass"
            assert db.scalar(text(estimate)) <= 0  # not yet: never analyzed
            db.execute(insert(SourceRecord.__table__), rows[-1:])
            wrote(db, SourceRecord.__table__, 1)
            assert db.scalar(text(estimate)) == FIRST_ANALYZE  # the rows this transaction wrote, counted
            plan = "\n".join(db.scalars(text("EXPLAIN SELECT id FROM source_records WHERE source = 'firma/hr' AND entity = 'people' "
                                             "AND remote_id IN ('E1', 'E2', 'E3')")))
            assert "remote_id" in plan.split("Index Cond", 1)[-1].split("\n")[0], plan  # the ids are looked up in the index
    finally:
        engine.dispose()
