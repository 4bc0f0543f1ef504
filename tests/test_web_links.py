"""Personal links beyond the first part of issue 17: the learning action plan after the intro
call, the host's evaluation link, "what I learned" on the leerbewijs, and links in Microsoft 365
events. Driven end to end: a real sync, messages delivered to an SMTP server (aiosmtpd) or a
fake Graph, the link taken from what was delivered, the form sent through Starlette's
TestClient, the next sync's leerbewijs read back with poppler's pdftotext."""

from __future__ import annotations

import email
import html
import email.policy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from connector.engine.sync import run_sync
from connector.leerbewijs import edc
from connector.store.tables import Answer, Leerbewijs, Person
from tests.fakes.smtp_server import PASSWORD as SMTP_PASSWORD
from tests.test_imip import invite_by_mail
from tests.test_edc import independent_open
from tests.test_edc import schema_errors as edc_schema_errors
from tests.test_proof import schema_errors
from tests.test_web import MOMENT, Site, shown, with_web

REPO = Path(__file__).resolve().parents[1]
LINK = re.compile(r"https://st\.example\.be(/l/[A-Za-z0-9_.-]+)")


def plain_bodies(smtp, subject_part: str) -> dict[str, list[str]]:
    """The text/plain parts of the delivered messages whose subject holds `subject_part`, by recipient."""
    found: dict[str, list[str]] = {}
    for received in smtp.received:
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        if subject_part in message["Subject"]:
            plain = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
            for recipient in received.recipients:
                found.setdefault(recipient, []).append(plain)
    return found


@pytest.fixture
def mailed(sqlite_network, smtp, monkeypatch):
    """The example network with [web], Brouwers & Peeters and Les Petits Pas invited by e-mail through `smtp`."""
    monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    return with_web(invite_by_mail(sqlite_network, smtp))


def rows(site: Site, query) -> list:  # type: ignore[no-untyped-def]
    """The rows of `query` in the site's store, detached."""
    with site.db() as db:
        found = list(db.scalars(query))
        db.expunge_all()
    return found


def plan_versions(site: Site, exchange: str) -> list[Answer]:
    return rows(site, select(Answer).where(Answer.exchange_code == exchange, Answer.purpose == "action_plan").order_by(Answer.id))


# -- the learning action plan ---------------------------------------------------------------------

def test_the_intro_call_brings_switcher_and_coach_to_one_action_plan_both_edit(mailed, smtp):
    assert run_sync(mailed.config(), MOMENT).status == "ok"
    # EX-04: Les Petits Pas' switcher (French, by e-mail), Zonneke's coach; the intro call is ahead
    intro = plain_bodies(smtp, "Entretien de présentation")
    site = Site(mailed)
    try:
        switcher, (coach,) = site.ids("EX-04")
        with site.db() as db:
            address, switcher_name, coach_name = db.get(Person, switcher).email, db.get(Person, switcher).full_name, \
                db.get(Person, coach).full_name
        (body,) = intro[address]
        assert "votre plan d'action d'apprentissage, à remplir ensemble (lien personnel, à ne pas transférer)" in body
        path = LINK.search(body).group(1)
        page = site.client.get(path)
        assert page.status_code == 200 and "Plan d'action d'apprentissage" in shown(page)
        assert "Rien n'a encore été rempli." in shown(page)
        token = site.csrf(path)
        empty = site.client.post(path, data={"csrf": token, "version": "", "agreements": "Chaussures fermées"})
        assert empty.status_code == 400 and "Veuillez remplir ce champ." in shown(empty) and plan_versions(site, "EX-04") == []
        first = {"csrf": token, "version": "", "goals": "Impliquer les parents au quotidien", "agreements": "Chaussures fermées"}
        assert site.client.post(path, data=first).status_code == 200
        assert site.client.post(path, data=first).status_code == 200  # a double click stores nothing new
        (v1,) = plan_versions(site, "EX-04")
        assert (v1.subject, v1.role, v1.session_code, v1.language) == (switcher, "switcher", "v0001", "fr")

        # the coach's link (Zonneke invites by .ics files: the link as the planner signs it) opens the same plan
        coach_path = site.link(coach, "EX-04", "action_plan", "coach")
        seen = site.client.get(coach_path)
        assert seen.status_code == 200 and "Leeractieplan" in shown(seen)
        assert f"Laatst aangepast door {switcher_name}" in shown(seen) and "Impliquer les parents au quotidien" in shown(seen)
        coach_form = {"csrf": site.csrf(coach_path), "version": "v0001", "goals": "Impliquer les parents au quotidien",
                      "host_shows": "Een ochtend in de babygroep en het gesprek met de ouders bij het ophalen",
                      "agreements": "Chaussures fermées; eerste dag 11 mei"}
        assert site.client.post(coach_path, data=coach_form).status_code == 200
        v1_again, v2 = plan_versions(site, "EX-04")
        assert v1_again.values == v1.values  # every version kept
        assert (v2.subject, v2.role, v2.session_code) == (coach, "coach", "v0002")

        # the switcher sees the coach's version; sending her old form over it is caught, her text kept
        again = site.client.get(path)
        assert f"Dernière modification par {coach_name}" in shown(again) and "Een ochtend in de babygroep" in shown(again)
        stale = site.client.post(path, data={**first, "goals": "Autre chose"})
        assert stale.status_code == 409 and "une version plus récente" in shown(stale)
        assert "Tout n'est pas correctement rempli" not in shown(stale)  # nothing wrong with what she wrote
        assert "Autre chose" in shown(stale) and len(plan_versions(site, "EX-04")) == 2
        assert 'name="version" value="v0002"' in stale.text  # sending it again replaces the newest version
        assert site.client.post(path, data={**first, "version": "v0002", "goals": "Autre chose"}).status_code == 200
        assert [v.session_code for v in plan_versions(site, "EX-04")] == ["v0001", "v0002", "v0003"]

        # the coordinator sees each version with who and when
        site.login()
        overview = shown(site.client.get("/"))
        assert "Autre chose" in overview and "Een ochtend in de babygroep" in overview
    finally:
        site.close()


def test_the_coachs_intro_call_mail_links_to_the_plan_which_only_the_exchanges_people_open(mailed, smtp):
    assert run_sync(mailed.config(), MOMENT).status == "ok"
    intro = plain_bodies(smtp, "Kennismakingsgesprek")
    bodies = intro["evelien@brouwers-peeters.be"]  # she coaches EX-05 and EX-06: two intro calls ahead
    site = Site(mailed)
    try:
        assert len(bodies) == 2 and all("jullie leeractieplan, samen in te vullen" in b for b in bodies)
        for body in bodies:
            page = site.client.get(LINK.search(body).group(1))
            assert page.status_code == 200 and "Leeractieplan" in shown(page)
        count = len(smtp.received)
        assert run_sync(mailed.config(), MOMENT).status == "ok" and len(smtp.received) == count  # the same links: nothing re-sent

        switcher, (coach,) = site.ids("EX-04")
        other_switcher, (other_coach,) = site.ids("EX-05")
        assert site.client.get(site.link(switcher, "EX-04", "action_plan", "switcher")).status_code == 200
        assert site.client.get(site.link(coach, "EX-04", "action_plan", "coach")).status_code == 200
        assert site.client.get(site.link(other_coach, "EX-04", "action_plan", "coach")).status_code == 404  # another exchange's coach
        assert site.client.get(site.link(other_switcher, "EX-04", "action_plan", "switcher")).status_code == 404
        assert site.client.get(site.link("hr:petits-pas", "EX-04", "action_plan", "employer")).status_code == 404
        assert site.client.get(site.link("host:zonneke", "EX-04", "action_plan", "host")).status_code == 404
        path = site.link(switcher, "EX-04", "action_plan", "switcher")
        assert site.client.post(path, data={"goals": "x", "version": ""}).status_code == 403  # no CSRF token
        assert plan_versions(site, "EX-04") == []
    finally:
        site.close()


# -- the host's evaluation link ---------------------------------------------------------------

def test_the_hosts_hr_and_the_switchers_manager_get_evaluation_reminders_with_their_roles_questions(mailed, smtp):
    mailed.replace('id = "groenkracht"', 'id = "groenkracht"\nhr_email = "hr@groenkracht.be"')
    mailed.route("groenkracht", "imip")
    mailed.replace('manager_policy = "none"             # its export', 'manager_policy = "inform"             # its export')
    assert run_sync(mailed.config(), MOMENT).status == "ok"
    # EX-03: Brouwers & Peeters' switcher learned at Groenkracht in October; two reminders are ahead
    reminders = plain_bodies(smtp, "na de leeruitwisseling")
    bodies = reminders["hr@groenkracht.be"]
    assert len(bodies) == 2 and all("Uw evaluatie (persoonlijke link, niet doorsturen)" in b for b in bodies)
    site = Site(mailed)
    try:
        path = LINK.search(bodies[0]).group(1)
        page = site.client.get(path)
        assert page.status_code == 200 and "Welk effect ziet u op de leercoach, het team of de organisatie?" in shown(page)
        form = {"csrf": site.csrf(path), "preparation": "4", "went": "5", "effect": "Een nieuwe kijk op onthaal"}
        assert site.client.post(path, data=form).status_code == 200
        (answer,) = site.answers()
        assert (answer.subject, answer.exchange_code, answer.role, answer.purpose) == ("host:groenkracht", "EX-03", "host", "evaluation")
        # Stijn's manager Wim, on the evaluation moments under "inform", answers for the sending employer
        (wim, *_) = reminders["wim@brouwers-peeters.be"]
        manager_path = LINK.search(wim).group(1)
        page = site.client.get(manager_path)
        assert page.status_code == 200 and "Hallo Wim Brouwers," in shown(page) and "Bent u tevreden over wat de switcher leerde?" in shown(page)
        form = {"csrf": site.csrf(manager_path), "preparation": "3", "outcome": "4", "team": "Kortere overlegmomenten"}
        assert site.client.post(manager_path, data=form).status_code == 200
        with site.db() as db:
            wim_id = db.scalar(select(Person.id).where(Person.email == "wim@brouwers-peeters.be"))
        assert [(a.subject, a.role) for a in site.answers()] == [("host:groenkracht", "host"), (wim_id, "employer")]
        site.login()
        overview = shown(site.client.get("/"))
        assert "Een nieuwe kijk op onthaal" in overview and "Kortere overlegmomenten" in overview
    finally:
        site.close()


# -- "what I learned" on the leerbewijs ---------------------------------------------------------

def pdf_text(pdf: Path) -> str:
    """The PDF's text as poppler's pdftotext reads it, whitespace made single spaces."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60).stdout
    return " ".join(out.split())


def switchers_leerbewijzen(site: Site, exchange: str) -> list[Leerbewijs]:
    return rows(site, select(Leerbewijs).where(Leerbewijs.exchange_code == exchange, Leerbewijs.role == "switcher")
                .order_by(Leerbewijs.number))


def verify(network, number: str) -> subprocess.CompletedProcess[str]:
    pdf = next(network.out.rglob(f"{number}.pdf"))
    return subprocess.run([sys.executable, "-m", "connector.cli", "leerbewijs", "verify", str(pdf), "--config", str(network.config_path)],
                          capture_output=True, text=True, timeout=120, cwd=REPO)


LEARNED = "Een ploeg aansturen met korte, duidelijke afspraken en elke ochtend een kwartier overleg"


def test_consented_words_are_printed_on_a_replacing_leerbewijs_and_withdrawn_ones_leave_the_next(sqlite_network):
    network = with_web(sqlite_network)
    assert run_sync(network.config(), MOMENT).status == "ok"
    site = Site(network)
    try:
        (first,) = switchers_leerbewijzen(site, "EX-03")  # its two days in October are behind us
        switcher, _ = site.ids("EX-03")
        path = site.link(switcher, "EX-03", "reflection", "switcher")
        token = site.csrf(path)
        reflection = {"csrf": token, "session": "S-03-D2", "learned": LEARNED}

        # without consent nothing changes: no leerbewijs, no output
        before = network.output_hashes()
        assert site.client.post(path, data=reflection).status_code == 200
        quiet = run_sync(network.config(), MOMENT)
        assert quiet.leerbewijzen["issued"] == 0 and not quiet.revoked and network.output_hashes() == before
        assert "learned" not in first.content and LEARNED not in pdf_text(next(network.out.rglob(f"{first.number}.pdf")))

        # words the leerbewijs's typeface cannot print are refused with consent (they would be boxes), kept without
        refused = site.client.post(path, data={**reflection, "learned": LEARNED + " 😀 学习", "consent": "yes"})
        assert refused.status_code == 400 and "Het leerbewijs kan niet elk teken hiervan afdrukken" in shown(refused)

        # consent after it was issued: revoked and replaced by one that prints the words
        assert site.client.post(path, data={**reflection, "consent": "yes"}).status_code == 200
        summary = run_sync(network.config(), MOMENT)
        assert summary.status == "ok", summary.errors
        assert [r["number"] for r in summary.revoked] == [first.number]
        old, second = switchers_leerbewijzen(site, "EX-03")
        assert old.revoked_at is not None and second.replaces == first.number and second.content["learned"] == LEARNED
        printed = pdf_text(next(network.out.rglob(f"{second.number}.pdf")))
        assert "In de eigen woorden van" in printed and LEARNED in printed
        credential = json.loads(PdfReader(next(network.out.rglob(f"{second.number}.pdf"))).attachments["credential.json"][0])
        assert {"type": ["Evidence"], "name": "Wat ik leerde (in eigen woorden)", "narrative": LEARNED} in credential["evidence"]
        assert schema_errors(credential) == []  # the official Open Badges 3.0 schema
        (sealed,) = (network.out / "leerbewijzen").rglob(f"{second.number}{edc.SUFFIX}")
        _, _, europass = independent_open(sealed.read_bytes())  # its seal checked by jwcrypto
        notes = europass["credentialSubject"]["hasClaim"]["additionalNote"]
        assert notes[-1]["noteLiteral"] == {"nl": LEARNED}
        assert edc_schema_errors(europass) == []  # the Europass EDC schema
        checked = verify(network, second.number)
        assert checked.returncode == 0 and "VALID" in checked.stdout, checked.stdout + checked.stderr
        again = run_sync(network.config(), MOMENT)  # a re-run writes nothing
        assert again.leerbewijzen["issued"] == 0 and not again.revoked

        # consent withdrawn: the next leerbewijs no longer prints it
        assert site.client.post(path, data=reflection).status_code == 200
        withdrawn = run_sync(network.config(), MOMENT)
        assert [r["number"] for r in withdrawn.revoked] == [second.number]
        third = switchers_leerbewijzen(site, "EX-03")[-1]
        assert "learned" not in third.content and LEARNED not in pdf_text(next(network.out.rglob(f"{third.number}.pdf")))
        assert verify(network, third.number).returncode == 0
    finally:
        site.close()


# -- links in Microsoft 365 events ------------------------------------------------------------------

def test_a_graph_event_for_one_person_carries_their_link_and_a_shared_one_sends_each_a_note(sqlite_network, monkeypatch):
    from tests.fakes.graph_server import CLIENT_SECRET
    from tests.test_msgraph_e2e import groenkracht_in_graph, invite_through_outlook, live_events

    fake = groenkracht_in_graph()
    try:
        monkeypatch.setenv("ST_TEST_GRAPH_SECRET", CLIENT_SECRET)
        network = with_web(invite_through_outlook(sqlite_network, fake))  # Zonneke and Groenkracht through Outlook
        assert run_sync(network.config(), MOMENT).status == "ok"
        events = live_events(fake)
        # EX-04's intro call: only its coach (Zonneke) is on the Outlook event, so the event carries her link
        intro = events["leren-switchen/S-04-INTRO"]
        assert [a["emailAddress"]["address"] for a in intro["attendees"]] == ["nele.geerts@zonneke.be"]
        body = html.unescape(intro["body"]["content"])
        assert "votre plan d'action d'apprentissage, à remplir ensemble" in body  # the event's language: the switcher's
        intro_path = LINK.search(body).group(1)
        # EX-03's evaluation moments: two coaches and the host's HR share one event: no link in it, a note each
        reminder = events["leren-switchen/EX-03-EVAL-2M"]
        assert len(reminder["attendees"]) == 3 and "/l/" not in reminder["body"]["content"]
        every = sorted((network.out / "links").glob("*.eml"))
        notes = [n for n in every if n.name.startswith("EX-03-EVAL-")]
        assert len(notes) == 2 * 3
        # and the cohort sheet's own evaluation sessions ahead, shared by several through Outlook (EX-03's, EX-06's)
        assert {"-".join(n.name.split("-")[:3]) for n in every if n not in notes} == {"S-03-EVAL", "S-06-EVAL"}, every
        messages = [email.message_from_bytes(n.read_bytes(), policy=email.policy.default) for n in notes]
        to = sorted({m["To"].addresses[0].addr_spec for m in messages})
        assert to == sorted(a["emailAddress"]["address"] for a in reminder["attendees"])
        hr_note = next(m for m in messages if m["To"].addresses[0].addr_spec == "hr@groenkracht.be")
        plain = hr_note.get_content()
        assert hr_note["Subject"].startswith("Jouw persoonlijke link:") and "Uw evaluatie (persoonlijke link" in plain
        hr_path = LINK.search(plain).group(1)
        before = {n.name: n.read_bytes() for n in notes}
        assert run_sync(network.config(), MOMENT).status == "ok"  # a re-run writes nothing
        assert {n.name: n.read_bytes() for n in sorted((network.out / "links").glob("*.eml")) if n in notes} == before
        assert len(list((network.out / "links").glob("*.eml"))) == len(every)
    finally:
        fake.stop()
    site = Site(network)
    try:
        page = site.client.get(intro_path)
        assert page.status_code == 200 and "Leeractieplan" in shown(page)
        page = site.client.get(hr_path)
        assert page.status_code == 200 and "Welk effect ziet u op de leercoach, het team of de organisatie?" in shown(page)
    finally:
        site.close()


def test_link_notes_are_withdrawn_when_their_person_leaves_the_moment_and_when_it_is_cancelled(sqlite_network, monkeypatch):
    """Review: a link note stayed as if valid after its moment was off. EX-03's shared Outlook
    events (the evaluation reminders, the sheet's S-03-EVAL) send each linked person a note.
    Chloé Lambert (G106) taken off EX-03 as coach: her notes become, in her language, a short
    "no longer invited" note without the link, the others' notes unchanged; then EX-03
    cancelled: the others' notes become a cancellation, hers stay as they are (she was told).
    Each time a re-run writes nothing."""
    from connector.core.texts import text
    from tests.fakes.graph_server import CLIENT_SECRET
    from tests.test_msgraph_e2e import groenkracht_in_graph, invite_through_outlook

    def notes() -> dict[str, tuple[bytes, email.message.EmailMessage]]:
        return {n.name: (n.read_bytes(), email.message_from_bytes(n.read_bytes(), policy=email.policy.default))
                for n in sorted((network.out / "links").glob("*.eml")) if n.name.startswith(("EX-03-EVAL-", "S-03-EVAL-"))}

    def same(one, other) -> bool:  # type: ignore[no-untyped-def]
        return {name: data for name, (data, _) in one.items()} == {name: data for name, (data, _) in other.items()}

    def to(message) -> str:  # type: ignore[no-untyped-def]
        return message["To"].addresses[0].addr_spec

    fake = groenkracht_in_graph()
    try:
        monkeypatch.setenv("ST_TEST_GRAPH_SECRET", CLIENT_SECRET)
        network = with_web(invite_through_outlook(sqlite_network, fake))
        assert run_sync(network.config(), MOMENT).status == "ok"
        first = notes()
        chloe = "chloe.lambert@groenkracht.be"  # French
        hers = {name for name, (_, m) in first.items() if to(m) == chloe}
        assert len(hers) >= 3 and all("/l/" in m.get_content() for _, m in first.values())  # two reminders and S-03-EVAL

        network.edit_csv("cohort/uitwisselingen.csv", "EX-03;LV-03;LP-GK-GROEN;G110, G106;", "EX-03;LV-03;LP-GK-GROEN;G110;")
        summary = run_sync(network.config(), MOMENT)
        assert summary.status == "ok", summary.errors
        second = notes()
        assert set(second) == set(first)
        assert {n for n in first if second[n][0] != first[n][0]} == hers  # the others' notes hold as they were
        for name in hers:
            message = second[name][1]
            language = message["Content-Language"]
            assert message["Subject"].startswith(text(language, "linknote.subject.uninvited", summary=""))
            assert "/l/" not in message.get_content() and to(message) == chloe
            assert first[name][1]["Subject"].removeprefix(text(language, "linknote.subject", summary="")) in message["Subject"]
        withdrawn = [w for w in summary.written_files if w["object"] == "link_note"]
        assert sorted(w["file"].rsplit("/", 1)[1] for w in withdrawn) == sorted(hers)
        assert {w["action"] for w in withdrawn} == {"cancel"} and {w["to"]["email"] for w in withdrawn} == {chloe}
        again = run_sync(network.config(), MOMENT)
        assert not [w for w in again.written_files if w["object"] == "link_note"] and same(notes(), second)

        network.edit_csv("cohort/uitwisselingen.csv", "EX-03;LV-03;LP-GK-GROEN;G110;bevestigd", "EX-03;LV-03;LP-GK-GROEN;G110;geannuleerd")
        assert run_sync(network.config(), MOMENT).status == "ok"
        third = notes()
        assert {n for n in first if third[n][0] != second[n][0]} == set(first) - hers  # hers say it already
        for name in set(first) - hers:
            message = third[name][1]
            language = message["Content-Language"]
            assert message["Subject"].startswith(text(language, "linknote.subject.cancelled", summary=""))
            assert "/l/" not in message.get_content() and to(message) == to(first[name][1])
        assert {to(m) for _, m in third.values()} >= {"hr@groenkracht.be"}
        assert run_sync(network.config(), MOMENT).status == "ok" and same(notes(), third)  # a re-run writes nothing
    finally:
        fake.stop()


# -- every evaluation moment its own answer; the cohort's own moments linked; erased switchers --

def test_each_evaluation_moment_keeps_its_answer_the_sheets_moments_carry_links_and_an_erased_switcher_closes_them(mailed, smtp):
    """Review of issue 17: the 2- and 6-month reminders of EX-03 (the host's HR answers both)
    each keep their own answer and name their moment; the cohort sheet's evaluation session
    (S-03-EVAL) and reflection moment (S-04-REFL) carry their people's links; once the switcher
    is erased, no link about their exchange opens any more."""
    from datetime import UTC, datetime

    from connector.store.erasure import erase_person

    mailed.replace('id = "groenkracht"', 'id = "groenkracht"\nhr_email = "hr@groenkracht.be"')
    mailed.route("groenkracht", "imip")
    assert run_sync(mailed.config(), MOMENT).status == "ok"
    first, second = (LINK.search(b).group(1) for b in plain_bodies(smtp, "na de leeruitwisseling")["hr@groenkracht.be"])
    site = Site(mailed)
    try:
        for path, effect in ((first, "Na twee maanden: rustiger onthaal"), (second, "Na zes maanden: een nieuw onthaalplan")):
            form = {"csrf": site.csrf(path), "preparation": "4", "went": "5", "effect": effect}
            assert site.client.post(path, data=form).status_code == 200
        assert sorted((a.session_code, a.values["effect"]) for a in site.answers()) == [
            ("EX-03-EVAL-2M", "Na twee maanden: rustiger onthaal"), ("EX-03-EVAL-6M", "Na zes maanden: een nieuw onthaalplan")]
        page = shown(site.client.get(first))  # the first moment's answer, not overwritten by the second
        assert "Evaluatie, 2 maanden na de leeruitwisseling" in page and "rustiger onthaal" in page and "zes maanden" not in page
        site.login()
        overview = shown(site.client.get("/"))  # the answers in the coordinator's words, not the form's keys
        assert "<dt>What effect do you see on the coach, the team or the organisation?</dt>" in overview and "<dt>effect</dt>" not in overview
        assert "(Host, Evaluation of the learning exchange EX-03-EVAL-2M," in overview

        def link_to(recipient: str, subject: str) -> str:
            """The link in the invitation whose subject holds `subject` that reached `recipient`."""
            bodies = [b for b in plain_bodies(smtp, subject).get(recipient, [])]
            assert len(bodies) == 1, (recipient, subject, bodies)
            return LINK.search(bodies[0]).group(1)

        with site.db() as db:
            stijn, amelie = (db.scalar(select(Person).where(Person.email.like(f"{name}%"))) for name in ("stijn", "amelie"))
            stijn_email, amelie_email = stijn.email, amelie.email
        evaluation = site.client.get(link_to(stijn_email, "Switching Talent – Evaluatie: "))
        assert evaluation.status_code == 200 and "Evaluatie, 2026-12-14 15:00" in shown(evaluation) and "Is je leervraag beantwoord?" in shown(evaluation)
        reflection = site.client.get(link_to(amelie_email, "Moment de réflexion"))
        assert reflection.status_code == 200 and "Hallo Amélie" not in shown(reflection), shown(reflection)
        with site.db() as db:
            erase_person(db, site.config, stijn_email, None, datetime.now(UTC))
            db.commit()
        assert site.client.get(second).status_code == 404  # the host's link about the erased switcher's exchange
        assert site.client.post(second, data={"csrf": "x", "preparation": "1", "went": "1"}).status_code == 404
    finally:
        site.close()
