"""The msgraph_users source through the whole sync, against documented Graph payloads."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import responses

from connector.engine.sync import run_sync
from tests.contracts.stubs import ContractMock
from tests.fakes.graph_payloads import (
    GRAPH,
    LOGIN,
    TENANT_ID,
    delta_page,
    graph_error,
    openid_configuration,
    removed,
    token,
    token_error,
    user,
)

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
GRAPH_HOST = "graph.test.example"
DELTA = f"{GRAPH}/users/delta"
DELTA_LINK = f"{DELTA}?$deltatoken=oEcOySpF_hWYmTIUZBOIfPzcwisr_rPe8o9M54L45qEXQGmvQC6T2dbL"
NEXT_DELTA_LINK = f"{DELTA}?$deltatoken=second"
PEOPLE = [
    user("11111111-0000-0000-0000-000000000001", "Koen", "Vermeulen", "koen.vermeulen@groenkracht.be", "G101", jobTitle="Ploegbaas", companyName="Atelier Groenkracht"),
    user("11111111-0000-0000-0000-000000000004", "Marieke", "Janssens", "Marieke.Janssens@groenkracht.be", None, jobTitle="HR Business Partner",
         companyName="Atelier Groenkracht", preferredLanguage="en-US"),
    user("11111111-0000-0000-0000-000000000099", "Sam", "Extern", "sam@consultancy.example", None, companyName="Consultancy"),
]


def configure(network) -> None:
    network.add_to_organisation("groenkracht", """
  [[organisations.sources]]
  name = "m365"
  kind = "msgraph_users"
  tenant = "groenkracht"
  company = "Atelier Groenkracht"
  entities = ["people"]
  authoritative = false

  [organisations.precedence]
  default = ["payroll", "m365"]
  job_title = ["m365", "payroll"]
""")
    network.add_before_cohort(f"""[[tenants]]
name = "groenkracht"
tenant_id = "{TENANT_ID}"
client_id = "5d1c6c0e-4f3a-4b1e-8f0e-2a9c7b6d5e41"
client_secret = "${{ST_TEST_GRAPH_SECRET}}"
authority_host = "{LOGIN}"
graph_url = "{GRAPH}"
""")


@pytest.fixture
def graph(sqlite_network, monkeypatch):
    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", "client-secret-value")
    configure(sqlite_network)
    with ContractMock("msgraph", GRAPH_HOST, assert_all_requests_are_fired=False) as mock:
        mock.get(f"{LOGIN}/{TENANT_ID}/v2.0/.well-known/openid-configuration", json=openid_configuration())
        mock.post(f"{LOGIN}/{TENANT_ID}/oauth2/v2.0/token", json=token())
        yield mock


def people(network) -> dict:
    return network.people("groenkracht")


def full_listing(mock) -> None:
    mock.get(DELTA, json=delta_page(PEOPLE[:2], next_link=f"{DELTA}?$skiptoken=pqwSUjGYvb3jQpbwVAwEL7yuI3dU1LecfkkfLPtnIjs"))
    mock.get(f"{DELTA}?$skiptoken=pqwSUjGYvb3jQpbwVAwEL7yuI3dU1LecfkkfLPtnIjs", json=delta_page(PEOPLE[2:], delta_link=DELTA_LINK))


def test_first_run_lists_everyone_merges_with_hr_and_keeps_the_delta_link(graph, sqlite_network):
    full_listing(graph)
    summary = run_sync(sqlite_network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert summary.requests == {"msgraph:groenkracht": 2}  # two delta pages; the token request goes to the login host
    found = people(sqlite_network)
    assert len(found) == 10  # Koen and Marieke merged with payroll (employee id, then e-mail); the consultant is out of scope
    assert found["koen.vermeulen@groenkracht.be"].job_title == "Ploegbaas"
    marieke = found["marieke.janssens@groenkracht.be"]
    assert (marieke.job_title, marieke.employee_number, marieke.language) == ("HR Business Partner", "G104", "nl")  # payroll wins language
    first_request = graph.calls[2].request
    assert first_request.headers["Authorization"].startswith("Bearer eyJ0eXAi")
    assert first_request.params["$select"].startswith("id,givenName,surname")


def test_next_run_fetches_only_the_delta_and_merges_partial_updates(graph, sqlite_network):
    full_listing(graph)
    run_sync(sqlite_network.config(), MOMENT)
    graph.get(DELTA_LINK, json=delta_page([{"id": PEOPLE[0]["id"], "jobTitle": "Teamleider groen"}, removed(PEOPLE[1]["id"], "deleted")],
                                          delta_link=NEXT_DELTA_LINK))
    summary = run_sync(sqlite_network.config(), MOMENT)
    assert summary.requests == {"msgraph:groenkracht": 1}
    assert summary.pulled["people"]["updated"] == 1 and summary.pulled["people"]["removed"] == 1
    found = people(sqlite_network)
    koen = found["koen.vermeulen@groenkracht.be"]
    assert (koen.first_name, koen.job_title) == ("Koen", "Teamleider groen")  # the change merged into what Graph sent before
    assert found["marieke.janssens@groenkracht.be"].active is True  # payroll, the authoritative source, still employs her
    assert found["marieke.janssens@groenkracht.be"].job_title == "HR-verantwoordelijke"  # the directory no longer says otherwise


def test_an_expired_delta_link_triggers_a_full_resync(graph, sqlite_network):
    full_listing(graph)
    run_sync(sqlite_network.config(), MOMENT)
    graph.get(DELTA_LINK, status=410, json=graph_error("syncStateNotFound", "The sync state is no longer available."))
    graph.get(DELTA, json=delta_page(PEOPLE[:1], delta_link=NEXT_DELTA_LINK))
    summary = run_sync(sqlite_network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert summary.pulled["people"]["removed"] == 1  # Marieke is not in the new full listing
    assert summary.requests == {"msgraph:groenkracht": 2}
    graph.get(NEXT_DELTA_LINK, json=delta_page([], delta_link=NEXT_DELTA_LINK))
    assert run_sync(sqlite_network.config(), MOMENT).requests == {"msgraph:groenkracht": 1}


def test_refused_credentials_are_reported_without_the_secret_and_hr_still_goes_through(sqlite_network, monkeypatch):
    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", "client-secret-value")
    configure(sqlite_network)
    with ContractMock("msgraph", GRAPH_HOST, assert_all_requests_are_fired=False) as mock:
        mock.get(f"{LOGIN}/{TENANT_ID}/v2.0/.well-known/openid-configuration", json=openid_configuration())
        mock.post(f"{LOGIN}/{TENANT_ID}/oauth2/v2.0/token", status=401, json=token_error())
        summary = run_sync(sqlite_network.config(), MOMENT)
    assert summary.status == "partial"
    problem = next(e for e in summary.errors if e.source == "groenkracht/m365")
    assert "invalid_client" in problem.message and "AADSTS7000215" in problem.message
    assert "client-secret-value" not in str(summary.as_dict())
    assert summary.pulled["people"]["created"] == 34


def test_throttled_and_broken_pages_are_retried_through_the_shared_layer(graph, sqlite_network, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    graph.get(DELTA, status=429, headers={"Retry-After": "2"}, json=graph_error("TooManyRequests", "Too many requests"))
    graph.get(DELTA, status=503, json=graph_error("serviceNotAvailable", "Service unavailable"))
    graph.get(DELTA, json=delta_page(PEOPLE, delta_link=DELTA_LINK))
    summary = run_sync(sqlite_network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert summary.requests == {"msgraph:groenkracht": 3}


def test_a_truncated_page_fails_the_source_and_keeps_the_cursor(graph, sqlite_network):
    full_listing(graph)
    run_sync(sqlite_network.config(), MOMENT)
    graph.get(DELTA_LINK, body='{"value": [{"id": "11111111-0000-0000-0000-00000', content_type="application/json")
    summary = run_sync(sqlite_network.config(), MOMENT)
    problem = next(e for e in summary.errors if e.source == "groenkracht/m365")
    assert "not valid JSON" in problem.message
    graph.replace(responses.GET, DELTA_LINK, json=delta_page([], delta_link=NEXT_DELTA_LINK))
    assert run_sync(sqlite_network.config(), MOMENT).status == "ok"  # the stored delta link was kept and works


def test_two_directory_users_claiming_one_employee_number_are_reported_not_merged(graph, sqlite_network):
    twin = user("11111111-0000-0000-0000-000000000007", "Koen", "Vermeulen-Tweede", "koen2@groenkracht.be", "G101", companyName="Atelier Groenkracht")
    graph.get(DELTA, json=delta_page([PEOPLE[0], twin], delta_link=DELTA_LINK))
    summary = run_sync(sqlite_network.config(), MOMENT)
    conflict = [e for e in summary.errors if e.source == "groenkracht/m365"]
    assert len(conflict) == 1 and conflict[0].record == "user koen2@groenkracht.be" and "already linked" in conflict[0].message
    assert people(sqlite_network)["koen.vermeulen@groenkracht.be"].last_name == "Vermeulen"


def test_a_stub_graph_would_never_send_cannot_be_registered(graph):
    """The stubs are held to tests/contracts/msgraph.json: a delta page without `value`, or a
    status the docs do not give, is refused when it is registered."""
    from tests.contracts.checker import ContractViolation

    with pytest.raises(ContractViolation, match="'value' is a required property"):
        graph.get(DELTA, json={"users": []})
    with pytest.raises(ContractViolation, match="status 201 is not documented"):
        graph.get(DELTA, status=201, json=delta_page([]))
