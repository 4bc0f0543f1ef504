"""The scim source against a real SCIM 2.0 server (scim2-server) on loopback."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from connector.engine.sync import run_sync
from tests.fakes.scim_server import TOKEN, ScimServer

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))


@pytest.fixture
def scim():
    server = ScimServer().start()
    yield server
    server.stop()


@pytest.fixture
def network(sqlite_network, scim, monkeypatch):
    monkeypatch.setenv("ST_TEST_SCIM_TOKEN", TOKEN)
    sqlite_network.add_to_organisation("brouwers-peeters", f"""
  [[organisations.sources]]
  name = "okta"
  kind = "scim"
  url = "{scim.base}"
  token = "${{ST_TEST_SCIM_TOKEN}}"
  page_size = 2
  entities = ["people"]
  authoritative = false

  [organisations.precedence]
  default = ["hr", "okta"]
  job_title = ["okta", "hr"]
""")
    return sqlite_network


def test_users_are_paged_merged_with_hr_and_removed_when_deleted(network, scim):
    ids = {
        "B02": scim.add_user("an@brouwers-peeters.be", "An", "Peeters", "B02", department="Administratie", title="Office & HR manager"),
        "B05": scim.add_user("evelien@brouwers-peeters.be", "Evelien", "Segers", "B05", department="Planning", title="Planner"),
        "X1": scim.add_user("stagiair@brouwers-peeters.be", "Sam", "Stage", None, title="Stagiair", preferredLanguage="fr-BE"),
        "B07": scim.add_user("LIEN@brouwers-peeters.be", "Lien", "Smets", "B07", title="Calculator"),
        "B08": scim.add_user("jef@brouwers-peeters.be", "Jef", "Coppens", "B08", title="Magazijnier"),
    }
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok", first.errors
    assert first.requests == {"scim:okta": 3}  # 5 users, 2 per page: read past the first page
    import requests

    from tests.contracts import checker

    listing = requests.get(f"{scim.base}/Users", params={"startIndex": 3, "count": 2}, headers=scim.headers, timeout=10).json()
    assert checker.load("scim").check_response("GET", "/v2/Users", 200, listing) == []  # the real server keeps to RFC 7644
    people = network.people("brouwers-peeters")
    assert len(people) == 8 + 1  # the intern is known only to the directory
    assert people["an@brouwers-peeters.be"].job_title == "Office & HR manager" and people["an@brouwers-peeters.be"].employee_number == "B02"
    assert people["lien@brouwers-peeters.be"].last_name == "Smets"  # matched on the employee number; the address case does not matter
    intern = people["stagiair@brouwers-peeters.be"]
    assert intern.active is False and intern.language == "fr"  # not in HR, the authoritative source
    scim.delete_user(ids["B05"])
    second = run_sync(network.config(), MOMENT)
    assert (second.pulled["people"]["removed"], second.pulled["people"]["created"]) == (1, 0)
    evelien = network.people("brouwers-peeters")["evelien@brouwers-peeters.be"]
    assert evelien.active is True and evelien.job_title == "Planner"  # HR still employs her; her HR title is back


def test_a_filter_and_a_wrong_token(network, scim, monkeypatch):
    scim.add_user("an@brouwers-peeters.be", "An", "Peeters", "B02", title="Office manager")
    scim.add_user("oud@brouwers-peeters.be", "Oud", "Account", "B99", active=False)
    network.config_path.write_text(network.config_path.read_text().replace("  page_size = 2\n", '  page_size = 2\n  filter = "active eq true"\n'))
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert "oud@brouwers-peeters.be" not in network.people("brouwers-peeters")
    monkeypatch.setenv("ST_TEST_SCIM_TOKEN", "wrong-token-value")
    refused = run_sync(network.config(), MOMENT)
    problem = next(e for e in refused.errors if e.source == "brouwers-peeters/okta")
    assert "HTTP 401" in problem.message and "wrong-token-value" not in str(refused.as_dict())
    assert refused.pulled["people"]["removed"] == 0  # an unreadable source keeps what it delivered before


def test_incremental_runs_fetch_only_users_changed_since_the_last_run(network, scim):
    import time

    network.config_path.write_text(network.config_path.read_text().replace("  page_size = 2\n", "  page_size = 2\n  incremental = true\n"))
    ids = [scim.add_user(f"u{n}@brouwers-peeters.be", f"U{n}", "Test", f"T{n}", title="Eerst") for n in range(5)]
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok" and first.requests == {"scim:okta": 3}  # the first run lists everyone
    time.sleep(1.1)  # lastModified has whole seconds
    scim.set_title(ids[3], "Daarna")
    second = run_sync(network.config(), MOMENT)
    assert second.status == "ok", second.errors
    assert second.requests == {"scim:okta": 1}  # one page: only the changed user
    # 34 = the HR files only: none of the four unchanged directory users was read again (a full listing gives 38)
    assert (second.pulled["people"]["updated"], second.pulled["people"]["unchanged"]) == (1, 34)
    assert network.people("brouwers-peeters")["u3@brouwers-peeters.be"].job_title == "Daarna"
    scim.delete_user(ids[0])
    third = run_sync(network.config(), MOMENT)
    assert third.pulled["people"]["removed"] == 0  # incremental: a deletion is not seen, as documented


def test_the_primary_work_address_is_taken_and_a_user_without_address_goes_through(network, scim):
    """Field input scim-users-primary-email.json: the home address comes first in `emails`."""
    import json
    from pathlib import Path

    listed = json.loads((Path(__file__).parent / "data" / "field-inputs" / "scim-users-primary-email.json").read_text())
    user = listed["Resources"][0]
    scim.add_user(user["userName"], "Karel", "Dewulf", "B03", emails=user["emails"])
    scim.add_user("lien.smets", "Lien", "Smets", "B07", emails=[])  # no address at all, a login name
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    people = network.people("brouwers-peeters")
    assert "karel.thuis@voorbeeld.be" not in people and len(people) == 8  # one person each, no second Karel
    karel = [p for p in people.values() if p.employee_number == "B03"]
    assert len(karel) == 1 and karel[0].email == "karel@brouwers-peeters.be" and karel[0].active
    lien = [p for p in people.values() if p.employee_number == "B07"]
    assert len(lien) == 1 and lien[0].active
