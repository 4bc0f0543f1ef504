"""check --data (issue: safe to operate): "check says OK" now means the next sync will not fail
on the data; the check itself writes nothing (store, outputs, keys)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from connector.engine.datacheck import check_data
from connector.engine.sync import check
from connector.store.tables import Person, SyncRun
from tests.test_guards import HEADER, ZONNEKE
from tests.test_sync import AS_OF, query, sync

MOMENT = datetime.fromisoformat(AS_OF).replace(tzinfo=ZoneInfo("Europe/Brussels"))


def test_broken_references_pass_the_configuration_check_and_are_named_by_the_data_check(network):
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN", "EX-05;LV-55;LP-BP-PLAN")
    network.edit_csv("brouwers-peeters/medewerkers.csv", "jef@brouwers-peeters.be,NL,Magazijn,Leuven,Magazijnier,1,40,2026-05-10",
                     "jef@brouwers-peeters.be,NL,Magazijn,Leuven,Magazijnier,1,40,10 mei", encoding="utf-8")
    check(network.config())  # the configuration is fine: this is what used to say OK
    summary = check_data(network.config(), MOMENT)
    assert summary.status == "partial"
    problems = {(p.entity, p.field): p.message for p in summary.errors if not p.warning}
    assert problems[("exchanges", "learning_question")].startswith("no learning question 'LV-55' (did you mean 'LV-05'?)")
    assert "'10 mei' is not a date" in problems[("people", "start_date")]
    assert not network.out.exists() and not (network.root / "keys").exists()
    if network.store_url.startswith("sqlite"):
        assert not (network.root / "state").exists()  # no store made: checked against one in memory


def test_the_data_check_applies_the_removal_guard_against_the_store_and_changes_nothing(network):
    sync(network)
    runs = query(network, select(func.count()).select_from(SyncRun))
    network.data.joinpath(ZONNEKE).write_text("\ufeff" + HEADER + "\n", encoding="utf-8")
    summary = check_data(network.config(), MOMENT)
    (problem,) = [p for p in summary.errors if not p.warning]
    assert "would remove 10 of 10 (100%)" in problem.message
    assert query(network, select(func.count()).select_from(SyncRun)) == runs
    assert query(network, select(func.count()).select_from(Person).where(Person.active.is_(False))) == [(0,)]


def test_clean_data_passes_the_data_check(network):
    summary = check_data(network.config(), MOMENT)
    assert summary.status == "ok", [str(p) for p in summary.errors]
    assert [p.message for p in summary.errors] == ["no store yet (a first sync): checked without earlier records"] \
        if network.store_url.startswith("sqlite") else ["the store is empty or older than this version: checked without "
                                                        "earlier records"]
