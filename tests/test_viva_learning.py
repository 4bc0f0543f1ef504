"""The Viva Learning sink against its Graph endpoints on loopback: one content item per
learning place, one completed course activity per exchange, found again instead of created twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connector.core.config import load_config
from connector.plumbing.http import HttpClient
from connector.plumbing.runtime import Runtime
from connector.sinks import SinkContext
from connector.sinks.viva_learning import VivaLearning
from connector.store.tables import OutboxItem
from tests.fakes.viva_server import PROVIDER, FakeViva


@pytest.fixture
def viva():
    fake = FakeViva().start()
    yield fake
    fake.stop()


@pytest.fixture
def sink(sqlite_network, viva, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    runtime = Runtime(load_config(sqlite_network.config_path), datetime(2026, 11, 22, tzinfo=UTC))
    client = HttpClient("msgraph:groenkracht", viva.url, stats=runtime.stats)
    monkeypatch.setattr("connector.sinks.viva_learning.graph_client", lambda runtime, tenant: client)
    context = SinkContext(config=runtime.config, output_dir=sqlite_network.out, now=runtime.now, runtime=runtime)
    return VivaLearning("groenkracht/viva_learning", {"tenant": "groenkracht", "provider_id": PROVIDER,
                                                      "employees_from": "m365"}, context)


BABY = {"code": "LP-ZON-BABY", "name": "Leefgroep baby's", "description": "Dagritme, onthaal van nieuwe collega's"}


def day(date: str, employee_id: str | None = "a1b2c3d4-0000-4000-8000-000000000104", uncertain: bool = False) -> OutboxItem:
    payload = {"record_id": f"exchange:S-02-{date}", "first_name": "Marieke", "last_name": "Janssens", "date": date,
               "hours": 7.0, "title": "Leeruitwisseling Switching Talent bij Kinderdagverblijf 't Zonneke vzw",
               "provider": "Kinderdagverblijf 't Zonneke vzw", "exchange": "EX-02", "employee_id": employee_id,
               "learning_place": BABY}
    return OutboxItem(id=hash(date) % 10_000, object_id=payload["record_id"], object_type="training_record", payload=payload,
                      sequence=0, uncertain=uncertain)


def test_one_completed_activity_per_exchange_found_again_not_doubled(sink, viva):
    outcomes = sink.deliver([day("2026-03-27"), day("2026-03-30")], {})
    assert all(o.ok for o in outcomes), outcomes
    [activity] = viva.activities.values()
    assert activity["status"] == "completed" and activity["completionPercentage"] == 100
    assert activity["learnerUserId"] == "a1b2c3d4-0000-4000-8000-000000000104"
    assert activity["externalcourseActivityId"] == "leren-switchen-EX-02"  # finding 6: the metadata's spelling
    assert activity["completedDateTime"] == "2026-03-30T17:00:00Z"  # the last day so far
    assert activity["@odata.type"] == "#microsoft.graph.learningSelfInitiatedCourse" and "hours" not in str(activity).lower()
    [content] = viva.contents.values()
    assert content["externalId"] == "leren-switchen-lp-zon-baby" and activity["learningContentId"] == content["id"]
    assert content["title"] == "Leefgroep baby's (Kinderdagverblijf 't Zonneke vzw)" and content["description"] == BABY["description"]
    again = sink.deliver([day("2026-03-30", uncertain=True)], {})  # e.g. after a crash
    assert again[0].ok and len(viva.activities) == 1 and viva.requests["create"] == 1
    assert viva.requests["find"] == 3  # each delivery looked the activity up by its alternate key
    assert activity["status"] == "completed"


def test_faults_and_an_unknown_learner(sink, viva):
    viva.fail(1, 429, {"Retry-After": "1"})
    viva.fail(1, 503)
    outcomes = sink.deliver([day("2026-03-27"), day("2026-03-30", employee_id=None)], {})
    assert outcomes[0].ok and len(viva.activities) == 1
    assert not outcomes[1].ok and "Marieke Janssens (2026-03-30) is not (yet) known in Entra ID" in outcomes[1].error


def test_check_asks_for_the_provider_and_the_learners_source(sqlite_network):
    from connector.core.errors import ConfigError
    from connector.engine.sync import check

    sqlite_network.add_to_organisation("groenkracht", """
  [[organisations.writeback]]
  kind = "viva_learning"
  tenant = "nowhere"
""")
    with pytest.raises(ConfigError) as error:
        check(sqlite_network.config())
    text = "\n".join(error.value.problems)
    assert "no [[tenants]] named 'nowhere'" in text and "give `provider_id`" in text and "give `employees_from`" in text


def test_a_run_files_each_exchange_under_its_learning_place_once(sqlite_network, viva, monkeypatch):
    """Through the planner: only the Viva target's records carry the learning place (the
    ledger's payloads stay as they were), one content item per place, nothing twice."""
    from sqlalchemy import select

    from connector.engine.sync import run_sync
    from connector.store.db import open_engine, session_factory

    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", "unused: the client below is handed in")
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    sqlite_network.add_before_cohort("""[[tenants]]
name = "groenkracht"
tenant_id = "00000000-0000-0000-0000-000000000000"
client_id = "00000000-0000-0000-0000-000000000000"
client_secret = "${ST_TEST_GRAPH_SECRET}"
""")
    sqlite_network.add_to_organisation("groenkracht", f"""
  [[organisations.writeback]]
  kind = "viva_learning"
  tenant = "groenkracht"
  provider_id = "{PROVIDER}"
  employees_from = "payroll"
""")
    monkeypatch.setattr("connector.sinks.viva_learning.graph_client",
                        lambda runtime, tenant: HttpClient("msgraph:groenkracht", viva.url, stats=runtime.stats))
    moment = datetime(2028, 7, 1, tzinfo=UTC)  # both Groenkracht switchers' exchanges (EX-02, EX-06) are behind us
    first = run_sync(sqlite_network.config(), moment)
    assert first.status == "ok", first.errors
    assert sorted(c["externalId"] for c in viva.contents.values()) == ["leren-switchen-lp-bp-plan", "leren-switchen-lp-zon-baby"]
    by_learner = {a["learnerUserId"]: a for a in viva.activities.values()}
    assert sorted(by_learner) == ["G101", "G104"]  # the payroll source's ids stand in for Entra ids here
    contents = {c["id"]: c["externalId"] for c in viva.contents.values()}
    assert contents[by_learner["G104"]["learningContentId"]] == "leren-switchen-lp-zon-baby"
    engine = open_engine(sqlite_network.store_url)
    with session_factory(engine)() as db:
        payloads = {item.target: item.payload for item in db.scalars(select(OutboxItem).where(OutboxItem.object_type == "training_record"))}
    engine.dispose()
    assert payloads["groenkracht/viva_learning"]["learning_place"]["code"] in {"LP-ZON-BABY", "LP-BP-PLAN"}
    assert "learning_place" not in payloads["groenkracht/ledger_files"] and "employee_id" not in payloads["groenkracht/ledger_files"]
    assert (viva.requests["create"], viva.requests["update"]) == (2, 2)  # the second day moves the completion date on
    assert by_learner["G104"]["completedDateTime"] == "2026-03-30T17:00:00Z"
    before = dict(viva.requests)
    second = run_sync(sqlite_network.config(), moment)
    assert second.status == "ok" and dict(viva.requests) == before  # a re-run asks Viva nothing
