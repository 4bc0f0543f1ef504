"""Microsoft 365 end to end: the whole sync against the loopback fake Graph over HTTPS."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from connector.engine.sync import run_sync
from connector.plumbing.msgraph import _caches
from connector.sinks.msgraph import KEY_PROPERTY
from tests.conftest import Network, dies_after_delivery
from tests.fakes.faults import forget_transaction_ids, lose_answers
from tests.fakes.graph_server import CLIENT_SECRET, TENANT, FakeGraph

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
MAILBOX = "switch@lerenswitchen.be"
GROENKRACHT = [("G101", "Koen", "Vermeulen"), ("G102", "Ayşe", "Yılmaz"), ("G104", "Marieke", "Janssens"), ("G106", "Chloé", "Lambert"),
               ("G110", "Jelle", "Peeters")]


@pytest.fixture
def fake():
    graph = groenkracht_in_graph()
    yield graph
    graph.stop()


def groenkracht_in_graph() -> FakeGraph:
    """A started Graph stand-in whose directory holds Groenkracht's staff."""
    graph = FakeGraph(page_size=2).start()
    for number, given, surname in GROENKRACHT:
        address = f"{given.lower()[:4]}.{surname.lower()[:4]}@groenkracht.be"
        graph.add_user({"id": f"00000000-0000-0000-0000-0000000{number[1:]}", "givenName": given, "surname": surname, "mail": address,
                        "userPrincipalName": address, "employeeId": number, "jobTitle": "Medewerker", "companyName": "Atelier Groenkracht",
                        "accountEnabled": True, "preferredLanguage": "nl-BE"})
    return graph


@pytest.fixture
def network(sqlite_network, fake, monkeypatch):
    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", CLIENT_SECRET)
    return invite_through_outlook(sqlite_network, fake)


@pytest.fixture
def on_either_store(store_url, tmp_path, fake, monkeypatch):
    """The same network on SQLite and on PostgreSQL, for what must hold on both."""
    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", CLIENT_SECRET)
    return invite_through_outlook(Network(tmp_path / "either-store", store_url), fake)


GROENKRACHT_IN_ENTRA = """
  [[organisations.sources]]
  name = "m365"
  kind = "msgraph_users"
  tenant = "partner"
  entities = ["people"]
  authoritative = false
"""


def invite_through_outlook(sqlite_network, fake):
    """Zonneke and Groenkracht invited through the project mailbox in `fake` (needs ST_TEST_GRAPH_SECRET)."""
    sqlite_network.add_before_cohort(fake.tenant_toml() + f"""
[channels.msgraph]
tenant = "partner"
mailbox = "{MAILBOX}"
invite_hr = true
""")
    sqlite_network.add_to_organisation("groenkracht", GROENKRACHT_IN_ENTRA)
    for organisation in ("zonneke", "groenkracht"):
        sqlite_network.route(organisation, "msgraph")
    text = sqlite_network.config_path.read_text()
    text = text.replace('address = "Zelebaan 42, 9160 Lokeren"\nlanguage = "nl"\ninvitations = "msgraph"',
                        'address = "Zelebaan 42, 9160 Lokeren"\nlanguage = "nl"\ninvitations = "msgraph"\nhr_email = "hr@groenkracht.be"')
    sqlite_network.config_path.write_text(text)
    return sqlite_network


def query_refs(network, session_code: str):
    from sqlalchemy import select

    from connector.store.db import open_engine, session_factory
    from connector.store.tables import ExternalRef

    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        ref = db.scalar(select(ExternalRef).where(ExternalRef.target == "invitations-msgraph", ExternalRef.object_id == session_code))
    engine.dispose()
    return ref


def live_events(fake) -> dict[str, dict]:
    found = {}
    for event in fake.mailbox(MAILBOX).values():
        key = next(p["value"] for p in event["singleValueExtendedProperties"] if p["id"] == KEY_PROPERTY)
        assert key not in found, f"two events for {key}"
        found[key] = event
    return found


def test_users_sync_fully_then_only_the_delta(network, fake):
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok", first.errors
    assert first.pulled["people"]["created"] == 34 + 5
    before = fake.graph_requests
    fake.update_user("00000000-0000-0000-0000-0000000101", jobTitle="Teamleider")
    second = run_sync(network.config(), MOMENT)
    assert second.pulled["people"]["updated"] == 1 and second.pulled["people"]["created"] == 0
    assert fake.graph_requests - before == 2  # the users delta and the calendar's (answers): no invitation writes


def users_only(sqlite_network, fake, monkeypatch):
    """Groenkracht's people from the fake Graph, nothing written to Outlook."""
    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", CLIENT_SECRET)
    sqlite_network.add_before_cohort(fake.tenant_toml())
    sqlite_network.add_to_organisation("groenkracht", GROENKRACHT_IN_ENTRA)
    return sqlite_network


def test_a_run_with_nothing_new_makes_a_token_request_and_one_delta_request(sqlite_network, fake, monkeypatch):
    network = users_only(sqlite_network, fake, monkeypatch)
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok", first.errors
    discovery = f"GET /{TENANT}/v2.0/.well-known/openid-configuration"
    assert fake.operations[discovery] == 1
    kept = network.root / "state" / "msal-http-cache.json"
    assert kept.stat().st_mode & 0o777 == 0o600
    assert CLIENT_SECRET not in kept.read_text() and not any(token in kept.read_text() for token in fake.tokens)
    _caches.clear()  # as in the next night's process: the discovery answer comes from the file
    before = dict(fake.operations)
    again = run_sync(network.config(), MOMENT)
    assert again.status == "ok", again.errors
    assert again.pulled["people"]["created"] == again.pulled["people"]["updated"] == 0
    used = {k: v - before.get(k, 0) for k, v in fake.operations.items() if v - before.get(k, 0)}
    assert used == {f"POST /{TENANT}/oauth2/v2.0/token": 1, "GET /users/delta": 1}


def test_an_unreadable_discovery_cache_is_started_afresh(sqlite_network, fake, monkeypatch):
    network = users_only(sqlite_network, fake, monkeypatch)
    (network.root / "state").mkdir(exist_ok=True)
    (network.root / "state" / "msal-http-cache.json").write_text('{"partner": {"key": {"status_code": 200}', encoding="utf-8")
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert fake.operations[f"GET /{TENANT}/v2.0/.well-known/openid-configuration"] == 1
    assert json.loads((network.root / "state" / "msal-http-cache.json").read_text())["partner"]


def test_invitations_are_created_once_then_updated_and_cancelled_in_the_same_event(network, fake):
    summary = run_sync(network.config(), MOMENT)
    # the .ics copies and the Outlook invitations (15 sessions, 2 reminders, the cohort's kick-off and terugkommoment)
    assert summary.invites["created"] == 19 + 19
    events = live_events(fake)
    assert len(events) == 19
    kickoff = events["leren-switchen/GM-KICKOFF"]  # online: a Teams meeting, for the people of Zonneke and Groenkracht
    assert kickoff["isOnlineMeeting"] is True and kickoff["onlineMeetingProvider"] == "teamsForBusiness"
    assert {a["emailAddress"]["address"].split("@")[1] for a in kickoff["attendees"]} == {"zonneke.be", "groenkracht.be"}
    intro = events["leren-switchen/S-04-INTRO"]
    assert intro["start"] == {"dateTime": "2027-04-19T10:00:00", "timeZone": "Romance Standard Time"}
    assert intro["isOnlineMeeting"] is True and intro["onlineMeetingProvider"] == "teamsForBusiness"
    stored = query_refs(network, "S-04-INTRO")
    assert stored.remote_id == intro["id"] and stored.uid == intro["iCalUId"]
    assert stored.details["join_url"] == intro["onlineMeeting"]["joinUrl"] and stored.details["join_url"].startswith("https://teams.microsoft.com/")
    assert [a["emailAddress"]["address"] for a in intro["attendees"]] == ["nele.geerts@zonneke.be"]  # Amélie's crèche is invited by file
    day = events["leren-switchen/S-06-D1"]
    assert [(a["emailAddress"]["address"], a["type"]) for a in day["attendees"]] == [("koen.vermeulen@groenkracht.be", "required"),
                                                                                     ("hr@groenkracht.be", "optional")]
    assert day["location"] == {"displayName": "Diestsesteenweg 310, 3010 Leuven"} and day["isOnlineMeeting"] is False
    assert "Leervraag: Hoe plan je onderhoudswerven" in day["body"]["content"] and day["body"]["contentType"] == "HTML"
    assert max(fake.batch_sizes) <= 20

    writes_before = fake.graph_requests
    again = run_sync(network.config(), MOMENT)
    assert sum(again.invites.values()) == 0 and fake.graph_requests - writes_before == 2  # only the two delta requests

    network.edit_csv("cohort/sessies.csv", "S-06-D1;EX-06;uitwisselingsdag;13/06/2028", "S-06-D1;EX-06;uitwisselingsdag;20/06/2028")
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
    changed = run_sync(network.config(), MOMENT)
    assert changed.status == "ok", changed.errors
    assert dict(changed.invites) == {"created": 0, "updated": 2, "cancelled": 6}  # each in the .ics copy and in Outlook
    events = live_events(fake)
    assert len(events) == 19 and events["leren-switchen/S-06-D1"]["id"] == day["id"]
    assert events["leren-switchen/S-06-D1"]["start"]["dateTime"] == "2028-06-20T08:00:00"
    assert all(events[f"leren-switchen/{code}"]["isCancelled"] for code in ("S-05-INTRO", "S-05-D1", "S-05-EVAL"))


def test_a_crash_between_create_and_bookkeeping_leaves_no_duplicate(network, fake):
    with dies_after_delivery("invitations-msgraph"):  # the process dies right after Graph created the events
        run_sync(network.config(), MOMENT)
    assert len(live_events(fake)) == 19  # 17 + the 2 group moments
    network.edit_csv("cohort/sessies.csv", "S-06-D1;EX-06;uitwisselingsdag;13/06/2028", "S-06-D1;EX-06;uitwisselingsdag;20/06/2028")
    recovered = run_sync(network.config(), MOMENT)
    assert recovered.status == "ok", recovered.errors
    events = live_events(fake)  # asserts one event per key
    assert len(events) == 19 and events["leren-switchen/S-06-D1"]["start"]["dateTime"] == "2028-06-20T08:00:00"
    assert sum(run_sync(network.config(), MOMENT).invites.values()) == 0


def test_throttling_and_an_expiring_token_do_not_stop_the_run(network, fake, monkeypatch):
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    fake.throttle(3, retry_after=1)
    fake.expire_tokens(after_requests=6)
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert len(live_events(fake)) == 19  # 17 + the 2 group moments
    assert fake.requests["login"] == 1 + 2  # discovery once; a token, then a new one after the expiry


def test_wrong_client_secret_is_reported_per_target_and_files_still_go_out(network, fake, monkeypatch):
    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", "wrong-secret-value")
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "partial"
    assert summary.invites["created"] == 19  # the .ics copies (17 + the 2 group moments)
    messages = " ".join(e.message for e in summary.errors)
    assert "invalid_client" in messages and "wrong-secret-value" not in str(summary.as_dict())
    assert not fake.mailbox(MAILBOX)


def test_a_declined_invitation_is_flagged_once(network, fake):
    run_sync(network.config(), MOMENT)
    day = live_events(fake)["leren-switchen/S-06-D1"]
    fake.respond(day["id"], "koen.vermeulen@groenkracht.be", "declined")
    fake.respond(live_events(fake)["leren-switchen/S-04-D1"]["id"], "nele.geerts@zonneke.be", "accepted")
    summary = run_sync(network.config(), MOMENT)
    assert summary.declined == [{"target": "invitations-msgraph", "session": "S-06-D1", "attendee": "koen.vermeulen@groenkracht.be"}]
    assert run_sync(network.config(), MOMENT).declined == []  # flagged when it happens, not every night


def test_overlaps_in_a_connected_attendees_calendar_are_listed(network, fake):
    # Koen (groenkracht, connected through msgraph_users) has a dentist appointment during his exchange day.
    fake.busy["koen.vermeulen@groenkracht.be"] = [("2028-06-13T10:00:00", "2028-06-13T11:00:00", "oof")]
    summary = run_sync(network.config(), MOMENT)
    assert summary.conflicts == [{"target": "invitations-msgraph", "session": "S-06-D1", "attendee": "koen.vermeulen@groenkracht.be",
                                  "start": "2028-06-13T10:00:00+00:00", "end": "2028-06-13T11:00:00+00:00", "status": "oof"}]
    assert run_sync(network.config(), MOMENT).conflicts == []  # only sessions written in a run are checked


def test_a_group_scope_follows_members_who_join_or_leave_without_changing(network, fake):
    ids = {number: f"00000000-0000-0000-0000-0000000{number[1:]}" for number, *_ in GROENKRACHT}
    fake.groups["4c1f0a7e-group-switchers"] = {ids["G101"], ids["G102"], ids["G104"]}
    network.config_path.write_text(network.config_path.read_text().replace(
        '  kind = "msgraph_users"\n  tenant = "partner"\n', '  kind = "msgraph_users"\n  tenant = "partner"\n  group = "4c1f0a7e-group-switchers"\n'))
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok", first.errors
    assert first.pulled["people"]["created"] == 34 + 3  # only the group's members from the directory
    fake.groups["4c1f0a7e-group-switchers"] = {ids["G101"], ids["G102"], ids["G110"]}  # Marieke leaves, Jelle joins
    before = dict(fake.operations)
    second = run_sync(network.config(), MOMENT)
    assert second.status == "ok", second.errors
    assert (second.pulled["people"]["created"], second.pulled["people"]["removed"]) == (1, 1)
    used = {k: v - before.get(k, 0) for k, v in fake.operations.items() if v - before.get(k, 0) and "oauth2" not in k and "well-known" not in k}
    assert used == {"GET /users/delta": 1, "GET /groups/4c1f0a7e-group-switchers/transitiveMembers/microsoft.graph.user": 1,
                    "POST /$batch": 1, "POST /$batch (users)": 1, "GET /users/{id}/calendarView/delta": 1}
    assert run_sync(network.config(), MOMENT).pulled["people"]["created"] == 0


def certificate(folder) -> tuple:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "st-connector")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    path = folder / "connector-key.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert, path, cert.fingerprint(hashes.SHA1()).hex().upper()


def test_sign_in_with_a_certificate_instead_of_a_secret(network, fake, tmp_path):
    cert, key_path, thumbprint = certificate(tmp_path)
    text = network.config_path.read_text().replace('client_secret = "${ST_TEST_GRAPH_SECRET}"',
                                                   f'certificate_path = "{key_path}"\ncertificate_thumbprint = "{thumbprint}"')
    network.config_path.write_text(text)
    refused = run_sync(network.config(), MOMENT)
    assert refused.status == "partial" and "invalid_client" in " ".join(e.message for e in refused.errors)  # not registered yet
    fake.certificates.append(cert)
    accepted = run_sync(network.config(), MOMENT)
    assert accepted.status == "ok", accepted.errors
    assert accepted.pulled["people"]["created"] == 5 and len(live_events(fake)) == 19  # 17 + the 2 group moments


def test_a_large_group_is_read_past_its_first_page_as_an_advanced_query(network, fake):
    """Finding 7: the cast transitiveMembers/microsoft.graph.user is an advanced query; Graph
    (and the stand-in, by the contract) refuses it without ConsistencyLevel: eventual and
    $count=true. 150 members: two pages of 100."""
    ids = {number: f"00000000-0000-0000-0000-0000000{number[1:]}" for number, *_ in GROENKRACHT}
    others = {f"99999999-0000-4000-8000-{n:012d}" for n in range(147)}  # members that are no users of this listing
    fake.groups["4c1f0a7e-group-switchers"] = {ids["G101"], ids["G102"], ids["G104"], *others}
    network.config_path.write_text(network.config_path.read_text().replace(
        '  kind = "msgraph_users"\n  tenant = "partner"\n', '  kind = "msgraph_users"\n  tenant = "partner"\n  group = "4c1f0a7e-group-switchers"\n'))
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    assert summary.pulled["people"]["created"] == 34 + 3
    assert fake.operations["GET /groups/4c1f0a7e-group-switchers/transitiveMembers/microsoft.graph.user"] == 2


def test_leave_dates_that_never_arrive_are_reported_once_accounts_are_disabled(network, fake):
    """Finding 10: without User-LifeCycleInfo.Read.All Graph returns employeeLeaveDateTime as
    null, so end dates silently stay empty; the summary says so."""
    fake.update_user("00000000-0000-0000-0000-0000000106", accountEnabled=False)  # Chloé left, but no leave date arrives
    summary = run_sync(network.config(), MOMENT)
    warning = [e.message for e in summary.errors if e.source == "groenkracht/m365"]
    assert len(warning) == 1 and "User-LifeCycleInfo.Read.All" in warning[0]


def test_a_leave_date_that_arrives_raises_no_warning(network, fake):
    fake.update_user("00000000-0000-0000-0000-0000000106", accountEnabled=False, employeeLeaveDateTime="2027-01-31T00:00:00Z")  # after EX-03, which G106 coaches
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors


def events_by_key(fake) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for event in fake.mailbox(MAILBOX).values():
        key = next(p["value"] for p in event["singleValueExtendedProperties"] if p["id"] == KEY_PROPERTY)
        found.setdefault(key, []).append(event)
    return found


def test_a_lost_batch_answer_creates_nothing_twice_even_without_transaction_ids(on_either_store, fake):
    network = on_either_store
    forget_transaction_ids(fake)  # as a server that does not deduplicate them would
    lost = lose_answers(fake, "POST", r"/\$batch$", times=1)  # the first batch of creations lands; its answer does not
    summary = run_sync(network.config(), MOMENT)
    assert lost and summary.status == "ok", summary.errors
    events = events_by_key(fake)
    assert len(events) == 19 and all(len(copies) == 1 for copies in events.values())  # 17 + the 2 group moments
    assert sum(run_sync(network.config(), MOMENT).invites.values()) == 0 and len(fake.mailbox(MAILBOX)) == 19


def test_a_batch_item_answered_502_is_looked_up_not_created_again(on_either_store, fake):
    network = on_either_store
    forget_transaction_ids(fake)
    real = fake.route

    def gateway(method, path, query, body):  # the event is made, the item's answer is a gateway's 502
        status, headers, answer = real(method, path, query, body)
        if method == "POST" and path.endswith("/events") and not gateway.done:
            gateway.done = True
            return 502, {}, {"error": {"code": "BadGateway", "message": "upstream timed out"}}
        return status, headers, answer

    gateway.done = False
    fake.route = gateway
    summary = run_sync(network.config(), MOMENT)
    assert gateway.done and summary.status == "ok", summary.errors
    assert all(len(copies) == 1 for copies in events_by_key(fake).values()) and len(fake.mailbox(MAILBOX)) == 19  # with the 2 group moments


def test_cancel_confirm_again_crash_then_move_moves_the_live_event(on_either_store, fake):
    network = on_either_store
    assert run_sync(network.config(), MOMENT).status == "ok"
    confirmed, cancelled = "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd"
    network.edit_csv("cohort/uitwisselingen.csv", confirmed, cancelled)
    assert run_sync(network.config(), MOMENT).status == "ok"
    network.edit_csv("cohort/uitwisselingen.csv", cancelled, confirmed)
    with dies_after_delivery("invitations-msgraph"):  # new events for EX-05 exist in Outlook; our books do not say so
        run_sync(network.config(), MOMENT)
    recovered = run_sync(network.config(), MOMENT)
    assert recovered.status == "ok", recovered.errors
    network.edit_csv("cohort/sessies.csv", "S-05-D1;EX-05;uitwisselingsdag;16/11/2027", "S-05-D1;EX-05;uitwisselingsdag;23/11/2027")
    moved = run_sync(network.config(), MOMENT)
    assert moved.status == "ok", moved.errors
    copies = events_by_key(fake)["leren-switchen/S-05-D1"]
    live = [event for event in copies if not event["isCancelled"]]
    assert len(copies) == 2 and len(live) == 1  # the cancelled first event, and the one attendees hold now
    assert live[0]["start"]["dateTime"].startswith("2027-11-23T")
    assert query_refs(network, "S-05-D1").remote_id == live[0]["id"]


def test_an_empty_store_binds_to_the_outlook_events_it_made_before_and_moves_them(network, fake, tmp_path):
    """The store replaced by an empty one (a lost disk, a new server without `store copy`):
    every session is looked up by our key, so Outlook keeps one event each and a move moves it."""
    assert run_sync(network.config(), MOMENT).status == "ok"
    before = {key: len(copies) for key, copies in events_by_key(fake).items()}
    fresh = f"sqlite:///{tmp_path / 'fresh' / 'connector.db'}"
    network.replace(f'url = "{network.store_url}"', f'url = "{fresh}"')
    network.store_url = fresh
    network.edit_csv("cohort/sessies.csv", "S-05-D1;EX-05;uitwisselingsdag;16/11/2027", "S-05-D1;EX-05;uitwisselingsdag;23/11/2027")
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    after = events_by_key(fake)
    assert {key: len(copies) for key, copies in after.items()} == before  # not one event twice
    (moved,) = after["leren-switchen/S-05-D1"]
    assert moved["start"]["dateTime"].startswith("2027-11-23T") and not moved["isCancelled"]
