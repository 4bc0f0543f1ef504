"""The cohort calendar on a CalDAV server that schedules by itself (RFC 6638): Cyrus IMAP on
loopback, logged in as the organizer's principal, with an SMTP sink counting what Cyrus sends.

The example cohort is shifted by whole weeks so that the sessions upcoming at the run's date
are those upcoming on 1 September 2026 and all lie in the future by the real clock: Cyrus does
not schedule events more than 7 days old, whatever the connector's `as_of` says.
"""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from connector.engine.sync import check, run_sync
from connector.sinks import caldav
from tests.fakes.cyrus_server import PASSWORD, Cyrus, Mail, missing

ORIGINAL_AS_OF = date(2026, 9, 1)
SHIFT = timedelta(weeks=max(0, -(-(date.today() - ORIGINAL_AS_OF).days // 7)) + 1)  # whole weeks: weekdays stay
AS_OF = datetime.combine(ORIGINAL_AS_OF + SHIFT, datetime.min.time(), tzinfo=ZoneInfo("Europe/Brussels"))
SESSIONS_UPCOMING = 21  # sessions and evaluation reminders upcoming on 1 September 2026, and the cohort's 2 group moments


@pytest.fixture(scope="session")
def cyrus() -> Iterator[Cyrus]:
    reason = missing()
    if reason:
        pytest.skip(reason)  # .ci/run installs Cyrus and fails on any skip
    server = Cyrus().start()
    try:
        server.user("switch")
        server.user("cohort")
        yield server
    finally:
        server.stop()


@pytest.fixture
def network(sqlite_network, cyrus, monkeypatch, request):
    """The example network, its cohort shifted into the future, with a [caldav] calendar of
    its own in the organizer's (switch@lerenswitchen.be) calendar home, logged in as switch.
    UIDs get a domain per test: Cyrus keeps a UID unique across one user's calendars."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()[5:])[:40].strip("-")
    monkeypatch.setenv("ST_TEST_CALDAV_PASSWORD", PASSWORD)
    _shift_sessions(sqlite_network, SHIFT)
    _shift_cohort(sqlite_network, SHIFT)
    sqlite_network.replace('timezone = "Europe/Brussels"', f'timezone = "Europe/Brussels"\nuid_domain = "{name}.lerenswitchen.be"')
    sqlite_network.calendar = cyrus.calendar("switch", name)
    sqlite_network.add_before_cohort(f"""[caldav]
url = "{sqlite_network.calendar}"
username = "switch"
password = "${{ST_TEST_CALDAV_PASSWORD}}"
""")
    sqlite_network.uid_domain = f"{name}.lerenswitchen.be"
    return sqlite_network


def _shift_sessions(network, shift: timedelta) -> None:
    path = network.data / "cohort" / "sessies.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
    for row in rows[1:]:
        row[3] = (datetime.strptime(row[3], "%d/%m/%Y") + shift).strftime("%d/%m/%Y")
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8-sig")


@contextmanager
def earlier_version(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The sink as it was before SCHEDULE-AGENT: objects stored without the parameter and
    references that do not say they carry it."""
    with monkeypatch.context() as patch:
        real = caldav.to_ics
        patch.setattr(caldav, "to_ics", lambda *args, schedule_agent=None, **kwargs: real(*args, **kwargs))
        patch.setattr(caldav, "MARKED", None)
        yield


def sent_during(cyrus: Cyrus, network, action) -> list[Mail]:  # type: ignore[no-untyped-def]
    """What Cyrus sent about this network's sessions while `action` ran."""
    before = len(cyrus.settle())
    result = action()
    assert getattr(result, "status", "ok") == "ok", getattr(result, "errors", None)
    return [mail for mail in cyrus.settle()[before:] if network.uid_domain.encode() in mail.data]


def stored_events(cyrus: Cyrus, network) -> dict[str, icalendar.Event]:  # type: ignore[no-untyped-def]
    return {name: icalendar.Calendar.from_ical(data).walk("VEVENT")[0] for name, data in cyrus.objects(network.calendar, "switch").items()}


def attendees(event: icalendar.Event) -> list[icalendar.vCalAddress]:
    found = event.get("ATTENDEE", [])
    return found if isinstance(found, list) else [found]


def test_without_schedule_agent_cyrus_invites_every_attendee_itself(network, cyrus, monkeypatch):
    """Today's objects (no SCHEDULE-AGENT) make Cyrus send one REQUEST per attendee of every
    session: the fixture really schedules, so the tests below can fail."""
    with earlier_version(monkeypatch):
        mails = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    events = stored_events(cyrus, network)
    assert len(events) == SESSIONS_UPCOMING
    # Counted on the exchanges' sessions: for the cohort's two group moments (31 attendees) Cyrus sends nothing
    # and marks every attendee SCHEDULE-STATUS=5.1 (could not deliver; observed, cause not found yet). Our
    # own objects carry SCHEDULE-AGENT=CLIENT, so Cyrus never schedules them anyway (the test below).
    pairs = sum(len(attendees(event)) for event in events.values() if not str(event["X-ST-KIND"]).startswith("group_"))
    assert Counter(mail.method for mail in mails) == Counter({"REQUEST": pairs}) and pairs > SESSIONS_UPCOMING


def test_objects_marked_schedule_agent_client_make_cyrus_send_nothing(network, cyrus):
    created = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    assert created == []  # without the mark: 42 REQUESTs to 10 people (observed)
    events = stored_events(cyrus, network)
    assert len(events) == SESSIONS_UPCOMING
    assert all(str(a.params["SCHEDULE-AGENT"]) == "CLIENT" for event in events.values() for a in attendees(event))
    # The iTIP copies in files (and so iMIP and Graph, rendered by the same to_ics) carry none.
    assert not [p for p in (network.out / "invitations").glob("*.ics") if b"SCHEDULE-AGENT" in p.read_bytes()]
    network.edit_csv("cohort/sessies.csv", "S-04-D1;EX-04;uitwisselingsdag;" + _shifted("11/05/2027"),
                     "S-04-D1;EX-04;uitwisselingsdag;" + _shifted("18/05/2027"))
    moved = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
    cancelled = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    events = stored_events(cyrus, network)
    assert sorted(str(e["STATUS"]) for e in events.values()).count("CANCELLED") == 3  # EX-05's three sessions, written
    assert any(int(e["SEQUENCE"]) == 1 and e.decoded("DTSTART").date() == _shifted_date("18/05/2027") for e in events.values())
    assert (moved, cancelled) == ([], [])  # without the mark: 2 REQUESTs ("Update:"), then 6 CANCELs (observed)


def test_a_calendar_cyrus_already_scheduled_is_brought_over_without_a_message(network, cyrus, monkeypatch):
    with earlier_version(monkeypatch):
        assert sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))  # Cyrus invited everyone
    # An earlier version's objects are changed: a session moves, an exchange is cancelled.
    network.edit_csv("cohort/sessies.csv", "S-04-D1;EX-04;uitwisselingsdag;" + _shifted("11/05/2027"),
                     "S-04-D1;EX-04;uitwisselingsdag;" + _shifted("18/05/2027"))
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
    changed = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    events = stored_events(cyrus, network)
    marked = [e for e in events.values() if all(str(a.params.get("SCHEDULE-AGENT", "")) == "CLIENT" for a in attendees(e))]
    assert len(marked) == 4 and len(events) == SESSIONS_UPCOMING  # the moved session and EX-05's three
    # A lost store: every object is found by its 412 and brought over, none of them cancelled.
    (network.root / "state" / "connector.db").unlink()
    lost = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    events = stored_events(cyrus, network)
    assert all(str(a.params["SCHEDULE-AGENT"]) == "CLIENT" for event in events.values() for a in attendees(event))
    # ...and from then on it is an ordinary marked calendar.
    network.edit_csv("cohort/uitwisselingen.csv", "EX-06;LV-06;LP-BP-PLAN;B05;bevestigd", "EX-06;LV-06;LP-BP-PLAN;B05;geannuleerd")
    after = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    # Writing the mark over the earlier objects as they were: 8, then 34 CANCELs (observed).
    assert (changed, lost, after) == ([], [], [])


@pytest.mark.parametrize("written_by", ["earlier", "this"])
def test_delete_on_cancel_sends_nothing(network, cyrus, monkeypatch, written_by):
    """Objects deleted with on_cancel = "delete": marked ones, and an earlier version's (which
    are brought over first: deleted as they were, Cyrus sent 6 CANCELs, observed)."""
    network.config_path.write_text(network.config_path.read_text().replace("[caldav]\nurl", '[caldav]\non_cancel = "delete"\nurl'))
    with earlier_version(monkeypatch) if written_by == "earlier" else nullcontext():
        created = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    assert bool(created) == (written_by == "earlier")
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
    deleted = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    assert len(stored_events(cyrus, network)) == SESSIONS_UPCOMING - 3
    assert deleted == []


def test_check_warns_when_the_login_is_the_organizers_principal(network, cyrus):
    warnings = check(network.config())
    assert len(warnings) == 1 and "the CalDAV login is the organizer's principal (mailto:switch@lerenswitchen.be)" in warnings[0]
    result = subprocess.run([sys.executable, "-m", "connector.cli", "check", "--config", str(network.config_path)],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "ST_TEST_CALDAV_PASSWORD": PASSWORD})
    assert result.returncode == 0 and "Warning: target 'calendar-caldav': the CalDAV login is the organizer's principal" in result.stderr
    other = cyrus.calendar("cohort", "cohort-check")
    network.replace(f'url = "{network.calendar}"\nusername = "switch"', f'url = "{other}"\nusername = "cohort"')
    assert check(network.config()) == []


def test_a_calendar_of_a_principal_that_is_not_the_organizer_gets_nothing_sent_even_unmarked(network, cyrus, monkeypatch):
    """The login advice: in cohort@'s own calendar Cyrus has nobody to schedule for (RFC 6638
    section 3.2), even for objects without SCHEDULE-AGENT."""
    other = cyrus.calendar("cohort", "unmarked-" + network.uid_domain.split(".")[0][:30])
    network.replace(f'url = "{network.calendar}"\nusername = "switch"', f'url = "{other}"\nusername = "cohort"')
    network.calendar = other
    with earlier_version(monkeypatch):
        created = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
        network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
        cancelled = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    events = cyrus.objects(other, "cohort")
    assert len(events) == SESSIONS_UPCOMING and not [data for data in events.values() if b"SCHEDULE-AGENT" in data]
    assert (created, cancelled) == ([], [])


def _shift_cohort(network, shift: timedelta) -> None:
    """The cohort's group moments and phase dates by the same whole weeks, so that the moments
    stay ahead of the run and no deadline reminder falls due (as on 1 September 2026)."""
    for name, columns in (("groepsmomenten.csv", (4,)), ("fasen.csv", (2, 3))):
        path = network.data / "cohort" / name
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";"))
        for row in rows[1:]:
            for column in columns:
                row[column] = (datetime.strptime(row[column], "%d/%m/%Y") + shift).strftime("%d/%m/%Y")
        out = io.StringIO()
        csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8-sig")


# -- group moments (issue 25) ---------------------------------------------------------------

def test_group_moments_are_stored_marked_and_cyrus_sends_nothing_even_when_someone_leaves(network, cyrus):
    # Sofie De Smet is also a line manager of switchers: only the list names her here
    network.edit_csv("cohort/groepsmomenten.csv", "switchers, leercoaches, hr, leidinggevenden;", "switchers, leercoaches, hr;")
    created = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    events = {str(e["X-ST-KIND"]): e for e in stored_events(cyrus, network).values() if str(e["X-ST-KIND"]).startswith("group_")}
    assert sorted(events) == ["group_kickoff", "group_return_moment"] and created == []
    terug = events["group_return_moment"]
    assert "mailto:sofie.desmet@zonneke.be" in [str(a) for a in attendees(terug)]
    assert all(str(a.params["SCHEDULE-AGENT"]) == "CLIENT" for event in events.values() for a in attendees(event))
    network.edit_csv("cohort/groepsmomenten.csv", ";zonneke:Z002", ";")
    left = sent_during(cyrus, network, lambda: run_sync(network.config(), AS_OF))
    terug = next(e for e in stored_events(cyrus, network).values() if str(e["X-ST-KIND"]) == "group_return_moment")
    assert "mailto:sofie.desmet@zonneke.be" not in [str(a) for a in attendees(terug)] and int(terug["SEQUENCE"]) == 1
    assert left == []  # the invitations are ours (files, Graph, iMIP); the cohort calendar only holds the copy


def _shifted(text: str) -> str:
    return _shifted_date(text).strftime("%d/%m/%Y")


def _shifted_date(text: str) -> date:
    return (datetime.strptime(text, "%d/%m/%Y") + SHIFT).date()
