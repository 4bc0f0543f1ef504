"""The web pages as people use them: a real Chromium (Debian's, driven by Playwright) opens the
personal link from an evaluation reminder delivered to a real SMTP server (aiosmtpd), fills
the evaluation in French on `st-connector serve` running under uvicorn, and a coordinator
then sees the answer in the overview.

Without Chromium or Playwright this test is skipped here, which `.ci/run` counts as a failure:
CI installs both."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from connector.engine.sync import run_sync
from tests.conftest import REPO
from tests.fakes.smtp_server import PASSWORD as SMTP_PASSWORD
from tests.fakes.smtp_server import FakeSmtp
from tests.test_imip import invite_by_mail
from tests.test_web import PASSWORD, WEB, Site

BRUSSELS = ZoneInfo("Europe/Brussels")


def _days_just_behind(network) -> datetime:
    """EX-01's exchange days moved to the last few days, so that its evaluation reminders are
    ahead and their links valid by the real clock `serve` reads; its coach (Les Petits Pas,
    French) is invited by e-mail. Returns the moment to sync at: now."""
    now = datetime.now(BRUSSELS)
    for code, days in (("S-01-D1", -3), ("S-01-D2", -2), ("S-01-EVAL", 30)):
        text = (network.data / "cohort" / "sessies.csv").read_text(encoding="utf-8-sig")
        old = re.search(rf"^{code};EX-01;[^;]+;(\d\d/\d\d/\d{{4}});", text, re.M)
        assert old, code
        network.edit_csv("cohort/sessies.csv", old.group(0), old.group(0).replace(old.group(1), f"{now + timedelta(days=days):%d/%m/%Y}"))
    return now


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)")
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(network, port: int, chromium: str):  # type: ignore[no-untyped-def]
    """`st-connector serve` on `port` for the network, and Chromium (Playwright) to browse it; both stopped after."""
    from playwright.sync_api import sync_playwright

    server = subprocess.Popen([sys.executable, "-m", "connector.cli", "serve", "--config", str(network.config_path), "--port", str(port)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(f"http://127.0.0.1:{port}/login", server)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            yield browser
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            return
        except OSError:
            if server.poll() is not None:
                raise AssertionError(f"serve stopped: {server.stderr.read() if server.stderr else ''}") from None
            assert time.monotonic() < deadline, "serve did not answer within 60 s"
            time.sleep(0.3)


def _link_in(smtp: FakeSmtp, recipient: str, subject: str, about: str = "") -> str:
    """The personal link in the message whose subject holds `subject` (and body `about`) that reached `recipient`."""
    for received in smtp.received:
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        if received.recipients == [recipient] and subject in message["Subject"]:
            body = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
            if about in body:
                found = re.search(r"http://localhost:\d+/l/[A-Za-z0-9_.-]+", body)
                assert found, body
                return found.group(0)
    raise AssertionError(f"no '{subject}' message reached {recipient}: {[r.recipients for r in smtp.received]}")


def test_a_coach_opens_the_link_of_a_delivered_reminder_answers_in_french_and_the_coordinator_sees_it(sqlite_network, smtp, monkeypatch):
    chromium = _chromium()
    port = _free_port()
    monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    network = invite_by_mail(sqlite_network, smtp)
    # localhost over plain HTTP is a secure context for Chromium, so the Secure cookie holds.
    network.config_path.write_text(network.config_path.read_text(encoding="utf-8")
                                   + WEB.replace("https://st.example.be", f"http://localhost:{port}"), encoding="utf-8")
    now = _days_just_behind(network)
    summary = run_sync(network.config(), now)
    assert summary.status == "ok", summary.errors
    site = Site(network, now)
    _, (coach,) = site.ids("EX-01")
    with site.db() as db:
        from connector.store.tables import Person

        address = db.get(Person, coach).email
    site.close()
    link = _link_in(smtp, address, "après l'échange")

    with _serving(network, port, chromium) as browser:
        page = browser.new_page(locale="fr-BE")
        refused: list[str] = []  # a Content-Security-Policy violation shows as a console error "Refused to ..."
        page.on("console", lambda message: refused.append(message.text) if "Refused to" in message.text else None)
        page.goto(link)
        assert page.locator("h1").inner_text() == "Évaluation de l'échange d'apprentissage"
        assert page.locator("html").get_attribute("lang") == "fr"
        page.locator("button[type=submit]").click()  # nothing filled in: the server says what is missing, in French
        page.wait_for_load_state()
        assert "Tout n'est pas correctement rempli" in page.locator("[role=alert]").inner_text()
        assert page.locator("fieldset p.error").count() == 2  # the two required scales, each named
        page.locator("input[name=preparation][value='4']").check()
        page.locator("input[name=went][value='5']").check()
        page.locator("textarea[name=coach_learned]").fill("Une autre façon d'accueillir les enfants")
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Merci"

        coordinator = browser.new_page(locale="en-GB")
        coordinator.goto(f"http://localhost:{port}/")
        coordinator.locator("input[name=name]").fill("coordinator")
        coordinator.locator("input[name=password]").fill(PASSWORD)
        coordinator.locator("button[type=submit]").click()
        coordinator.wait_for_load_state()
        exchange = coordinator.locator("#exchange-EX-01")
        assert "Une autre façon d'accueillir les enfants" in exchange.inner_text()
        assert coordinator.locator("h1").inner_text() == "Overview of the learning exchanges"
        assert refused == []  # the stylesheet loaded under the policy, nothing refused
        assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("system-ui")  # app.css applied
        # the coach's answer in the charts: drawn (a bar of width > 0, coloured by app.css) and named for screen readers
        chart = coordinator.get_by_role("img", name="Learning coach: How well did the exchange go?")
        bar = chart.locator("g[data-score='5'] rect")
        assert bar.bounding_box()["width"] > 100 and bar.evaluate("r => getComputedStyle(r).fill") == "rgb(47, 95, 138)"
        # the export, downloaded as a coordinator does
        with coordinator.expect_download() as download:
            coordinator.get_by_role("link", name="CSV").click()
        saved = download.value.path().read_bytes()
        assert download.value.suggested_filename.endswith(".csv") and saved.startswith(b"\xef\xbb\xbf")
        assert "Une autre façon d'accueillir les enfants" in saved.decode("utf-8-sig")
        assert refused == []


def test_the_switcher_writes_the_action_plan_in_dutch_and_the_coach_opens_it_from_their_own_invitation(sqlite_network, smtp, monkeypatch):
    chromium = _chromium()
    port = _free_port()
    monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    network = invite_by_mail(sqlite_network, smtp)
    network.route("zonneke", "imip")  # EX-05: Zonneke's switcher and Brouwers & Peeters' coach, both by e-mail
    network.config_path.write_text(network.config_path.read_text(encoding="utf-8")
                                   + WEB.replace("https://st.example.be", f"http://localhost:{port}"), encoding="utf-8")
    now = datetime.now(BRUSSELS)  # the intro call in October 2027 is ahead: its links are valid by the real clock
    summary = run_sync(network.config(), now)
    assert summary.status == "ok", summary.errors
    site = Site(network, now)
    switcher_id, (coach_id,) = site.ids("EX-05")
    with site.db() as db:
        from connector.store.tables import Person

        switcher, coach = db.get(Person, switcher_id), db.get(Person, coach_id)
        names = switcher.full_name, coach.full_name
        switcher_link = _link_in(smtp, switcher.email, "Kennismakingsgesprek", switcher.full_name)
        coach_link = _link_in(smtp, coach.email, "Kennismakingsgesprek", switcher.full_name)
    site.close()

    with _serving(network, port, chromium) as browser:
        page = browser.new_page(locale="nl-BE")
        page.goto(switcher_link)
        assert page.locator("h1").inner_text() == "Leeractieplan"
        assert "Er is nog niets ingevuld." in page.locator("main").inner_text()
        page.locator("textarea[name=goals]").fill("Een digitale planningstool kiezen voor personeel en verlof")
        page.locator("textarea[name=agreements]").fill("Eerste dag op 16 november; laptop meebrengen")
        page.locator("button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Bedankt"

        other = browser.new_page(locale="nl-BE")  # the coach, in a browser session of their own
        other.goto(coach_link)
        assert other.locator("h1").inner_text() == "Leeractieplan"
        assert other.locator("textarea[name=goals]").input_value() == "Een digitale planningstool kiezen voor personeel en verlof"
        assert other.locator("textarea[name=agreements]").input_value() == "Eerste dag op 16 november; laptop meebrengen"
        assert f"Laatst aangepast door {names[0]}" in other.locator("p.changed").inner_text()
        other.locator("textarea[name=host_shows]").fill("Een dag meelopen met de planner en een demo van onze tool")
        other.locator("button[type=submit]").click()
        other.wait_for_load_state()
        page.goto(switcher_link)  # the switcher sees the coach's version
        assert page.locator("textarea[name=host_shows]").input_value() == "Een dag meelopen met de planner en een demo van onze tool"
        assert f"Laatst aangepast door {names[1]}" in page.locator("p.changed").inner_text()
