"""Personio as the HR system of one employer: employees in (offset pages that shift while
they are read included), the leerbewijs out as an employee document, against a loopback
stand-in with the documented shapes (tests/fakes/personio_server.py cites the pages)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from connector.engine.sync import run_sync
from tests.conftest import dies_after_delivery
from tests.fakes.faults import lose_answers
from tests.fakes.personio_server import (
    CATEGORY,
    CLIENT_ID,
    CLIENT_SECRET,
    HOURS_ATTRIBUTE,
    FakePersonio,
)

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
PAYROLL = """  name = "payroll"
  kind = "files"
  path = "examples/data/groenkracht" # medewerkers.xlsx and opleidingen.xlsx with real date cells
  entities = ["people", "training_records"]
"""
MARIEKE = 204  # the switcher of EX-02, whose exchange days were in March 2026


@pytest.fixture
def personio(sqlite_network):
    fake = FakePersonio().start()
    sheet = openpyxl.load_workbook(sqlite_network.data / "groenkracht" / "medewerkers.xlsx").active
    for number, first, last, email, _language, department, _site, position, *_ in list(sheet.iter_rows(values_only=True))[1:]:
        fake.add(100 + int(number[1:]), number, first, last, email, department, position=position)
    yield fake
    fake.stop()


@pytest.fixture
def network(sqlite_network, personio, monkeypatch):
    monkeypatch.setenv("ST_TEST_PERSONIO_SECRET", CLIENT_SECRET)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    credentials = f"""  url = "{personio.url}"
  client_id = "{CLIENT_ID}"
  client_secret = "${{ST_TEST_PERSONIO_SECRET}}"
"""
    sqlite_network.replace(PAYROLL, PAYROLL.replace('["people", "training_records"]', '["training_records"]') + f"""
  [[organisations.sources]]
  name = "personio"
  kind = "personio"
{credentials}  page_size = 4
  entities = ["people"]
""")
    sqlite_network.add_to_organisation("groenkracht", f"""
  [[organisations.writeback]]
  kind = "personio"
{credentials}  category_id = {CATEGORY}
""")
    return sqlite_network


def test_employees_in_and_the_leerbewijs_filed_once(network, personio):
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok", first.errors
    people = network.people("groenkracht")
    assert len(people) == 10
    marieke = people["marieke.janssens@groenkracht.be"]
    assert (marieke.employee_number, marieke.department, marieke.site, marieke.job_title) == ("G104", "HR", "Lokeren", "HR-verantwoordelijke")
    assert marieke.start_date.isoformat() == "2018-10-01"
    assert personio.requests["employees"] == 3  # 10 employees, 4 a page
    assert personio.requests["auth"] == 1
    document, edc = personio.documents  # the PDF and its European Digital Credential (issue 24)
    assert document["owner_id"] == MARIEKE and document["category_id"] == CATEGORY
    assert document["title"].startswith("Leerbewijs LB-2026-") and document["file_name"].endswith(".pdf")
    assert edc["title"] == f"{document['title']} (Europass)" and edc["file_name"].endswith(".edc.jsonld")
    assert "europass.europa.eu" in edc["comment"] and edc["owner_id"] == MARIEKE
    # the ledgers (and the petits-pas coach's own day, coach_learning); the training from the payroll file still matched by number
    assert first.training_records["written"] == 6

    personio.expire_tokens()
    second = run_sync(network.config(), MOMENT)
    assert second.status == "ok", second.errors
    assert len(personio.documents) == 2 and personio.requests["upload"] == 2
    assert personio.requests["auth"] == 2  # a new token after the 401, once


def test_a_hire_between_two_pages_is_neither_skipped_nor_doubled(network, personio):
    personio.hired_while_reading.append(personio.employee(211, "G111", "Nieuw", "Lid", "nieuw.lid@groenkracht.be", "Logistiek"))
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors  # no "listed twice" problem for the shifted person
    people = network.people("groenkracht")
    assert len(people) == 11 and all(p.active for p in people.values())
    assert personio.requests["employees"] == 3 + 3  # the listing was read again, and then held still


def test_a_listing_that_keeps_moving_removes_nobody(network, personio):
    assert run_sync(network.config(), MOMENT).status == "ok"
    gone = personio.employees.pop(2)  # Dirk leaves...
    personio.hired_while_reading.extend(personio.employee(221 + i, f"G12{i}", "Nieuw", f"Lid{i}", f"lid{i}@groenkracht.be", "Logistiek")
                                        for i in range(2))  # ...while two people are hired during both readings
    summary = run_sync(network.config(), MOMENT)
    warning = next(e for e in summary.errors if e.source == "groenkracht/personio")
    assert "changed while it was read" in warning.message
    people = network.people("groenkracht")
    assert people[gone["attributes"]["email"]["value"]].active  # not taken as removed on a moving listing
    assert summary.pulled["people"]["removed"] == 0
    assert len(people) == 11  # the first hire was read on the second pass; the second comes next run
    calm = run_sync(network.config(), MOMENT)  # nothing moves now: Dirk is seen gone
    assert (calm.pulled["people"]["removed"], calm.pulled["people"]["created"]) == (1, 1)


def test_a_crash_after_the_upload_files_it_once_looking_with_a_v2_token(network, personio):
    """Finding 5: the v2 document list takes a token from POST /v2/auth/token (client
    credentials, form-encoded); the v1 token is refused there."""
    with dies_after_delivery("groenkracht/personio"):
        run_sync(network.config(), MOMENT)
    assert len(personio.documents) == 2
    recovered = run_sync(network.config(), MOMENT)
    assert recovered.status == "ok", recovered.errors
    assert len(personio.documents) == 2 and personio.requests["documents"] == 2  # looked (PDF, EDC) before uploading again
    assert personio.requests["v2_auth"] == 1 and personio.requests["unauthorised"] == 0


def test_the_document_list_is_read_past_its_first_page_before_uploading_again(network, personio):
    """The v2 list pages by cursor (`_meta.links.next.href`): ours is on the second page of 100."""
    personio.documents.extend({"id": 9000 + n, "title": f"Attest {n}", "owner_id": MARIEKE, "category_id": CATEGORY, "date": "2025-01-01",
                               "comment": None, "file_name": f"attest-{n}.pdf", "size": 1} for n in range(120))
    with dies_after_delivery("groenkracht/personio"):
        run_sync(network.config(), MOMENT)
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert len(personio.documents) == 122 and personio.requests["documents"] == 4 and personio.requests["upload"] == 2


def test_the_stand_in_answers_with_personios_documented_statuses(personio):
    """Upload 201 and PATCH 422 as documented; a 200 upload is an answer Personio never gives."""
    import requests

    token = requests.post(f"{personio.base}/v1/auth", json={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}, timeout=5).json()
    headers = {"Authorization": f"Bearer {token['data']['token']}", "X-Personio-App-ID": "TEST"}
    personio.add(301, "G301", "Test", "Persoon", "t@groenkracht.be", "HR")
    upload = requests.post(f"{personio.base}/v1/company/documents", headers=headers, timeout=5,
                           data={"title": "x", "employee_id": "301", "category_id": str(CATEGORY)}, files={"file": ("x.pdf", b"%PDF", "application/pdf")})
    assert upload.status_code == 201 and upload.json()["data"]["type"] == "Document"
    patch = requests.patch(f"{personio.base}/v1/company/employees/301", headers=headers, timeout=5,
                           json={"employee": {"custom_attributes": {"dynamic_1": 1}}})
    assert patch.status_code == 422
    v1_on_v2 = requests.get(f"{personio.base}/v2/document-management/documents", params={"owner_id": "301"}, headers=headers, timeout=5)
    assert v1_on_v2.status_code == 401
    assert personio.contract.check_response("POST", "/v1/company/documents", 200, {"success": True, "data": {"id": 1}})
    personio.contract.violations.clear()


def test_wrong_credentials_and_faults(network, personio, monkeypatch):
    monkeypatch.setenv("ST_TEST_PERSONIO_SECRET", "not-the-secret")
    refused = run_sync(network.config(), MOMENT)
    problem = next(e for e in refused.errors if e.source == "groenkracht/personio")
    assert "Personio refused the API credentials" in problem.message and "not-the-secret" not in str(refused.as_dict())
    assert network.people("zonneke")  # everyone else went through
    monkeypatch.setenv("ST_TEST_PERSONIO_SECRET", CLIENT_SECRET)
    personio.fail(2, 429, {"Retry-After": "1"})
    personio.drop(1)
    personio.fail(1, 502)
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert len(network.people("groenkracht")) == 10 and len(personio.documents) == 2


def test_the_yearly_exchange_hours_in_a_custom_attribute_only_when_they_change(network, personio):
    network.replace(f"  category_id = {CATEGORY}\n", f'  category_id = {CATEGORY}\n  hours_attribute = "{HOURS_ATTRIBUTE}"\n')
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok", first.errors
    assert personio.attribute(MARIEKE, HOURS_ATTRIBUTE) == 14.0  # EX-02: two days of 7 hours in March 2026
    assert personio.requests["update"] == 1 and first.training_records["yearly totals written"] == 1
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert personio.requests["update"] == 1  # unchanged: not sent again

    new_year = run_sync(network.config(), datetime(2027, 1, 4, tzinfo=ZoneInfo("Europe/Brussels")))
    assert new_year.status == "ok", new_year.errors
    assert personio.attribute(MARIEKE, HOURS_ATTRIBUTE) == 0.0 and personio.requests["update"] == 2
    assert len(personio.documents) == 2  # the leerbewijs and its EDC


def test_a_hours_attribute_personio_does_not_have_is_named(network, personio):
    from connector.core.errors import ConfigError
    from connector.engine.sync import check

    network.replace(f"  category_id = {CATEGORY}\n", '  hours_attribute = "dynamic_999"\n')
    summary = run_sync(network.config(), MOMENT)
    assert summary.status != "ok" and personio.documents == []  # without category_id no leerbewijs is filed
    [error] = [e for e in summary.errors if "exchange hours" in e.message]
    assert "Marieke Janssens (exchange hours 2026)" in error.message and "Unknown attribute dynamic_999" in error.message
    network.replace('  hours_attribute = "dynamic_999"\n', '  hours_attribute = "Uitwisselingsuren"\n')
    with pytest.raises(ConfigError) as problems:
        check(network.config())
    assert "`hours_attribute` is a custom attribute key like dynamic_1146702, not 'Uitwisselingsuren'" in "\n".join(problems.value.problems)


def test_an_upload_whose_answer_is_lost_is_looked_up_not_uploaded_again(network, personio):
    lost = lose_answers(personio, "POST", r"/v1/company/documents$")
    summary = run_sync(network.config(), MOMENT)
    assert lost and summary.status == "ok", summary.errors  # found by its title in the same run
    assert len(personio.documents) == 2 and personio.requests["upload"] == 2 and personio.requests["documents"] == 2  # PDF, then its EDC


def test_a_day_that_turns_absent_lowers_the_yearly_hours_and_files_the_corrected_leerbewijs(network, personio):
    """Issue 16: Personio has no training object to retract; the hours attribute is set again
    from the days that count, and the corrected leerbewijs is filed beside the revoked one."""
    network.replace(f"  category_id = {CATEGORY}\n", f'  category_id = {CATEGORY}\n  hours_attribute = "{HOURS_ATTRIBUTE}"\n')
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert personio.attribute(MARIEKE, HOURS_ATTRIBUTE) == 14.0 and len(personio.documents) == 2  # the PDF and its EDC
    network.edit_csv("cohort/sessies.csv", "S-02-D2;EX-02;uitwisselingsdag;30/03/2026;09:00;16:30;ter plaatse;;7;",
                     "S-02-D2;EX-02;uitwisselingsdag;30/03/2026;09:00;16:30;ter plaatse;;7;afwezig")
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert personio.attribute(MARIEKE, HOURS_ATTRIBUTE) == 7.0 and len(personio.documents) == 4  # and the corrected one's
    assert summary.revoked and summary.revoked[0]["replaced_by"]
    assert run_sync(network.config(), MOMENT).training_records["yearly totals written"] == 0
