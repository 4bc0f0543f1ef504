"""Attendees' answers read back from a CalDAV calendar (RFC 6638 scheduling, RFC 6578 sync):
the real Cyrus server on loopback delivers a local attendee's decline into the organizer's copy,
the connector reads it with one sync-collection REPORT, and the attendance rule acts on it.

The switcher of EX-04 (Amélie Dubois, Les Petits Pas) becomes a Cyrus user who declines the
first exchange day in her own calendar, as her calendar program would after importing the
invitation: she stores her copy with PARTSTAT=DECLINED (RFC 6638 section 3.2.2.1). The cohort is
shifted into the future (tests/test_caldav_cyrus.py): Cyrus schedules nothing in the past.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
import vobject
from sqlalchemy import select

from connector.core.config import load_config
from connector.engine.status import build_status
from connector.engine.sync import run_sync
from connector.store.db import open_engine, session_factory
from connector.store.tables import ExternalRef
from tests.fakes.cyrus_server import DOMAIN, PASSWORD, Cyrus
from tests.test_attendance import ledger
from tests.test_caldav_cyrus import AS_OF, SHIFT, _shift_sessions, _shifted, _shifted_date, cyrus  # noqa: F401  (the session's server)

ATTENDEE = "amelie"
ADDRESS = f"{ATTENDEE}@{DOMAIN}"
TARGET = "calendar-caldav"
FIRST_DAY = "S-04-D1;EX-04;uitwisselingsdag;"


@pytest.fixture
def calendar_network(network, cyrus, monkeypatch, request):  # noqa: F811
    """The example network on either store with a [caldav] calendar in the organizer's
    (switch@) own calendar home, where Cyrus keeps the attendees' answers; EX-04's switcher
    is the Cyrus user amelie@."""
    store = "pg" if "postgres" in request.node.name else "lite"
    name = f"answers-{store}-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()[5:])[:36].strip("-")
    monkeypatch.setenv("ST_TEST_CALDAV_PASSWORD", PASSWORD)
    _shift_sessions(network, SHIFT)
    network.replace('timezone = "Europe/Brussels"', f'timezone = "Europe/Brussels"\nuid_domain = "{name}.{DOMAIN}"')
    network.edit_csv("petits-pas/medewerkers.csv", "amelie.dubois@lespetitspas.be", ADDRESS, encoding="latin-1")
    cyrus.user(ATTENDEE)
    network.uid_domain = f"{name}.{DOMAIN}"
    network.calendar = cyrus.calendar("switch", name)
    network.add_before_cohort(f"""[caldav]
url = "{network.calendar}"
username = "switch"
password = "${{ST_TEST_CALDAV_PASSWORD}}"
""")
    return network


def decline_in_own_calendar(cyrus: Cyrus, network, session_code: str) -> None:  # type: ignore[no-untyped-def]
    """What Amélie's calendar program does: import the invitation (the .ics the connector wrote),
    mark herself DECLINED and store her copy in her own calendar (a different iCalendar writer
    than ours: vobject). Cyrus then sends the REPLY to the organizer, a local user, by updating
    the organizer's copy (RFC 6638 section 3.2.2.1)."""
    [invitation] = [p for p in (network.out / "invitations").glob("*.ics") if session_code in p.name]
    calendar = vobject.readOne(invitation.read_text(encoding="utf-8"))
    del calendar.method  # a stored calendar object has no METHOD (RFC 4791 section 4.1)
    event = calendar.vevent
    for attendee in event.contents["attendee"]:
        if attendee.value.lower() == f"mailto:{ADDRESS}":
            attendee.params["PARTSTAT"] = ["DECLINED"]
            attendee.params.pop("RSVP", None)
    answer = requests.put(f"{cyrus.base}/dav/calendars/user/{ATTENDEE}/Default/{session_code}-{network.uid_domain}.ics",
                          data=calendar.serialize().encode(), auth=(ATTENDEE, PASSWORD),
                          headers={"Content-Type": "text/calendar; charset=utf-8"}, timeout=30)
    assert answer.status_code in (201, 204), (answer.status_code, answer.text)


def responses(network, target: str = TARGET) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """The attendees' answers the store holds per object of `target`."""
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        found = {r.object_id: (r.details or {}).get("responses", {}) for r in db.scalars(
            select(ExternalRef).where(ExternalRef.target == target))}
    engine.dispose()
    return found


def session_status(network, code: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        document = build_status(db, load_config(network.config_path), now=AS_OF)
    engine.dispose()
    return next(s for o in document["organisations"] for e in o["exchanges"] for s in e["sessions"] if s["code"] == code)


def test_a_decline_in_the_attendees_own_calendar_is_read_back_and_the_day_not_written(calendar_network, cyrus):
    network = calendar_network
    first = run_sync(network.config(), AS_OF)
    assert first.status == "ok", first.errors
    assert responses(network)["S-04-D1"][ADDRESS] == "notResponded"  # the first read takes in every object
    decline_in_own_calendar(cyrus, network, "S-04-D1")

    answered = run_sync(network.config(), AS_OF)
    assert answered.status == "ok", answered.errors
    assert answered.declined == [{"target": TARGET, "session": "S-04-D1", "attendee": ADDRESS}]
    assert answered.requests[f"caldav:{TARGET}"] == 1  # one sync-collection REPORT brought the change and its data
    assert responses(network)["S-04-D1"][ADDRESS] == "declined"
    assert responses(network)["S-04-D2"][ADDRESS] == "notResponded"
    shown = session_status(network, "S-04-D1")
    assert shown["state"] == "declined" and shown["declined"] == [ADDRESS]

    quiet = run_sync(network.config(), AS_OF)
    assert quiet.declined == [] and quiet.requests == {f"caldav:{TARGET}": 1}  # nothing changed: one request

    # Once the days are behind us the declined one counts nowhere, the other does (policy "not_declined").
    after = run_sync(network.config(), datetime.combine(_shifted_date("20/05/2027"), datetime.min.time(), ZoneInfo("Europe/Brussels")))
    assert {d["session"]: d["reason"] for d in after.not_counted}["S-04-D1"] == "declined in the calendar"
    rows = ledger(network, "petits-pas")
    assert "exchange:S-04-D1" not in rows and rows["exchange:S-04-D2"]["status"] == "recorded"


def test_an_answer_the_sheet_contradicts_loses_and_a_stale_sync_token_starts_over(calendar_network, cyrus):
    network = calendar_network
    run_sync(network.config(), AS_OF)
    decline_in_own_calendar(cyrus, network, "S-04-D1")
    # A sync-token the server no longer knows (RFC 6578 section 3.2: DAV:valid-sync-token): read all again.
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db, db.begin():
        from connector.store.tables import Cursor

        cursor = db.get(Cursor, (f"target/{TARGET}", "responses"))
        assert cursor is not None and '"token"' in cursor.value
        cursor.value = '{"token": "data:,1-999999"}'
    engine.dispose()
    answered = run_sync(network.config(), AS_OF)
    assert answered.status == "ok", answered.errors
    assert answered.declined == [{"target": TARGET, "session": "S-04-D1", "attendee": ADDRESS}]
    assert answered.requests[f"caldav:{TARGET}"] == 2  # refused (403), then everything from no token
    # The sheet says she came after all: the day counts.
    network.edit_csv("cohort/sessies.csv", FIRST_DAY + _shifted("11/05/2027") + ";08:30;16:00;ter plaatse;;7;",
                     FIRST_DAY + _shifted("11/05/2027") + ";08:30;16:00;ter plaatse;;7;aanwezig")
    run_sync(network.config(), datetime.combine(_shifted_date("20/05/2027"), datetime.min.time(), ZoneInfo("Europe/Brussels")))
    assert ledger(network, "petits-pas")["exchange:S-04-D1"]["status"] == "recorded"


def test_objects_we_did_not_write_are_left_alone(calendar_network, cyrus):
    network = calendar_network
    run_sync(network.config(), AS_OF)
    start = (AS_OF + timedelta(days=30)).strftime("%Y%m%dT100000Z")
    foreign = (f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//someone else//EN\r\nBEGIN:VEVENT\r\nUID:foreign-{network.uid_domain}\r\n"
               f"DTSTAMP:20261201T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:Staff meeting\r\n"
               f"ORGANIZER:mailto:switch@{DOMAIN}\r\nATTENDEE;SCHEDULE-AGENT=CLIENT;PARTSTAT=DECLINED:mailto:{ADDRESS}\r\n"
               "END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert requests.put(network.calendar + "foreign.ics", data=foreign, auth=("switch", PASSWORD),
                        headers={"Content-Type": "text/calendar"}, timeout=30).status_code == 201
    seen = run_sync(network.config(), AS_OF)
    assert seen.status == "ok" and seen.declined == [] and not seen.errors
    assert "foreign" not in " ".join(responses(network))


# -- a server without sync-collection: the ETags are compared ---------------------------------

class _WithoutSync(BaseHTTPRequestHandler):
    """Forwards everything to Radicale except a sync-collection REPORT, which it answers 501 as a
    WebDAV server without RFC 6578 does: a real calendar server that lacks the one feature."""

    upstream = ""

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.command == "REPORT" and b"sync-collection" in body:
            self.send_response(501)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        answer = requests.request(self.command, self.upstream + self.path, data=body, headers=headers, timeout=30)
        self.send_response(answer.status_code)
        for key, value in answer.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = _forward  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def radicale_without_sync(network, monkeypatch, request):
    from tests.fakes.caldav_server import PASSWORD as RADICALE_PASSWORD
    from tests.fakes.caldav_server import USERNAME, Radicale

    server = Radicale().start()
    handler = type("Handler", (_WithoutSync,), {"upstream": server.base})
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    monkeypatch.setenv("ST_TEST_CALDAV_PASSWORD", RADICALE_PASSWORD)
    network.add_before_cohort(f"""[caldav]
url = "http://127.0.0.1:{proxy.server_address[1]}/{USERNAME}/switching-talent/"
username = "{USERNAME}"
password = "${{ST_TEST_CALDAV_PASSWORD}}"
""")
    yield network, server
    proxy.shutdown()
    server.stop()


def test_without_sync_collection_the_etags_are_compared(radicale_without_sync):
    from tests.fakes.caldav_server import PASSWORD as RADICALE_PASSWORD
    from tests.fakes.caldav_server import USERNAME

    network, radicale = radicale_without_sync
    moment = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
    first = run_sync(network.config(), moment)
    assert first.status == "ok", first.errors
    assert first.requests[f"caldav:{TARGET}"] == 19 + 3  # the PUTs (the 2 group moments too); the refused REPORT, a PROPFIND and one multiget
    assert run_sync(network.config(), moment).requests == {f"caldav:{TARGET}": 1}  # the PROPFIND: every ETag as it was
    # The organizer's calendar program files Amélie's decline into its copy (RFC 6638 section 3.2.2.1 by hand).
    [name] = [n for n, data in radicale.objects().items() if b"20270511" in data and b"amelie" in data]
    calendar = vobject.readOne(radicale.objects()[name].decode())
    for attendee in calendar.vevent.contents["attendee"]:
        if attendee.value.lower() == "mailto:amelie.dubois@lespetitspas.be":
            attendee.params["PARTSTAT"] = ["DECLINED"]
    edited = calendar.serialize()
    assert requests.put(radicale.collection + name, data=edited.encode(), auth=(USERNAME, RADICALE_PASSWORD), timeout=10).status_code in (201, 204)
    answered = run_sync(network.config(), moment)
    assert answered.requests == {f"caldav:{TARGET}": 2}  # the PROPFIND, one multiget for the changed object
    assert answered.declined == [{"target": TARGET, "session": "S-04-D1", "attendee": "amelie.dubois@lespetitspas.be"}]


def test_a_calendar_of_a_principal_that_is_not_the_organizer_gets_no_answers(calendar_network, cyrus):
    """The recommended login (README): cohort@'s own calendar. Cyrus files Amélie's reply into the
    organizer's (switch@) copy only, so the connector reads nothing there (RFC 6638 3.2.2.1)."""
    network = calendar_network
    other = cyrus.calendar("cohort", network.calendar.rstrip("/").rsplit("/", 1)[-1])
    network.replace(f'url = "{network.calendar}"\nusername = "switch"', f'url = "{other}"\nusername = "cohort"')
    assert run_sync(network.config(), AS_OF).status == "ok"
    decline_in_own_calendar(cyrus, network, "S-04-D1")
    quiet = run_sync(network.config(), AS_OF)
    assert quiet.status == "ok" and quiet.declined == [] and responses(network)["S-04-D1"][ADDRESS] == "notResponded"
