"""The partner's web pages (issue 17): personal links, the coordinator overview and their
defences, driven through Starlette's TestClient on the example network after a real sync."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from connector.core.links import Link, LinkError, read_link, sign_link
from connector.core.texts import text
from connector.engine.sync import run_sync
from connector.store.db import open_engine, session_factory
from connector.store.erasure import erase_person
from connector.store.tables import Answer, Exchange, Person, TrainingRecord
from connector.web.app import create_app, negotiate
from connector.web.results import COLUMNS
from connector.web.security import hash_password
from tests.conftest import Network

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
NEW_KEY, OLD_KEY = "new-link-key-0123456789abcdef0123456789", "old-link-key-0123456789abcdef0123456789"
PASSWORD = "correct horse battery staple"
HASH = hash_password(PASSWORD)
NOT_SAID = "S-01-D2;EX-01;uitwisselingsdag;05/12/2025;08:30;16:00;ter plaatse;;7;"
ABSENT = NOT_SAID + "afwezig"
WEB = f"""
[web]
base_url = "https://st.example.be"
session_secret = "test-session-secret-0123456789abcdef0123"
link_keys = ["{NEW_KEY}", "{OLD_KEY}"]
login_attempts = 3

[[web.accounts]]
name = "coordinator"
password_hash = "{HASH}"
language = "en"

[[web.accounts]]
name = "zonneke-hr"
password_hash = "{HASH}"
organisations = ["zonneke"]
"""


def shown(response) -> str:
    """The page's text as a reader sees it (entities such as &#39; decoded)."""
    return html.unescape(response.text)


def with_web(network):
    network.config_path.write_text(network.config_path.read_text(encoding="utf-8") + WEB, encoding="utf-8")
    return network


class Site:
    """One synced network, its app, and a TestClient speaking https as the reverse proxy would."""

    def __init__(self, network, now: datetime = MOMENT, store_url: str | None = None) -> None:
        self.network = network
        self.config = network.config()
        self.engine = open_engine(store_url or network.store_url)
        self.now = now
        self.client = TestClient(create_app(self.config, self.engine, clock=lambda: self.now), base_url="https://testserver")

    def db(self):
        return session_factory(self.engine)()

    def ids(self, exchange: str) -> tuple[str, list[str]]:
        with self.db() as db:
            row = db.get(Exchange, exchange)
            return row.switcher_id, list(row.coach_ids)

    def link(self, subject: str, exchange: str, purpose: str, role: str, days: int = 30, keys: list[str] | None = None,
             session: str = "") -> str:
        token = sign_link(keys or [NEW_KEY], Link(subject, exchange, purpose, role, self.now + timedelta(days=days), session))
        return f"/l/{token}"

    def csrf(self, path: str) -> str:
        page = self.client.get(path)
        return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)

    def answers(self) -> list[Answer]:
        with self.db() as db:
            found = list(db.scalars(select(Answer).order_by(Answer.id)))
            db.expunge_all()
        return found

    def day_records(self) -> set[str]:
        """The exchange days the training account holds."""
        with self.db() as db:
            return set(db.scalars(select(TrainingRecord.session_code).where(TrainingRecord.origin == "exchange")))

    def login(self, name: str = "coordinator", password: str = PASSWORD):
        return self.client.post("/login", data={"name": name, "password": password, "csrf": self.csrf("/login")}, follow_redirects=False)

    def close(self) -> None:
        self.client.close()
        self.engine.dispose()


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """The example network with [web], synced once for the whole module (SQLite)."""
    root = tmp_path_factory.mktemp("synced")
    network = with_web(Network(root, f"sqlite:///{root / 'state' / 'connector.db'}"))
    assert run_sync(network.config(), MOMENT).status == "ok"
    return network


@pytest.fixture
def reader(synced):
    """A site on the module's synced store, for tests that write nothing to it (a login's
    throttle and session live in the app and its client, both new per test)."""
    built = Site(synced)
    yield built
    assert built.answers() == [], "a test on the shared store wrote to it: give it `site` (a copy)"
    built.close()


@pytest.fixture
def site(synced, tmp_path):
    """A site on a copy of the module's synced store (SQLite's online backup: a consistent
    copy even with the WAL), for tests that write answers or change people."""
    copy = tmp_path / "connector.db"
    source = sqlite3.connect(synced.store_url.removeprefix("sqlite:///"))
    target = sqlite3.connect(copy)
    with target:
        source.backup(target)
    source.close()
    target.close()
    built = Site(synced, store_url=f"sqlite:///{copy}")
    yield built
    built.close()


@pytest.fixture
def both(network):
    run_sync(with_web(network).config(), MOMENT)
    built = Site(network)
    yield built
    built.close()


# -- the tokens ---------------------------------------------------------------------------

def test_a_link_holds_its_person_exchange_and_purpose_until_it_expires():
    link = Link("p-1", "EX-01", "evaluation", "coach", datetime(2027, 1, 1, tzinfo=UTC))
    token = sign_link([NEW_KEY, OLD_KEY], link)
    assert read_link([NEW_KEY], token, datetime(2026, 12, 31, tzinfo=UTC)) == link
    assert sign_link([NEW_KEY], link) == token  # the same link is the same string: a re-sync sends nothing new
    with pytest.raises(LinkError, match="expired"):
        read_link([NEW_KEY], token, datetime(2027, 1, 1, tzinfo=UTC))


def test_rotation_the_newest_key_signs_and_every_configured_key_verifies():
    link = Link("p-1", "EX-01", "evaluation", "switcher", datetime(2027, 1, 1, tzinfo=UTC))
    old = sign_link([OLD_KEY], link)
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    assert read_link([NEW_KEY, OLD_KEY], old, moment) == link  # still configured: still opens
    with pytest.raises(LinkError, match="invalid"):
        read_link([NEW_KEY], old, moment)  # the old key dropped: no longer opens


@pytest.mark.parametrize("tamper", ["payload", "signature", "none", "garbage"])
def test_a_forged_or_altered_token_is_invalid(tamper):
    import base64
    import json

    import jwt

    link = Link("p-1", "EX-01", "evaluation", "switcher", datetime(2027, 1, 1, tzinfo=UTC))
    header, payload, signature = sign_link([NEW_KEY], link).split(".")
    if tamper == "payload":  # another exchange, the signature kept
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        forged = f"{header}.{base64.urlsafe_b64encode(json.dumps({**claims, 'exc': 'EX-02'}).encode()).decode().rstrip('=')}.{signature}"
    elif tamper == "signature":
        forged = f"{header}.{payload}.{signature[:-4]}AAAA"
    elif tamper == "none":  # the "alg: none" trick of RFC 8725 section 2.1
        forged = jwt.encode({"sub": "p-1", "exc": "EX-01", "pur": "evaluation", "rol": "switcher", "exp": 1900000000}, None,
                            algorithm="none", headers={"kid": header})
    else:
        forged = "not-a-token"
    with pytest.raises(LinkError, match="invalid"):
        read_link([NEW_KEY], forged, datetime(2026, 12, 1, tzinfo=UTC))


def test_accept_language_picks_the_first_supported_language():
    assert negotiate("fr-BE,fr;q=0.9,en;q=0.8") == "fr"
    assert negotiate("de-DE, en;q=0.5, nl;q=0.7") == "nl"
    assert negotiate("de, es") == "nl" and negotiate(None) == "nl"


# -- the pages' defences ------------------------------------------------------------------

def test_every_page_carries_the_security_headers_and_the_cookie_is_httponly_secure_samesite(reader):
    response = reader.client.get("/login")
    assert response.status_code == 200
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"] and "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer" and headers["strict-transport-security"].startswith("max-age=")
    cookie = headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
    assert reader.client.get("/l/garbage").headers["referrer-policy"] == "no-referrer"


def test_login_needs_the_csrf_token_the_right_password_and_then_shows_the_overview(reader):
    assert reader.client.get("/", follow_redirects=False).headers["location"] == "/login"
    refused = reader.client.post("/login", data={"name": "coordinator", "password": PASSWORD})
    assert refused.status_code == 403 and "This form has expired" not in refused.text  # Accept-Language absent: Dutch
    assert "Dit formulier is verlopen" in refused.text
    assert reader.login(password="wrong").status_code == 401
    assert reader.login().status_code == 303
    overview = reader.client.get("/")
    assert overview.status_code == 200 and "Overview of the learning exchanges" in overview.text  # the account's language
    assert "EX-01" in overview.text and "EX-03" in overview.text
    only = reader.client.get("/?organisation=zonneke")
    assert "Kinderdagverblijf" in only.text and "EX-03" not in only.text
    logout = reader.client.post("/logout", data={"csrf": reader.csrf("/")}, follow_redirects=False)
    assert logout.status_code == 303 and reader.client.get("/", follow_redirects=False).status_code == 303


def test_an_account_limited_to_one_organisation_sees_only_it(reader):
    assert reader.login("zonneke-hr").status_code == 303
    overview = reader.client.get("/", headers={"accept-language": "fr-BE,fr;q=0.9"})
    assert "Aperçu des échanges d'apprentissage" in shown(overview)
    assert re.findall(r'<option value="([^"]*)"', overview.text.split('id="state"')[0]) == ["", "zonneke"]
    assert "Journée d'échange" in shown(overview) and ">enregistré<" in overview.text  # kinds and states in French
    assert "EX-01" in overview.text and "EX-03" not in overview.text  # 't Zonneke's switchers only (EX-03's is of Brouwers & Peeters)


def test_the_overview_filters_by_exchange_state(reader):
    reader.login()
    everything = reader.client.get("/")
    cancelled = reader.client.get("/?state=cancelled")
    shown_codes = set(re.findall(r'id="exchange-(EX-\d+)"', cancelled.text))
    assert shown_codes and shown_codes < set(re.findall(r'id="exchange-(EX-\d+)"', everything.text))
    assert "EX-10" in shown_codes  # the example's exchange cancelled after its first day


def test_failed_logins_are_throttled_per_account_and_per_address(reader):
    for _ in range(3):
        assert reader.login(password="wrong").status_code == 401
    blocked = reader.login()  # the right password, too late
    assert blocked.status_code == 429
    assert reader.login("zonneke-hr").status_code == 429  # the same address, another account


# -- personal links -----------------------------------------------------------------------

def test_a_coach_answers_the_evaluation_in_french_once_however_often_sent(site):
    switcher, (coach,) = site.ids("EX-01")
    path = site.link(coach, "EX-01", "evaluation", "coach")
    page = site.client.get(path)
    assert page.status_code == 200 and "Évaluation de l'échange d'apprentissage" in shown(page)
    token = site.csrf(path)
    incomplete = site.client.post(path, data={"csrf": token, "preparation": "7"})
    assert incomplete.status_code == 400
    assert "Choisissez un chiffre de 1 à 5." in shown(incomplete) and "Veuillez remplir ce champ." in shown(incomplete)
    assert site.answers() == []
    form = {"csrf": token, "preparation": "4", "went": "5", "coach_learned": "Un regard neuf sur nos menus"}
    assert site.client.post(path, data=form).status_code == 200
    assert site.client.post(path, data=form).status_code == 200  # a double click
    (answer,) = site.answers()
    assert (answer.subject, answer.role, answer.language) == (coach, "coach", "fr")
    assert answer.values == {"preparation": 4, "went": 5, "coach_learned": "Un regard neuf sur nos menus"}
    site.client.post(path, data={**form, "went": "3"})  # an edit replaces
    (edited,) = site.answers()
    assert edited.id == answer.id and edited.values["went"] == 3
    assert 'value="3" checked' in site.client.get(path).text  # shown again as sent


def test_links_that_do_not_hold_open_nothing(reader):
    switcher, (coach,) = reader.ids("EX-01")
    other_switcher, _ = reader.ids("EX-03")
    assert reader.client.get("/l/garbage").status_code == 404
    assert reader.client.get(reader.link(coach, "EX-01", "evaluation", "coach", keys=["an-unknown-key-0123456789abcdef01234"])).status_code == 404
    expired = reader.client.get(reader.link(coach, "EX-01", "evaluation", "coach", days=-1), headers={"accept-language": "en"})
    assert expired.status_code == 410 and "This link has expired" in expired.text
    assert reader.client.get(reader.link(other_switcher, "EX-01", "evaluation", "switcher")).status_code == 404  # another person's
    assert reader.client.get(reader.link(switcher, "EX-01", "attendance", "switcher")).status_code == 404  # coaches confirm attendance
    assert reader.client.get(reader.link(coach, "EX-99", "evaluation", "coach")).status_code == 404
    page = reader.client.get(reader.link(switcher, "EX-01", "evaluation", "switcher"))
    assert page.status_code == 200 and other_switcher not in page.text


def test_a_link_cannot_answer_about_another_exchanges_day_nor_without_csrf(site):
    _, (coach,) = site.ids("EX-01")
    path = site.link(coach, "EX-01", "attendance", "coach")
    page = site.client.get(path)
    assert "S-01-D1" in page.text and "S-02-D1" not in page.text
    token = site.csrf(path)
    other = site.client.post(path, data={"csrf": token, "session": "S-02-D1", "attendance": "absent"})
    assert other.status_code == 400 and "Choisissez une des journées d'échange de la liste." in shown(other)
    assert site.client.post(path, data={"session": "S-01-D2", "attendance": "absent"}).status_code == 403
    assert site.answers() == []


def test_a_name_with_markup_is_shown_as_text(site):
    switcher, (coach,) = site.ids("EX-01")
    with site.db() as db:
        db.get(Person, switcher).first_name = "<script>alert(1)</script>"
        db.commit()
    page = site.client.get(site.link(coach, "EX-01", "evaluation", "coach"))
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    site.login()
    overview = site.client.get("/")
    assert "<script>" not in overview.text and "&lt;script&gt;" in overview.text


def test_a_switchers_reflection_keeps_the_consent_and_appears_in_the_overview(site):
    switcher, _ = site.ids("EX-03")
    path = site.link(switcher, "EX-03", "reflection", "switcher")
    token = site.csrf(path)
    sent = site.client.post(path, data={"csrf": token, "session": "S-03-D2", "learned": "Snoeien van hagen", "consent": "yes"})
    assert sent.status_code == 200
    (answer,) = site.answers()
    assert (answer.purpose, answer.session_code, answer.consent, answer.values) == ("reflection", "S-03-D2", True,
                                                                                    {"learned": "Snoeien van hagen"})
    site.login()
    assert "Snoeien van hagen" in site.client.get("/").text


def test_link_answers_are_throttled_per_address(site):
    _, (coach,) = site.ids("EX-01")
    path = site.link(coach, "EX-01", "evaluation", "coach")
    token = site.csrf(path)
    codes = [site.client.post(path, data={"csrf": token, "preparation": "4", "went": "4"}).status_code for _ in range(31)]
    assert codes[:30] == [200] * 30 and codes[30] == 429


def test_links_that_do_not_open_are_throttled_per_address(reader):
    _, (coach,) = reader.ids("EX-01")
    good = reader.link(coach, "EX-01", "evaluation", "coach")
    assert reader.client.get(good).status_code == 200
    codes = [reader.client.get(f"/l/guess-{n}").status_code for n in range(21)]
    assert codes[:20] == [404] * 20 and codes[20] == 429
    assert reader.client.get(good).status_code == 429  # guessing from this address stops everything for a while


# -- the store: both databases --------------------------------------------------------------

def test_a_coaches_confirmation_changes_what_the_next_sync_writes_back(both):
    network = both.network
    network.edit_csv("cohort/sessies.csv", ABSENT, NOT_SAID)
    first = run_sync(network.config(), MOMENT)
    assert first.training_records["written"] >= 1 and first.status == "ok", first.errors
    _, (coach,) = both.ids("EX-01")
    path = both.link(coach, "EX-01", "attendance", "coach")
    token = both.csrf(path)
    assert both.client.post(path, data={"csrf": token, "session": "S-01-D2", "attendance": "absent"}).status_code == 200
    second = run_sync(network.config(), MOMENT)
    # the switcher's day, and the same day of the petits-pas coach's own record (coach_learning)
    assert second.training_records["retracted"] == 2, (second.training_records, second.not_counted)
    assert {d["session"]: d["reason"] for d in second.not_counted}["S-01-D2"] == "marked absent"
    network.edit_csv("cohort/sessies.csv", NOT_SAID, NOT_SAID + "aanwezig")  # the sheet says otherwise: it wins
    assert "S-01-D2" not in both.day_records()
    third = run_sync(network.config(), MOMENT)
    assert third.status == "ok" and "S-01-D2" in both.day_records(), third.errors


def test_answers_go_with_the_persons_erasure(both):
    switcher, (coach,) = both.ids("EX-03")[0], both.ids("EX-01")[1]
    for path, form in ((both.link(switcher, "EX-03", "evaluation", "switcher"), {"answered": "4", "useful": "5", "learned": "Hagen"}),
                       (both.link(coach, "EX-01", "evaluation", "coach"), {"preparation": "3", "went": "4"})):
        assert both.client.post(path, data={"csrf": both.csrf(path), **form}).status_code == 200
    with both.db() as db:
        email = db.get(Person, switcher).email
        report = erase_person(db, both.config, email, None, datetime.now(UTC))
        db.commit()
        assert report.people[0]["counts"]["removed: answers sent through personal links"] == 1
        assert db.scalar(select(func.count()).select_from(Answer)) == 1  # the coach's of another exchange stays
    assert both.client.get(both.link(switcher, "EX-03", "evaluation", "switcher")).status_code == 404


def test_two_saves_of_one_action_plan_at_the_same_moment_keep_one_and_tell_the_other(both, monkeypatch):
    """Two tabs of the switcher (two serve processes on one store, so truly at once) send the
    plan opened on the same version: one is saved, the other hears in her language that the
    plan changed meanwhile, her text kept; no database error. Each request, having read the
    latest version, waits a moment for the other to have read it too: without a lock around
    reading and saving, both read "no plan yet" and both save version 1."""
    import threading

    from connector.web import app as web_app

    switcher, _ = both.ids("EX-04")  # a French switcher
    second = Site(both.network)
    path = both.link(switcher, "EX-04", "action_plan", "switcher")
    both_read = threading.Condition()
    readers: set[int] = set()  # the store sessions (one per request) that read the latest version
    read = web_app.latest_plan

    def slow_latest_plan(db, exchange):  # type: ignore[no-untyped-def]
        found = read(db, exchange)
        with both_read:
            if id(db) not in readers:
                readers.add(id(db))
                both_read.notify_all()
                both_read.wait_for(lambda: len(readers) >= 2, timeout=1.5)
        return found

    monkeypatch.setattr(web_app, "latest_plan", slow_latest_plan)
    forms = {name: {"csrf": site.csrf(path), "version": "", "goals": f"Objectif {name}"} for name, site in (("one", both), ("two", second))}
    responses = {}

    def send(name, site):  # type: ignore[no-untyped-def]
        try:
            responses[name] = site.client.post(path, data=forms[name])
        except Exception as error:  # noqa: BLE001 - what the server raised is the finding
            responses[name] = error

    threads = [threading.Thread(target=send, args=(name, site)) for name, site in (("one", both), ("two", second))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        second.close()
    statuses = sorted(str(getattr(r, "status_code", repr(r))) for r in responses.values())
    assert statuses == ["200", "409"], responses
    told = shown(next(r for r in responses.values() if r.status_code == 409))
    assert "une version plus récente" in told
    with both.db() as db:
        versions = list(db.scalars(select(Answer).where(Answer.exchange_code == "EX-04", Answer.purpose == "action_plan")))
    (saved,) = versions
    assert saved.session_code == "v0001" and saved.values["goals"] in ("Objectif one", "Objectif two")
    mine = ({"Objectif one", "Objectif two"} - {saved.values["goals"]}).pop()
    assert saved.values["goals"] in told and mine in told  # the newest version shown, and her own text still in her form


# -- links in what is sent ------------------------------------------------------------------

def test_the_example_web_section_is_a_valid_configuration():
    """config.example.toml's commented [web] block, uncommented with its secrets filled in."""
    import tomllib

    from connector.core.config import WebConfig
    from tests.conftest import REPO

    source = (REPO / "config.example.toml").read_text(encoding="utf-8")
    block = source[source.index("# [web]"):source.index("# -- the ST-partner's cohort")]
    lines = [line[2:] if line.startswith("# ") else "" for line in block.splitlines()]
    filled = "\n".join(lines).replace("${ST_WEB_SESSION_SECRET}", "s" * 40).replace("${ST_WEB_LINK_KEY}", "k" * 40)
    document = tomllib.loads(filled.replace("${ST_WEB_ENTRA_SECRET}", "e" * 40))
    web = WebConfig.model_validate(document["web"])
    assert web.base_url == "https://st.example.be" and web.accounts[0].name == "coordinator"
    assert web.entra is not None and web.accounts[1].password_hash is None and web.accounts[1].entra_groups


def test_a_reminder_delivered_by_mail_carries_the_persons_link_which_opens_their_evaluation(sqlite_network, monkeypatch):
    import email
    import email.policy

    from tests.fakes.smtp_server import PASSWORD as SMTP_PASSWORD
    from tests.fakes.smtp_server import FakeSmtp
    from tests.test_imip import invite_by_mail

    smtp = FakeSmtp().start()
    try:
        monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
        network = with_web(invite_by_mail(sqlite_network, smtp))
        assert run_sync(network.config(), MOMENT).status == "ok"
        bodies = {}
        for received in smtp.received:
            message = email.message_from_bytes(received.data, policy=email.policy.default)
            if "na de leeruitwisseling" in message["Subject"]:  # the evaluation reminders
                plain = next(p for p in message.walk() if p.get_content_type() == "text/plain")
                bodies.setdefault(tuple(received.recipients), []).append(plain.get_content())
        assert len(bodies[("stijn@brouwers-peeters.be",)]) == 2
        links = [re.search(r"https://st\.example\.be(/l/[A-Za-z0-9_.-]+)", body) for body in bodies[("stijn@brouwers-peeters.be",)]]
        assert all(links) and "persoonlijke link, niet doorsturen" in bodies[("stijn@brouwers-peeters.be",)][0]
        invitations = {}
        for received in smtp.received:
            message = email.message_from_bytes(received.data, policy=email.policy.default)
            if "Leeruitwisselingsdag" in message["Subject"] and received.recipients == ["evelien@brouwers-peeters.be"]:
                plain = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
                invitations[message["Subject"]] = re.search(r"https://st\.example\.be(/l/[A-Za-z0-9_.-]+)", plain)
        assert invitations and all(invitations.values())  # the coach's exchange-day invitations link to the attendance
        count = len(smtp.received)
        assert run_sync(network.config(), MOMENT).status == "ok" and len(smtp.received) == count  # the same links: nothing re-sent
    finally:
        smtp.stop()
    site = Site(network)
    try:
        path = links[0].group(1)
        page = site.client.get(path)
        assert page.status_code == 200 and "Is je leervraag beantwoord?" in page.text
        form = {"csrf": site.csrf(path), "answered": "5", "useful": "4", "learned": "Werken met een bosmaaier"}
        assert site.client.post(path, data=form).status_code == 200
        (answer,) = site.answers()
        switcher, _ = site.ids("EX-03")
        assert (answer.subject, answer.exchange_code, answer.role) == (switcher, "EX-03", "switcher")
        site.login()
        assert "Werken met een bosmaaier" in site.client.get("/").text
        attendance = site.client.get(next(iter(invitations.values())).group(1))
        assert attendance.status_code == 200 and "Aanwezigheid bevestigen" in attendance.text
        assert "Er is nog geen voorbije uitwisselingsdag" in attendance.text  # the day is still ahead
    finally:
        site.close()


# -- the command line -------------------------------------------------------------------------

def test_hash_password_prints_an_argon2id_hash_of_the_prompted_password(monkeypatch, capsys):
    from argon2 import PasswordHasher

    from connector.cli import main

    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["web", "hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("$argon2id$") and PASSWORD not in printed
    assert PasswordHasher().verify(printed, PASSWORD)  # argon2-cffi's own check of the PHC string
    answers = iter([PASSWORD, "something else entirely"])
    assert main(["web", "hash-password"]) == 2
    assert "the two passwords differ" in capsys.readouterr().err


def test_serve_without_a_web_section_names_what_is_missing(sqlite_network, capsys):
    from connector.cli import main

    assert main(["serve", "--config", str(sqlite_network.config_path)]) == 2
    assert "[web] is missing" in capsys.readouterr().err
    with pytest.raises(SystemExit) as done:
        main(["serve", "--help"])
    assert done.value.code == 0 and "reverse proxy with TLS" in " ".join(capsys.readouterr().out.split())


def test_serve_refuses_more_than_one_worker_since_the_throttles_live_in_its_memory(sqlite_network, capsys):
    from connector.cli import main

    network = with_web(sqlite_network)
    assert main(["serve", "--config", str(network.config_path), "--workers", "2"]) == 2
    assert "serve runs one process (--workers 1), not 2: the login and link throttles live in its memory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert "must be 1 (the default)" in " ".join(capsys.readouterr().out.split())


def test_serve_runs_under_uvicorn_and_answers_over_http(sqlite_network):
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.conftest import REPO

    network = with_web(sqlite_network)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # WEB_CONCURRENCY would make uvicorn start workers (and fail: the app is an object); serve runs one
    server = subprocess.Popen([sys.executable, "-m", "connector.cli", "serve", "--config", str(network.config_path), "--port", str(port)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "WEB_CONCURRENCY": "2"})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, server.stderr.read() if server.poll() is not None else "no answer"
                time.sleep(0.3)
        assert response.status == 200 and "server" not in {k.lower() for k in response.headers}
        assert response.headers["X-Frame-Options"] == "DENY" and "Aanmelden" in response.read().decode()
    finally:
        server.terminate()
        server.wait(timeout=30)


# -- evaluation results and the answers export ----------------------------------------------

def answer(site, subject: str, exchange: str, role: str, values: dict, purpose: str = "evaluation", session: str = "",
           minutes: int = 0) -> None:
    """Store an answer as the link's POST does (save_answer), `minutes` after MOMENT."""
    from connector.store.answers import AnswerKey, save_answer

    with site.db() as db:
        save_answer(db, AnswerKey(subject, exchange, purpose, session), role, values, "nl", MOMENT + timedelta(minutes=minutes))
        db.commit()


def evaluations(site) -> dict:
    """A few evaluations on EX-01 ('t Zonneke's switcher) and EX-03 (Brouwers & Peeters'), the
    coach of EX-01 through the link's form as a person would."""
    switcher1, (coach1,) = site.ids("EX-01")
    switcher3, coaches3 = site.ids("EX-03")
    path = site.link(coach1, "EX-01", "evaluation", "coach")
    form = {"csrf": site.csrf(path), "preparation": "4", "went": "5", "coach_learned": "=HYPERLINK(\"http://x.invalid\",\"klik\")"}
    assert site.client.post(path, data=form).status_code == 200
    answer(site, coaches3[0], "EX-03", "coach", {"preparation": 4, "went": 2, "differently": "+32 475 12 34 56"}, minutes=1)
    answer(site, coaches3[1], "EX-03", "coach", {"preparation": 2, "went": 2}, minutes=2)
    answer(site, switcher1, "EX-01", "switcher", {"answered": 5, "useful": 3, "learned": "@SUM(A1:A2) en -1"}, minutes=3)
    answer(site, switcher3, "EX-03", "switcher", {"answered": 1, "useful": 3, "learned": "Snoeien"}, minutes=4)
    answer(site, "hr:zonneke", "EX-01", "employer", {"preparation": 5, "outcome": 4}, minutes=5)
    answer(site, switcher3, "EX-03", "switcher", {"learned": "Hagen"}, purpose="reflection", session="S-03-D2", minutes=6)
    with site.db() as db:
        return {code: db.get(Exchange, code).cohort_code for code in ("EX-01", "EX-03")}


def svg_charts(page: str) -> dict[tuple[str, str], dict[int, int]]:
    """Per (role caption, question) the counts drawn, read from the SVG's bars with an XML parser."""
    import xml.etree.ElementTree as ET

    found = {}
    for figure in re.findall(r"<figure class=\"chart\">.*?</figure>", page, re.S):
        svg = ET.fromstring(re.search(r"<svg.*?</svg>", figure, re.S).group(0))
        ns = {"s": "http://www.w3.org/2000/svg"}
        title = svg.find("s:title", ns).text
        assert svg.get("role") == "img" and svg.get("aria-labelledby").split() == [svg.find("s:title", ns).get("id"),
                                                                                      svg.find("s:desc", ns).get("id")]
        bars = {int(g.get("data-score")): (int(g.get("data-count")), int(g.find("s:rect", ns).get("width"))) for g in svg.findall("s:g", ns)}
        most = max(count for count, _ in bars.values())
        assert all(width == round(240 * count / most) for count, width in bars.values())  # bars to scale
        table = re.search(r"<tbody><tr>(.*?)</tr></tbody>", figure, re.S).group(1)
        cells = [int(c) for c in re.findall(r"<td>(\d+)</td>", table)]
        assert cells[:5] == [bars[n][0] for n in range(1, 6)] and cells[5] == sum(cells[:5])  # the table says the same
        found[tuple(re.split(r" ?: ", html.unescape(title), maxsplit=1))] = {n: c for n, (c, _) in bars.items()}  # "role : question" in French
    return found


def test_the_overview_charts_the_evaluation_per_cohort_with_a_table_beside_each_chart(site):
    cohorts = evaluations(site)
    assert cohorts["EX-01"] == cohorts["EX-03"] and cohorts["EX-01"]  # the example has one cohort
    site.login()
    page = site.client.get("/")
    assert page.status_code == 200 and "<script" not in page.text and " style=" not in page.text  # the CSP holds
    charts = svg_charts(page.text)
    expected = {("Learning coach", "How good were the organisation and preparation of the exchange?"): [4, 4, 2],
                ("Learning coach", "How well did the exchange go?"): [5, 2, 2],
                ("Switcher", "Was your learning question answered?"): [5, 1],
                ("Switcher", "How useful is what you learned for your job?"): [3, 3],
                ("Sending employer", "How good were the organisation and preparation of the exchange?"): [5],
                ("Sending employer", "Are you satisfied with what the switcher learned?"): [4]}
    assert charts == {key: {n: scores.count(n) for n in range(1, 6)} for key, scores in expected.items()}
    assert "Leren Switchen 2026-2027" in page.text  # the cohort's name heads its charts
    # 't Zonneke's account, in French: only EX-01's answers are counted
    site.client.post("/logout", data={"csrf": site.csrf("/")})
    site.login("zonneke-hr")
    french = shown(site.client.get("/", headers={"accept-language": "fr"}))
    charts = svg_charts(french)
    one = {n: 0 for n in range(1, 6)}
    assert charts[("Coach d'apprentissage", text("fr", "web.q.preparation"))] == {**one, 4: 1}  # EX-01's coach only
    assert charts[("Coach d'apprentissage", text("fr", "web.q.went"))] == {**one, 5: 1}
    assert charts[("Switcher", text("fr", "web.q.answered"))] == {**one, 5: 1}  # not EX-03's switcher's 1
    assert len(charts) == 6


def test_without_answers_the_overview_says_so(reader):
    reader.login()
    assert "No evaluation answers yet." in reader.client.get("/").text


def test_the_answers_download_as_csv_and_xlsx_in_the_coordinators_language(site, tmp_path):
    import csv
    import io

    from openpyxl import load_workbook

    assert site.client.get("/answers.csv", follow_redirects=False).headers["location"] == "/login"  # behind the login
    evaluations(site)
    site.login()
    response = site.client.get("/answers.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"] == 'attachment; filename="answers-2026-11-22.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte order mark
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Learning exchange", "Cohort", "Form", "Day", "Role", "Switcher", "Question", "Answer",
                       "Answered at (Europe/Brussels)", "Answered by"]
    with site.db() as db:
        stored = list(db.scalars(select(Answer)))
        assert len(rows) - 1 == sum(len(a.values) for a in stored)  # one line per value
        coach3 = db.get(Person, site.ids("EX-03")[1][0]).full_name
    by_text = {row[7]: row for row in rows[1:]}
    assert "'=HYPERLINK(\"http://x.invalid\",\"klik\")" in by_text  # neutralised (OWASP CSV injection)
    assert "'+32 475 12 34 56" in by_text and "'@SUM(A1:A2) en -1" in by_text
    differently = by_text["'+32 475 12 34 56"]
    assert differently[:2] == ["EX-03", "LS-2026"] and differently[4] == "Learning coach" and differently[9] == coach3
    assert differently[6] == "What would you do differently next time, and what could we do differently?"
    assert differently[8] == "2026-11-22 00:01"  # MOMENT + 1 minute, Brussels time
    reflection = by_text["Hagen"]
    assert reflection[2:4] == ["Looking back on the day", "S-03-D2"]

    workbook_bytes = site.client.get("/answers.xlsx")
    assert workbook_bytes.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(workbook_bytes.content)).active
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == rows[0] and len(cells) == len(rows)
    formula = next(c for row in sheet.iter_rows(min_row=2) for c in row if c.value == '=HYPERLINK("http://x.invalid","klik")')
    assert formula.data_type == "s"  # a text cell, not a formula
    at = next(row for row in cells if row[0] == "EX-03" and row[7] == "+32 475 12 34 56")[8]
    assert at == datetime(2026, 11, 22, 0, 1)
    # LibreOffice opens it and shows the text, not a formula's result
    import shutil
    import subprocess

    assert shutil.which("soffice"), "LibreOffice (soffice) checks the workbook"
    (tmp_path / "answers.xlsx").write_bytes(workbook_bytes.content)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                    "--outdir", str(tmp_path / "out"), str(tmp_path / "answers.xlsx")], check=True, capture_output=True, timeout=120)
    converted = list(csv.reader(io.StringIO((tmp_path / "out" / "answers.csv").read_text(encoding="utf-8"), newline="")))
    assert converted[0] == rows[0] and len(converted) == len(rows)
    assert '=HYPERLINK("http://x.invalid","klik")' in {row[7] for row in converted}

    # 't Zonneke's account: EX-01's lines only, headers in French when the browser asks so
    site.client.post("/logout", data={"csrf": site.csrf("/")})
    site.login("zonneke-hr")
    french = list(csv.reader(io.StringIO(site.client.get("/answers.csv", headers={"accept-language": "fr"}).content.decode("utf-8-sig"))))
    assert french[0][:3] == ["Échange d'apprentissage", "Cohorte", "Formulaire"]
    assert {row[0] for row in french[1:]} == {"EX-01"} and len(french) - 1 == 3 + 3 + 2  # coach, switcher, HR
    assert site.client.get("/answers.xlsx?organisation=brouwers-peeters").status_code == 200
    other = load_workbook(io.BytesIO(site.client.get("/answers.xlsx?organisation=brouwers-peeters").content)).active
    assert [row for row in other.iter_rows(values_only=True) if any(row)] == [tuple(text("nl", f"web.export.{c}", zone="Europe/Brussels")
                                                                                for c in COLUMNS)]  # the header only: not another organisation's, even asked


# -- Entra ID sign-in ------------------------------------------------------------------------

ENTRA_ACCOUNTS = """
[[web.accounts]]
name = "an-entra"
entra_users = ["An.Peeters@netwerk.example"]
language = "en"

[[web.accounts]]
name = "zonneke-entra"
entra_groups = ["6c1f0f52-93a4-4a0d-b1f4-0d2c52a8f4a1"]
organisations = ["zonneke"]
language = "fr"
"""


@pytest.fixture
def entra(synced, tmp_path, monkeypatch):
    """A site whose [web.entra] points at the loopback identity platform, and that platform."""
    from connector.core.config import load_config
    from tests.fakes.entra_server import CLIENT_SECRET, FakeEntra

    fake = FakeEntra("https://st.example.be/login/entra/callback").start()
    monkeypatch.setenv("ST_TEST_ENTRA_SECRET", CLIENT_SECRET)
    path = tmp_path / "config.toml"
    path.write_text(synced.config_path.read_text(encoding="utf-8") + fake.toml() + ENTRA_ACCOUNTS, encoding="utf-8")
    built = Site(synced)
    built.config = load_config(path)
    built.client = TestClient(create_app(built.config, built.engine, clock=lambda: built.now), base_url="https://testserver")
    yield built, fake
    built.close()
    fake.stop()


def sign_in_with_microsoft(site, fake, person, tamper=None):
    """The browser's round trip: our /login/entra, the identity platform's authorize, our
    callback. Returns the callback's response and the authorize request's parameters."""
    import requests
    from urllib.parse import parse_qs, urlsplit

    fake.sign_in_as(person)
    start = site.client.get("/login/entra", follow_redirects=False)
    assert start.status_code == 303
    sent = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["location"]).query).items()}
    at_platform = requests.get(start.headers["location"], verify=str(fake.ca_file), allow_redirects=False, timeout=10)
    assert at_platform.status_code == 302, at_platform.text
    back = urlsplit(at_platform.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == "https://st.example.be/login/entra/callback"
    query = back.query if tamper is None else tamper(back.query)
    return site.client.get(f"{back.path}?{query}", follow_redirects=False), sent


def test_entra_sign_in_with_pkce_lets_a_named_user_in_as_their_account(entra):
    from tests.fakes.entra_server import Person

    site, fake = entra
    login = site.client.get("/login")
    assert 'href="/login/entra"' in login.text  # offered beside the password form
    back, sent = sign_in_with_microsoft(site, fake, Person("0b5f3c8e-5d4a-4a87-9c1e-4e2f6a7b8c90", "an.peeters@netwerk.example", "An Peeters"))
    assert back.status_code == 303 and back.headers["location"] == "/"
    # what msal sent: the authorization code flow with PKCE (S256) and a nonce, answered by query
    assert sent["response_type"] == "code" and sent["code_challenge_method"] == "S256" and sent["nonce"] and sent["state"]
    assert set(sent["scope"].split()) >= {"openid", "profile"} and sent["response_mode"] == "query"
    (redeemed,) = fake.token_requests
    assert redeemed["grant_type"] == "authorization_code" and redeemed["code_verifier"]  # the fake checked it against the challenge
    overview = site.client.get("/")
    assert overview.status_code == 200 and "Overview of the learning exchanges" in overview.text and "an-entra" in overview.text
    assert "EX-03" in overview.text  # an account for every organisation
    # the ID token the platform issued holds up under an independent JOSE library, against the
    # keys on the discovery document's jwks_uri: the fake's tokens are what Microsoft's are
    import requests
    from jwcrypto import jwk
    from jwcrypto import jwt as jose

    from tests.fakes.entra_server import CLIENT_ID

    document = requests.get(f"{fake.issuer}/.well-known/openid-configuration", verify=str(fake.ca_file), timeout=10).json()
    keys = jwk.JWKSet.from_json(requests.get(document["jwks_uri"], verify=str(fake.ca_file), timeout=10).text)
    (issued,) = fake.issued
    token = jose.JWT(jwt=issued, key=keys, check_claims={"aud": CLIENT_ID, "iss": document["issuer"], "exp": None})
    claims = json.loads(token.claims)
    assert claims["preferred_username"] == "an.peeters@netwerk.example" and claims["ver"] == "2.0" and claims["tid"] in document["issuer"]
    assert claims["nonce"] == sent["nonce"] and len(sent["nonce"]) == 64  # msal sends the SHA-256 of its nonce, and checks it came back


def test_entra_sign_in_through_a_group_takes_that_accounts_organisations_and_language(entra):
    from tests.fakes.entra_server import Person

    site, fake = entra
    back, _ = sign_in_with_microsoft(site, fake, Person("7d2e9b41-1c3a-4f5e-8a6b-9c0d1e2f3a4b", "lies@zonneke.be", "Lies",
                                                        groups=["11111111-2222-3333-4444-555555555555", "6c1f0f52-93a4-4a0d-b1f4-0d2c52a8f4a1"]))
    assert back.status_code == 303
    overview = shown(site.client.get("/"))
    assert "Aperçu des échanges d'apprentissage" in overview and "EX-01" in overview and "EX-03" not in overview


def test_entra_sign_in_is_refused_to_people_no_account_names(entra):
    from tests.fakes.entra_server import Person

    site, fake = entra
    back, _ = sign_in_with_microsoft(site, fake, Person("5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", "someone@netwerk.example", "Someone",
                                                        groups=["11111111-2222-3333-4444-555555555555"]))
    assert back.status_code == 403 and text("nl", "web.error.entra_denied") in shown(back)
    assert site.client.get("/", follow_redirects=False).headers["location"] == "/login"


@pytest.mark.parametrize("broken", ["state", "replay", "audience", "issuer", "key", "expired"])
def test_entra_sign_in_refuses_a_forged_state_a_replayed_code_and_id_tokens_that_do_not_hold(entra, broken, caplog):
    import time

    from tests.fakes.entra_server import Person, _SigningKey

    site, fake = entra
    person = Person("0b5f3c8e-5d4a-4a87-9c1e-4e2f6a7b8c90", "an.peeters@netwerk.example", "An Peeters")
    if broken == "audience":
        fake.mint(aud="00000000-0000-0000-0000-000000000000")  # a token for another application
    elif broken == "issuer":
        fake.mint(iss=fake.issuer.replace(fake.issuer.split("/")[3], "72f988bf-86f1-41af-91ab-2d7cd011db47"))  # another tenant
    elif broken == "key":
        fake.mint(key=_SigningKey(fake.issuer))  # signed by a key the jwks_uri does not list
    elif broken == "expired":
        fake.mint(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200)
    tamper = (lambda query: query.replace("state=", "state=x")) if broken == "state" else None
    back, _ = sign_in_with_microsoft(site, fake, person, tamper)
    if broken == "replay":  # the same answer again, as an attacker holding the URL would send it
        assert back.status_code == 303
        site.client.cookies.clear()
        fake.sign_in_as(person)
        replayed = site.client.get(back.request.url.path + "?" + back.request.url.query.decode(), follow_redirects=False)
        assert replayed.status_code == 400  # no flow in this browser's session
        return
    assert back.status_code == 401 and text("nl", "web.error.entra") in shown(back)
    assert site.client.get("/", follow_redirects=False).headers["location"] == "/login"
    reasons = {"state": "state mismatch", "audience": "InvalidAudienceError", "issuer": "InvalidIssuerError",
               "key": "is not on the tenant's jwks_uri", "expired": "ExpiredSignatureError"}
    assert reasons[broken] in caplog.text  # refused for that reason, not another


def test_an_account_needs_a_way_in_and_entra_accounts_need_web_entra():
    from pydantic import ValidationError

    from connector.core.config import WebConfig

    base = {"base_url": "https://st.example.be", "session_secret": "s" * 40, "link_keys": ["k" * 40]}
    with pytest.raises(ValidationError, match="neither a password_hash nor entra_users"):
        WebConfig.model_validate({**base, "accounts": [{"name": "nobody"}]})
    with pytest.raises(ValidationError, match=r"accounts hr name Entra ID users or groups, but \[web.entra\] is missing"):
        WebConfig.model_validate({**base, "accounts": [{"name": "hr", "entra_groups": ["g"]}]})
    entra = {"tenant_id": "t", "client_id": "c", "client_secret": "x"}
    with pytest.raises(ValidationError, match=r"\[web.entra\] needs \[web\] base_url"):
        WebConfig.model_validate({**base, "base_url": None, "entra": entra, "accounts": [{"name": "hr", "entra_groups": ["g"]}]})
    assert WebConfig.model_validate({**base, "entra": entra, "accounts": [{"name": "hr", "entra_groups": ["g"]}]}).entra is not None


def test_entra_sign_in_with_the_tenant_unreachable_says_so_on_the_login_page(entra, caplog):
    site, fake = entra
    fake.server.shutdown()  # the identity platform does not answer
    fake.server.server_close()
    start = site.client.get("/login/entra", follow_redirects=False)
    assert start.status_code == 502 and text("nl", "web.error.entra") in shown(start) and 'name="password"' in start.text
    assert "Entra ID sign-in unavailable" in caplog.text
