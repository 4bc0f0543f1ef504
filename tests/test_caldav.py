"""The cohort calendar on a real CalDAV server (Radicale) on loopback."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from sqlalchemy import select

from connector.core.calendar import to_ics
from connector.engine.sync import run_sync
from connector.store.db import open_engine, session_factory
from connector.store.tables import ExternalRef
from tests.fakes.caldav_server import PASSWORD, USERNAME, Radicale

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))


@pytest.fixture(scope="module")
def radicale():
    server = Radicale().start()
    yield server
    server.stop()


@pytest.fixture
def network(sqlite_network, radicale, monkeypatch, request):
    monkeypatch.setenv("ST_TEST_CALDAV_PASSWORD", PASSWORD)
    collection = f"{radicale.collection[:-1]}-{request.node.name.replace('_', '-')[:40]}/"
    import requests

    assert requests.request("MKCALENDAR", collection, auth=(USERNAME, PASSWORD), timeout=10).status_code == 201
    radicale.current = collection
    sqlite_network.add_before_cohort(f"""[caldav]
url = "{collection}"
username = "{USERNAME}"
password = "${{ST_TEST_CALDAV_PASSWORD}}"
""")
    return sqlite_network


def stored(radicale) -> dict[str, icalendar.Calendar]:
    original, radicale.collection = radicale.collection, radicale.current
    try:
        return {name: icalendar.Calendar.from_ical(data) for name, data in radicale.objects().items()}
    finally:
        radicale.collection = original


def etags(network) -> dict[str, str]:
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        found = {r.object_id: r.etag for r in db.scalars(select(ExternalRef).where(ExternalRef.target == "calendar-caldav"))}
    engine.dispose()
    return found


def test_sessions_are_stored_without_method_with_etags_kept_and_a_rerun_writes_nothing(network, radicale):
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    objects = stored(radicale)
    assert len(objects) == 19  # 15 sessions, 2 evaluation reminders and the cohort's 2 group moments
    for calendar in objects.values():
        assert "METHOD" not in calendar and str(calendar.walk("VEVENT")[0]["STATUS"]) == "CONFIRMED"
    tags = etags(network)
    assert len(tags) == 19 and all(tag and tag.startswith('"') for tag in tags.values())
    requests_before = sum(summary.requests.values())
    again = run_sync(network.config(), MOMENT)
    assert sum(again.invites.values()) == 0 and again.requests == {"caldav:calendar-caldav": 1}  # the answers' REPORT only
    assert requests_before == 19 + 1  # a PUT per object (the group moments too), one sync-collection REPORT for the answers


def test_a_move_is_one_conditional_put_and_a_cancellation_marks_the_events(network, radicale):
    run_sync(network.config(), MOMENT)
    before = etags(network)
    network.edit_csv("cohort/sessies.csv", "S-04-D1;EX-04;uitwisselingsdag;11/05/2027", "S-04-D1;EX-04;uitwisselingsdag;18/05/2027")
    moved = run_sync(network.config(), MOMENT)
    assert moved.requests == {"caldav:calendar-caldav": 1 + 1}  # the PUT, and the answers' REPORT
    after = etags(network)
    assert after["S-04-D1"] != before["S-04-D1"] and {k: v for k, v in after.items() if k != "S-04-D1"} == {k: v for k, v in before.items() if k != "S-04-D1"}
    uid_files = {str(c.walk("VEVENT")[0].decoded("DTSTART").date()): c for c in stored(radicale).values()}
    assert "2027-05-18" in uid_files and uid_files["2027-05-18"].walk("VEVENT")[0]["SEQUENCE"] == 1
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
    run_sync(network.config(), MOMENT)
    statuses = sorted(str(c.walk("VEVENT")[0]["STATUS"]) for c in stored(radicale).values())
    assert statuses.count("CANCELLED") == 3 and len(statuses) == 19  # with the 2 group moments
    for data in radicale.objects().values():
        vobject.readOne(data.decode())  # a second parser reads every stored object


def test_an_object_changed_behind_our_back_is_overwritten_after_a_412(network, radicale):
    import requests

    run_sync(network.config(), MOMENT)
    from connector.core.calendar import session_uid
    from connector.plumbing.files import safe_filename

    name = safe_filename(session_uid("leren-switchen", "S-06-D1", "lerenswitchen.be")) + ".ics"  # EX-06 uses the renamed place
    data = stored(radicale)[name]
    edited = data.to_ical().replace(b"SUMMARY:", b"SUMMARY:Edited by hand ")
    assert requests.put(radicale.current + name, data=edited, auth=(USERNAME, PASSWORD), timeout=10).status_code in (201, 204)
    network.edit_csv("cohort/leerplekken.csv", "Planning en werfopvolging", "Planning en werfopvolging (Leuven)")
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    summary_now = str(stored(radicale)[name].walk("VEVENT")[0]["SUMMARY"])
    assert "Edited by hand" not in summary_now and "Planning en werfopvolging (Leuven)" in summary_now


def test_delete_on_cancel_removes_the_resources(network, radicale):
    network.config_path.write_text(network.config_path.read_text().replace("[caldav]\nurl", '[caldav]\non_cancel = "delete"\nurl'))
    run_sync(network.config(), MOMENT)
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
    summary = run_sync(network.config(), MOMENT)
    assert summary.invites["cancelled"] == 3 + 3  # the .ics copies and the CalDAV resources
    assert len(stored(radicale)) == 14 + 2  # and the cohort's 2 group moments


def test_only_stored_objects_mark_attendees_and_earlier_objects_are_unscheduled_before_changing():
    """SCHEDULE-AGENT=CLIENT (RFC 6638 7.1) on every ATTENDEE of what the sink stores; the iTIP
    rendering the other channels send is the same bytes as without the option."""
    from connector.sinks.caldav import server_scheduled, unscheduled
    from tests.test_ics import STAMP, event, local

    session = event(local(2027, 5, 11, 8, 30), local(2027, 5, 11, 16, 0))
    itip = to_ics(session, "REQUEST", 0, STAMP)
    assert itip == to_ics(session, "REQUEST", 0, STAMP, schedule_agent=None) and b"SCHEDULE-AGENT" not in itip
    stored = to_ics(session, None, 0, STAMP, schedule_agent="CLIENT")
    vevent = icalendar.Calendar.from_ical(stored).walk("VEVENT")[0]
    assert [str(a.params["SCHEDULE-AGENT"]) for a in vevent["ATTENDEE"]] == ["CLIENT", "CLIENT"]
    assert "SCHEDULE-AGENT" not in vevent["ORGANIZER"].params
    assert not server_scheduled(stored)
    earlier = to_ics(session, None, 0, STAMP)
    assert server_scheduled(earlier)
    plain = icalendar.Calendar.from_ical(unscheduled(earlier)).walk("VEVENT")[0]
    assert "ORGANIZER" not in plain and "ATTENDEE" not in plain and not server_scheduled(unscheduled(earlier))
    assert str(plain["UID"]) == session.uid and plain.decoded("DTSTART") == local(2027, 5, 11, 8, 30)


def test_check_asks_radicale_and_finds_no_organizer_login(network, radicale):
    from connector.engine.sync import check

    assert check(network.config()) == []  # logged in as "cohort", not switch@lerenswitchen.be
