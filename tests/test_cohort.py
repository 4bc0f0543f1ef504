"""The cohort around the exchanges (issue 25): phases and deadlines, group moments invited to
their audience, deadline reminders to whoever still owes something, and the status view.

The example network has cohort LS-2026 (examples/data/cohort/cohorten.csv, fasen.csv) with a
kick-off on 14/01/2027 (online, switchers and coaches) and a terugkommoment on 14/10/2027 (on
site, switchers, coaches, HR, line managers and Sofie De Smet of 't Zonneke by name). Hanne
Verhaegen (LV-08) and Mohamed Ait Ouali (LV-10) have no live exchange and no first preference:
they owe their preferences, due 29/01/2027.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import func, select

from connector.engine.cohort import managers_of
from connector.engine.status import build_status
from connector.plumbing.killpoint import VARIABLE
from connector.store.db import open_engine, session_factory
from connector.store.tables import LearningQuestion, OutboxItem, Person
from tests.conftest import REPO, invited_by_email
from tests.test_sync import sync

BEFORE = "2026-12-06"  # both group moments ahead; the preferences' reminders not yet
REMINDING = "2027-01-20"  # within 14 days of the preferences' deadline (29/01/2027)
HANNE, MOHAMED, SOFIE = "hanne.verhaegen@zonneke.be", "mohamed@brouwers-peeters.be", "sofie.desmet@zonneke.be"
# the moment of the module's one shared sync (tests/conftest.py `synced_example`): tests that only
# read take that network; those that change it take `synced_copy` (a copy of its store and outputs)
SYNCED_AT = datetime.fromisoformat(BEFORE).replace(tzinfo=ZoneInfo("Europe/Brussels"))


def vevent(path) -> icalendar.Event:
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    (event,) = calendar.walk("VEVENT")
    return event


def attendees(event) -> list[str]:
    found = event.get("ATTENDEE") or []
    found = found if isinstance(found, list) else [found]
    return sorted(str(a).removeprefix("mailto:") for a in found)


def received(smtp, since: int = 0) -> list[tuple[str, str, icalendar.Event | None, email.message.Message]]:
    """(recipient, METHOD or "", the VEVENT, the message) per message the server took."""
    found = []
    for message in smtp.received[since:]:
        parsed = email.message_from_bytes(message.data, policy=email.policy.default)
        parts = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
        if parts:
            calendar = icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))
            found.append((message.recipients[0], str(calendar["METHOD"]), calendar.walk("VEVENT")[0], parsed))
        else:
            found.append((message.recipients[0], "", None, parsed))
    return found


def switchers_managers(network) -> set[str]:
    """The work e-mails of the cohort's switchers' line managers, as the store knows them."""
    engine = open_engine(network.store_url)
    try:
        with session_factory(engine)() as db:
            switchers = list(db.scalars(select(Person).join(LearningQuestion, LearningQuestion.switcher_id == Person.id)))
            return {m.email for m in managers_of(db, switchers)}
    finally:
        engine.dispose()


def status(network, as_of: str):
    engine = open_engine(network.store_url)
    try:
        with session_factory(engine)() as db:
            return build_status(db, network.config(), now=datetime.fromisoformat(as_of).replace(tzinfo=ZoneInfo("Europe/Brussels")))
    finally:
        engine.dispose()


# -- group moments on the example network ----------------------------------------------------

def test_the_example_invites_its_kickoff_and_terugkommoment(synced_example):
    network = synced_example
    folder = network.out / "invitations"
    kickoff, terug = vevent(folder / "GM-KICKOFF.ics"), vevent(folder / "GM-TERUG.ics")
    # the kick-off: every switcher with a learning question in the cohort (9) and every coach (6), online
    assert len(attendees(kickoff)) == 15 and HANNE in attendees(kickoff) and "chloe.lambert@groenkracht.be" in attendees(kickoff)
    assert "LOCATION" not in kickoff and str(kickoff["SUMMARY"]).startswith("Switching Talent – Kick-off")
    assert str(kickoff["STATUS"]) == "CONFIRMED" and int(kickoff["SEQUENCE"]) == 0
    # the terugkommoment: the same, plus Sofie De Smet named in the list and the switchers' line managers
    # (issue 25 item 3); on site; Dutch and French (Les Petits Pas) described
    assert attendees(terug) == sorted({*attendees(kickoff), SOFIE, *switchers_managers(network)})
    assert str(terug["LOCATION"]) == "Zelebaan 42, 9160 Lokeren"
    assert "terugkommoment" in str(terug["DESCRIPTION"]) and "journée de retour" in str(terug["DESCRIPTION"])


def test_a_rerun_of_the_example_writes_nothing(synced_copy):
    before = synced_copy.output_hashes()
    again = sync(synced_copy, as_of=BEFORE)
    assert again.status == "ok" and sum(again.invites.values()) == 0 and not again.written_files
    assert synced_copy.output_hashes() == before


def test_a_group_moment_removed_from_the_sheet_is_cancelled_for_everyone(synced_copy):
    network = synced_copy
    network.edit_csv("cohort/groepsmomenten.csv", "GM-KICKOFF;LS-2026;kick-off;;14/01/2027;13:30;16:30;online;;switchers, leercoaches;\n", "")
    summary = sync(network, as_of="2026-12-07")
    assert summary.status == "ok", summary.errors
    assert summary.invites["cancelled"] == 1
    event = vevent(network.out / "invitations" / "GM-KICKOFF.ics")
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1
    assert sum(sync(network, as_of="2026-12-07").invites.values()) == 0


def test_a_person_leaving_the_audience_gets_a_cancel_for_that_moment_only(sqlite_network, monkeypatch):
    """RFC 5546 section 3.2.5 through iMIP (a real SMTP server, aiosmtpd): the removed attendee
    gets a CANCEL naming only her, without STATUS; the others an updated REQUEST without her;
    her invitation to the kick-off is left alone."""
    network = sqlite_network
    with invited_by_email(network, monkeypatch, "zonneke") as smtp:
        # Sofie De Smet is also a line manager of switchers: only the list names her here
        network.edit_csv("cohort/groepsmomenten.csv", "switchers, leercoaches, hr, leidinggevenden;", "switchers, leercoaches, hr;")
        sync(network, as_of=BEFORE)
        first = received(smtp)
        sent_to = {to for to, method, event, _ in first if event is not None and str(event["UID"]) == str(vevent(network.out / "invitations" / "GM-TERUG.ics")["UID"])}
        assert SOFIE in sent_to and HANNE in sent_to
        count = len(smtp.received)
        network.edit_csv("cohort/groepsmomenten.csv", ";zonneke:Z002", ";")
        summary = sync(network, as_of="2026-12-07")
        assert summary.status == "ok", summary.errors
        later = received(smtp, count)
        cancels = [(to, event) for to, method, event, _ in later if method == "CANCEL"]
        requests = [(to, event) for to, method, event, _ in later if method == "REQUEST"]
        assert [to for to, _ in cancels] == [SOFIE]
        (to, cancel), = cancels
        (message,) = [m for to, method, _, m in later if method == "CANCEL"]
        words = message.get_body(("plain",)).get_content()
        assert "niet langer op de uitnodigingslijst" in words and "gaat niet door" not in words  # off for her only
        assert message["Subject"].startswith("Niet langer uitgenodigd: ")
        assert attendees(cancel) == [SOFIE] and "STATUS" not in cancel and str(cancel["UID"]).startswith(str(vevent(network.out / "invitations" / "GM-TERUG.ics")["UID"]).split("@")[0])
        assert requests and all(SOFIE not in attendees(event) and str(event["STATUS"]) == "CONFIRMED" for _, event in requests)
        assert {str(event["UID"]) for _, event in requests} == {str(cancel["UID"])}  # the terugkommoment only: the kick-off is left alone
        assert {to for to, _ in requests} == sent_to - {SOFIE}
        # her place in the .ics copy too: the updated REQUEST lists everyone but her
        assert SOFIE not in attendees(vevent(network.out / "invitations" / "GM-TERUG.ics"))
        count = len(smtp.received)
        assert sum(sync(network, as_of="2026-12-07").invites.values()) == 0 and len(smtp.received) == count
        # back on the list: a new REQUEST for her (and the others see her again)
        network.edit_csv("cohort/groepsmomenten.csv", "leercoaches, hr;\n", "leercoaches, hr;zonneke:Z002\n")
        sync(network, as_of="2026-12-08")
        assert SOFIE in {to for to, method, _, _ in received(smtp, count) if method == "REQUEST"}


def test_on_the_files_channel_a_person_leaving_the_audience_gets_a_cancel_file_of_their_own(synced_copy):
    """The default channel (files): the line managers taken off the terugkommoment's audience,
    and Sofie De Smet off its list, between two syncs: each gets `GM-TERUG-uninvited-<hex>.ics`,
    read back with icalendar: METHOD:CANCEL, the moment's UID, the updated copy's SEQUENCE, only
    them as ATTENDEE and no STATUS (RFC 5546 section 3.2.5), in their language; each is listed to
    send to them; the shared copy goes on without them. A crash after the files were written and
    before they were booked repeats the same bytes; a re-run writes nothing."""
    from tests.conftest import dies_after_delivery

    network = synced_copy
    folder = network.out / "invitations"
    invited = set(attendees(vevent(folder / "GM-TERUG.ics")))
    assert SOFIE in invited and not list(folder.glob("*uninvited*"))
    network.edit_csv("cohort/groepsmomenten.csv", "switchers, leercoaches, hr, leidinggevenden;zonneke:Z002", "switchers, leercoaches, hr;")
    with dies_after_delivery("calendar-files"):
        sync(network, as_of="2026-12-07")
    crashed = network.output_hashes()
    summary = sync(network, as_of="2026-12-07")
    assert summary.status == "ok", summary.errors
    assert network.output_hashes() == crashed  # the same files again, nothing else
    shared = vevent(folder / "GM-TERUG.ics")
    left = invited - set(attendees(shared))
    assert SOFIE in left and left <= switchers_managers(network) | {SOFIE}  # the managers who are not also switchers or coaches
    assert str(shared["STATUS"]) == "CONFIRMED" and HANNE in attendees(shared) and int(shared["SEQUENCE"]) == 1
    cancels = {}
    for path in folder.glob("GM-TERUG-uninvited-*.ics"):
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        (cancel,) = calendar.walk("VEVENT")
        assert str(calendar["METHOD"]) == "CANCEL" and "STATUS" not in cancel
        assert str(cancel["UID"]) == str(shared["UID"]) and int(cancel["SEQUENCE"]) == int(shared["SEQUENCE"])
        (who,) = attendees(cancel)
        cancels[who] = (path, cancel)
    assert set(cancels) == left  # one file per person who left, naming only them
    path, cancel = cancels[SOFIE]
    assert "terugkommoment" in str(cancel["DESCRIPTION"]).lower()
    assert "journée de retour" not in str(cancel["DESCRIPTION"])  # hers only, in her language
    assert int(vevent(folder / "GM-KICKOFF.ics")["SEQUENCE"]) == 0  # the kick-off is left alone
    listed = [w for w in summary.written_files if w["file"] == str(path)]
    assert listed == [{"target": "calendar-files", "object": "calendar_event", "id": f"GM-TERUG|{SOFIE}", "action": "cancel",
                       "file": str(path), "to": {"email": SOFIE, "name": "Sofie De Smet", "language": "nl"}}]
    assert len([w for w in summary.written_files if w["action"] == "cancel"]) == len(left)
    before = network.output_hashes()
    again = sync(network, as_of="2026-12-08")
    assert sum(again.invites.values()) == 0 and not again.written_files and network.output_hashes() == before


def test_on_the_files_channel_a_coach_replaced_on_an_exchange_gets_a_cancel_file_for_each_session_ahead(synced_copy):
    """The exchange's own sessions as the group moments: EX-04's coach Nele Geerts (Zonneke,
    files) replaced by Sofie De Smet between two syncs: Nele gets `<session>-uninvited-<hex>.ics`
    for each session ahead, a CANCEL naming only her, without STATUS, with the updated copy's
    UID and SEQUENCE; the copy lists Sofie instead; a re-run writes nothing. Back as the coach,
    she is on the copy again, whose higher SEQUENCE supersedes her CANCEL (RFC 5546 section 2.1.5)."""
    network = synced_copy
    folder = network.out / "invitations"
    nele = "nele.geerts@zonneke.be"
    sessions = ("S-04-INTRO", "S-04-D1", "S-04-D2", "S-04-REFL")
    assert all(nele in attendees(vevent(folder / f"{code}.ics")) for code in sessions)
    network.edit_csv("cohort/uitwisselingen.csv", "EX-04;LV-04;LP-ZON-BABY;Z008;", "EX-04;LV-04;LP-ZON-BABY;Z002;")
    summary = sync(network, as_of="2026-12-07")
    assert summary.status == "ok", summary.errors
    cancels = {}
    for path in folder.glob("S-04-*-uninvited-*.ics"):
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        (cancel,) = calendar.walk("VEVENT")
        shared = vevent(folder / (path.name.split("-uninvited-")[0] + ".ics"))
        assert str(calendar["METHOD"]) == "CANCEL" and "STATUS" not in cancel and attendees(cancel) == [nele]
        assert str(cancel["UID"]) == str(shared["UID"]) and int(cancel["SEQUENCE"]) == int(shared["SEQUENCE"]) == 1
        assert SOFIE in attendees(shared) and nele not in attendees(shared) and str(shared["STATUS"]) == "CONFIRMED"
        cancels[path.name.split("-uninvited-")[0]] = path
    assert sorted(cancels) == sorted(sessions)
    listed = {w["id"]: w for w in summary.written_files if w["action"] == "cancel"}
    assert set(listed) == {f"{code}|{nele}" for code in sessions}
    assert listed[f"S-04-D1|{nele}"]["to"] == {"email": nele, "name": "Nele Geerts", "language": "nl"}
    assert not [p for p in folder.glob("*-uninvited-*") if not p.name.startswith(("S-04-", "GM-"))]  # nobody else's
    before = network.output_hashes()
    again = sync(network, as_of="2026-12-08")
    assert sum(again.invites.values()) == 0 and not again.written_files and network.output_hashes() == before
    network.edit_csv("cohort/uitwisselingen.csv", "EX-04;LV-04;LP-ZON-BABY;Z002;", "EX-04;LV-04;LP-ZON-BABY;Z008;")
    assert sync(network, as_of="2026-12-09").status == "ok"
    for code in sessions:
        shared, cancel = vevent(folder / f"{code}.ics"), vevent(cancels[code])
        assert nele in attendees(shared) and int(shared["SEQUENCE"]) > int(cancel["SEQUENCE"])


def test_a_moment_cancelled_for_everyone_and_back_with_fewer_people_sends_no_second_cancel(synced_copy):
    """GM-TERUG off the sheet (a CANCEL to all in GM-TERUG.ics), then back without the line
    managers: they had the moment's CANCEL already, so no file of their own is written for them."""
    network = synced_copy
    sheet = network.data / "cohort" / "groepsmomenten.csv"
    moments = sheet.read_text(encoding="utf-8-sig")
    terug = next(line for line in moments.splitlines() if line.startswith("GM-TERUG;"))
    network.edit_csv("cohort/groepsmomenten.csv", terug + "\n", "")
    assert sync(network, as_of="2026-12-07").invites["cancelled"] == 1
    network.edit_csv("cohort/groepsmomenten.csv", "leercoaches;\n", "leercoaches;\n" + terug.replace(", leidinggevenden", "") + "\n")
    summary = sync(network, as_of="2026-12-08")
    assert summary.status == "ok", summary.errors
    assert str(vevent(network.out / "invitations" / "GM-TERUG.ics")["STATUS"]) == "CONFIRMED"
    assert not list((network.out / "invitations").glob("*uninvited*")) and summary.invites["cancelled"] == 0


def test_group_moments_go_through_each_organisations_channel_in_the_recipients_language(sqlite_network, monkeypatch):
    network = sqlite_network
    with invited_by_email(network, monkeypatch, "petits-pas") as smtp:
        summary = sync(network, as_of=BEFORE)
        assert summary.status == "ok", summary.errors
        kickoffs = [(to, event, message) for to, method, event, message in received(smtp)
                    if event is not None and str(event["X-ST-KIND"]) == "group_kickoff"]
        # only Les Petits Pas's people by e-mail (3: switchers P01, P02 and coach P04), each in French
        assert sorted(to for to, _, _ in kickoffs) == ["amelie.dubois@lespetitspas.be", "jerome.lefevre@lespetitspas.be",
                                                       "nathalie.francois@lespetitspas.be"]
        assert all(message["Content-Language"] == "fr" and "Lancement" in str(event["SUMMARY"]) for _, event, message in kickoffs)
        assert all(len(attendees(event)) == 15 for _, event, _ in kickoffs)  # the invitation lists the whole meeting
        # named as the cohort's kick-off (the group moment's own words), never as an exchange's session
        words = kickoffs[0][2].get_body(("plain",)).get_content()
        assert "moment collectif de la cohorte Switching Talent : Lancement" in words and "session" not in words


# -- deadline reminders ------------------------------------------------------------------

def reminder_files(network) -> dict[str, icalendar.Event]:
    return {p.name: vevent(p) for p in sorted((network.out / "invitations").glob("LS-2026-DUE-*.ics"))}


def test_deadline_reminders_go_to_who_owes_preferences_once_and_stop_once_delivered(network):
    sync(network, as_of=BEFORE)
    assert reminder_files(network) == {}  # more than 14 days before the deadline
    summary = sync(network, as_of=REMINDING)
    assert summary.status == "ok", summary.errors
    files = reminder_files(network)
    assert sorted(files) == ["LS-2026-DUE-preferences-brouwers-peeters-B06.ics", "LS-2026-DUE-preferences-zonneke-Z003.ics"]
    hanne = files["LS-2026-DUE-preferences-zonneke-Z003.ics"]
    assert attendees(hanne) == [HANNE] and "top drie" in str(hanne["SUMMARY"]) and "29 januari 2027" in str(hanne["DESCRIPTION"])
    assert hanne["DTSTART"].dt.date().isoformat() == "2027-01-29"
    assert sum(sync(network, as_of=REMINDING).invites.values()) == 0  # once
    # Hanne states her first preference: her reminder is withdrawn, Mohamed's stays as it was
    network.edit_csv("cohort/leervragen.csv", "Herkomst\n", "Herkomst;Voorkeur 1\n")
    network.edit_csv("cohort/leervragen.csv", "met diversiteit in het team?;;;", "met diversiteit in het team?;;;;groenkracht")
    summary = sync(network, as_of="2027-01-21")
    assert summary.status == "ok", summary.errors
    assert summary.invites == {"created": 0, "updated": 0, "cancelled": 1}
    files = reminder_files(network)
    assert str(files["LS-2026-DUE-preferences-zonneke-Z003.ics"]["STATUS"]) == "CANCELLED"
    assert str(files["LS-2026-DUE-preferences-brouwers-peeters-B06.ics"]["STATUS"]) == "CONFIRMED"
    assert sum(sync(network, as_of="2027-01-22").invites.values()) == 0
    # after the deadline nothing more goes out, whoever still owes
    assert sum(sync(network, as_of="2027-01-30").invites.values()) == 0


def test_an_organisation_without_learning_questions_in_the_cohort_reminds_its_hr_contact_in_its_language(sqlite_network, monkeypatch):
    """Les Petits Pas's questions belong to another cohort (the Cohort column): for LS-2026 it
    owes learning questions; its HR contact, by e-mail, gets the reminder in French."""
    network = sqlite_network
    with invited_by_email(network, monkeypatch, "petits-pas") as smtp:
        network.replace('id = "petits-pas"', 'id = "petits-pas"\nhr_email = "rh@lespetitspas.be"')
        network.edit_csv("cohort/cohorten.csv", "Netwerk Leren Switchen\n", "Netwerk Leren Switchen\nLS-2027;Leren Switchen 2027-2028;2027;\n")
        network.edit_csv("cohort/fasen.csv", "LS-2026;leervragen;01/09/2026;30/11/2026", "LS-2026;leervragen;01/09/2026;29/01/2027")
        network.edit_csv("cohort/leervragen.csv", "Herkomst\n", "Herkomst;Cohort\n")
        for code in ("LV-04", "LV-07"):
            path = network.data / "cohort" / "leervragen.csv"
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            path.write_text("\n".join(line + ";LS-2027" if line.startswith(code + ";") else line for line in lines) + "\n", encoding="utf-8-sig")
        summary = sync(network, as_of=REMINDING)
        assert summary.status == "ok", summary.errors
        reminders = [(to, event, message) for to, method, event, message in received(smtp)
                     if (method == "" and not str(message["Message-ID"]).startswith("<manager.")) or  # not a note to a manager
                     (event is not None and str(event["X-ST-KIND"]) == "deadline")]
        assert [to for to, _, _ in reminders] == ["rh@lespetitspas.be"]
        (_, event, message), = reminders
        assert message["Content-Language"] == "fr" and "questions d'apprentissage" in str(event["SUMMARY"])
        words = message.get_body(("plain",)).get_content()
        assert words.startswith("Un rappel de la cohorte Switching Talent : une échéance approche") and "session" not in words
        assert "29 janvier 2027" in str(event["DESCRIPTION"])
        document = status(network, "2027-01-30")
        (cohort,) = [c for c in document["cohorts"] if c["code"] == "LS-2026"]
        assert {"phase": "questions", "deadline": "2027-01-29", "who": "Crèche Les Petits Pas asbl", "organisation": "petits-pas"} in cohort["overdue"]


# -- status -------------------------------------------------------------------------------

def test_status_shows_the_cohorts_phase_and_who_is_overdue(synced_example):
    network = synced_example
    (cohort,) = status(network, BEFORE)["cohorts"]
    assert (cohort["code"], cohort["name"], cohort["year"]) == ("LS-2026", "Leren Switchen 2026-2027", 2026)
    assert cohort["phase"] == "preferences" and cohort["overdue"] == []
    assert [(p["phase"], p["state"]) for p in cohort["phases"]] == [
        ("questions", "done"), ("places", "done"), ("preferences", "current"), ("matching", "upcoming"),
        ("exchanges", "upcoming"), ("evaluation", "upcoming")]
    assert [(m["code"], m["kind"]) for m in cohort["group_moments"]] == [("GM-KICKOFF", "kickoff"), ("GM-TERUG", "return_moment")]
    (cohort,) = status(network, "2027-03-02")["cohorts"]
    assert cohort["phase"] == "exchanges"
    assert sorted((o["phase"], o["who"]) for o in cohort["overdue"]) == [
        ("matching", "LV-08 (Hanne Verhaegen)"), ("matching", "LV-10 (Mohamed Ait Ouali)"),
        ("preferences", "Hanne Verhaegen"), ("preferences", "Mohamed Ait Ouali")]


def test_status_json_and_text_carry_the_cohort(synced_example):
    from tests.test_cli import cli

    sqlite_network = synced_example
    result = cli("status", "--config", str(sqlite_network.config_path), "--json", "--as-of", "2027-03-02")
    document = json.loads(result.stdout)
    assert document["cohorts"][0]["phase"] == "exchanges" and len(document["cohorts"][0]["overdue"]) == 4
    text = cli("status", "--config", str(sqlite_network.config_path), "--as-of", "2027-03-02").stdout
    assert "Cohort LS-2026 Leren Switchen 2026-2027 (2026): phase uitwisselingen" in text
    assert "overdue since 2027-01-29: voorkeuren by Hanne Verhaegen (zonneke)" in text
    # the people's words in the partner's language (nl), not the codes the --json document keeps
    assert "Terugkommoment for switchers, leercoaches, HR-contactpersonen, leidinggevenden, wie bij Deelnemers staat" in text
    assert not any(code in text for code in ("return_moment", "kickoff", "managers", " hr,"))
    assert [m["kind"] for m in document["cohorts"][0]["group_moments"]] == ["kickoff", "return_moment"]


def test_status_with_json_answers_a_bad_date_with_a_json_document_and_exit_code_2(synced_example):
    """As every --json command reports a mistake (cli._config_problems): one JSON document on
    standard output, the message on standard error, exit code 2 (a user mistake)."""
    from tests.test_cli import cli

    result = cli("status", "--config", str(synced_example.config_path), "--json", "--as-of", "2027-13-45")
    assert result.returncode == 2
    document = json.loads(result.stdout)
    assert document["status"] == "usage error"
    (error,) = document["errors"]
    assert "--as-of" in error["message"] and "'2027-13-45' is not a date in the form YYYY-MM-DD" in error["message"]
    assert "2027-13-45" in result.stderr
    plain = cli("status", "--config", str(synced_example.config_path), "--as-of", "2027-13-45")
    assert plain.returncode == 2 and plain.stdout == "" and "usage: st-connector status" in plain.stderr


def test_status_shows_the_coachs_leerbewijs_next_to_the_switchers(synced_example):
    """Les Petits Pas has coach_learning: EX-01's coach Jérôme Lefèvre holds LB-<year>-C0001 of his own."""
    from tests.test_cli import cli

    sqlite_network = synced_example
    document = json.loads(cli("status", "--config", str(sqlite_network.config_path), "--json", "--as-of", BEFORE).stdout)
    (ex01,) = [e for o in document["organisations"] for e in o["exchanges"] if e["code"] == "EX-01"]
    assert ex01["leerbewijs"] == "LB-2026-0001"
    assert ex01["coach_leerbewijzen"] == [{"number": "LB-2026-C0001", "coach": "Jérôme Lefèvre"}]
    text = cli("status", "--config", str(sqlite_network.config_path), "--as-of", BEFORE).stdout
    (line,) = [line for line in text.splitlines() if line.strip().startswith("EX-01 ")]
    assert "LB-2026-0001, LB-2026-C0001 (coach Jérôme Lefèvre)" in line


def test_a_reminder_for_an_organisation_without_hr_email_is_no_file_but_a_problem_naming_it(sqlite_network):
    """Les Petits Pas owes learning questions for LS-2026 and has no hr_email: no reminder file
    for nobody is written or listed to send; a problem names the organisation and the field; the
    switchers' reminders still go through."""
    network = sqlite_network
    network.edit_csv("cohort/fasen.csv", "LS-2026;leervragen;01/09/2026;30/11/2026", "LS-2026;leervragen;01/09/2026;29/01/2027")
    network.edit_csv("cohort/cohorten.csv", "Netwerk Leren Switchen\n", "Netwerk Leren Switchen\nLS-2027;Leren Switchen 2027-2028;2027;\n")
    network.edit_csv("cohort/leervragen.csv", "Herkomst\n", "Herkomst;Cohort\n")
    path = network.data / "cohort" / "leervragen.csv"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    cohort_of = {"LV-04": ";LS-2027", "LV-07": ";LS-2027"}  # two cohorts now: the others say theirs
    path.write_text("\n".join(line + cohort_of.get(line.split(";")[0], ";LS-2026") if line.startswith("LV-") else line for line in lines)
                    + "\n", encoding="utf-8-sig")
    summary = sync(network, as_of=REMINDING)
    assert summary.status == "ok", summary.errors
    files = reminder_files(network)
    assert not [name for name in files if "questions" in name]  # no .ics without an attendee
    assert not [w for w in summary.written_files if "DUE-questions" in w["id"]]
    assert "LS-2026-DUE-preferences-zonneke-Z003.ics" in files  # the good ones go through
    (problem,) = [p for p in summary.errors if p.field == "hr_email"]
    assert (problem.entity, problem.record) == ("organisations", "petits-pas")
    assert "Crèche Les Petits Pas asbl" in problem.message and "hr_email" in problem.message
    assert sum(sync(network, as_of=REMINDING).invites.values()) == 0


def test_erase_dry_run_lists_the_group_moments_list_entry_as_the_erase_does(synced_copy):
    """Sofie De Smet is on GM-TERUG's own list (Deelnemers): the dry run lists taking her off it,
    changes nothing, and the erase does what it listed."""
    from tests.test_cli import cli

    from connector.store.tables import GroupMoment

    network = synced_copy
    entry = "removed: group moment attendee entries (Deelnemers: on the list of a kick-off, preparatory meeting or terugkommoment)"

    def erase(*extra: str) -> dict:
        result = cli("erase", "--config", str(network.config_path), "--person", SOFIE, "--json", *extra)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)["people"][0]["counts"]

    def listed() -> list:
        engine = open_engine(network.store_url)
        with session_factory(engine)() as db:
            found = db.get(GroupMoment, "GM-TERUG").people
        engine.dispose()
        return found

    before = listed()
    assert len(before) == 1
    dry = erase("--dry-run")
    assert dry[entry] == 1 and listed() == before
    done = erase()
    assert done == dry and listed() == []


# -- bad input and the audience's line managers --------------------------------------------

def test_a_bad_group_moment_is_a_problem_naming_it_and_the_good_one_goes_through(sqlite_network):
    network = sqlite_network
    network.edit_csv("cohort/groepsmomenten.csv", "14/01/2027;13:30;16:30;online;;switchers, leercoaches;",
                     "14/01/2027;13:30;16:30;online;;switchers, bazen;")
    network.edit_csv("cohort/groepsmomenten.csv", ";zonneke:Z002", ";zonneke:Z999")
    # Sofie De Smet is also a line manager of switchers: only the list names her here
    network.edit_csv("cohort/groepsmomenten.csv", "switchers, leercoaches, hr, leidinggevenden;", "switchers, leercoaches, hr;")
    summary = sync(network, as_of=BEFORE)
    problems = [(p.entity, p.record, p.field) for p in summary.errors if not p.warning]
    assert any(entity == "group_moments" and field == "audience" for entity, _, field in problems), summary.errors
    assert any(entity == "group_moments" and field == "people" and "Z999" in p.message for p in summary.errors
               for entity, _, field in [(p.entity, p.record, p.field)])
    assert not (network.out / "invitations" / "GM-KICKOFF.ics").exists()
    assert SOFIE not in attendees(vevent(network.out / "invitations" / "GM-TERUG.ics"))


def test_the_line_managers_audience_invites_the_switchers_managers(synced_example):
    """GM-TERUG's audience names the line managers: the managers the HR sources give the
    cohort's switchers (issue 25 item 3) are among its attendees."""
    expected = switchers_managers(synced_example)
    assert expected, "the example gives some switchers a manager"
    assert expected <= set(attendees(vevent(synced_example.out / "invitations" / "GM-TERUG.ics")))


# -- crash: a kill between two group-moment writes ----------------------------------------

def cli_sync(network, as_of: str, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({VARIABLE: kill_at} if kill_at else {})}
    return subprocess.run([sys.executable, "-m", "connector.cli", "sync", "--config", str(network.config_path), "--as-of", as_of, "--json"],
                          capture_output=True, text=True, timeout=180, env=env, cwd=REPO)


def group_moment_items(network) -> list[tuple[str, str, str, int]]:
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        found = [(i.target, i.object_id, i.status, i.sequence) for i in db.scalars(
            select(OutboxItem).where(OutboxItem.object_id.like("GM-%")).order_by(OutboxItem.id))]
    engine.dispose()
    return found


@pytest.mark.slow
def test_a_kill_between_two_group_moment_writes_recovers_without_doubles(network, monkeypatch):
    """The group moments arrive in a sheet already synced; the sync dies (SIGKILL) right after
    the first group moment's .ics is in place, then after the first group-moment e-mail the
    SMTP server accepted: the next run finishes, one invitation each, nothing twice."""
    with invited_by_email(network, monkeypatch, "petits-pas") as smtp:
        sheet = network.data / "cohort" / "groepsmomenten.csv"
        moments = sheet.read_text(encoding="utf-8")
        sheet.write_text(moments.splitlines()[0] + "\n", encoding="utf-8")
        assert cli_sync(network, BEFORE).returncode == 0
        sent = len(smtp.received)
        sheet.write_text(moments, encoding="utf-8")
        killed = cli_sync(network, BEFORE, "file:1")  # the first group moment's file, before the second's
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        assert (network.out / "invitations" / "GM-KICKOFF.ics").exists() and not (network.out / "invitations" / "GM-TERUG.ics").exists()
        killed = cli_sync(network, BEFORE, "send:1")  # the files are finished; the first group-moment message, then dead
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
        finished = cli_sync(network, BEFORE)
        assert finished.returncode == 0, finished.stdout[-3000:]
        ids = [email.message_from_bytes(r.data, policy=email.policy.default)["Message-ID"] for r in smtp.received[sent:]]
        # 2 moments x 3 people of Les Petits Pas; SMTP has no idempotency: the one message accepted
        # just before the kill may come again (same Message-ID), nothing else (README, Crashes)
        assert len(set(ids)) == 6 and len(ids) - len(set(ids)) <= 1, ids
        items = group_moment_items(network)
        assert {(target, status, sequence) for target, _, status, sequence in items} == {("calendar-files", "done", 0), ("invitations-imip", "done", 0)}
        assert len(items) == 2 + 6
        for name in ("GM-KICKOFF.ics", "GM-TERUG.ics"):
            assert int(vevent(network.out / "invitations" / name)["SEQUENCE"]) == 0
        again = json.loads(cli_sync(network, BEFORE).stdout)
        assert sum(again["invites"].values()) == 0 and len(smtp.received) == sent + len(ids)


def test_the_cohort_sheets_read_with_french_headers_as_with_dutch_ones(sqlite_network):
    """README: the three cohort sheets take Dutch, French or English headers (the review found a
    French Groepsmomenten sheet refused: its date and times were read under Dutch names only)."""
    network = sqlite_network
    cohort = network.data / "cohort"
    french = {
        "cohorten.csv": ("Code;Naam;Jaar;ST-partner", "Code;Nom;Année;Partenaire ST"),
        "fasen.csv": ("Cohort;Fase;Van;Deadline", "Cohorte;Phase;Du;Échéance"),
        "groepsmomenten.csv": ("Code;Cohort;Soort;Titel;Datum;Van;Tot;Vorm;Locatie;Doelgroep;Deelnemers",
                               "Code;Cohorte;Type;Titre;Date;Du;Au;Forme;Lieu;Public;Participants"),
    }
    for name, (dutch, header) in french.items():
        content = (cohort / name).read_text(encoding="utf-8")
        assert content.startswith(dutch + "\n"), name
        content = header + content[len(dutch):]
        if name == "groepsmomenten.csv":
            content = content.replace(";kick-off;", ";lancement;").replace(";terugkommoment;", ";journée de retour;")
            content = content.replace(";online;", ";en ligne;").replace(";ter plaatse;", ";sur place;")
        (cohort / name).write_text(content, encoding="utf-8")
    summary = sync(network, as_of=BEFORE)
    assert summary.status == "ok", summary.errors
    folder = network.out / "invitations"
    kickoff, terug = vevent(folder / "GM-KICKOFF.ics"), vevent(folder / "GM-TERUG.ics")
    assert len(attendees(kickoff)) == 15 and str(kickoff["DTSTART"].dt.strftime("%d/%m/%Y %H:%M")) == "14/01/2027 13:30"
    assert str(terug["LOCATION"]) == "Zelebaan 42, 9160 Lokeren" and SOFIE in attendees(terug)


def test_after_an_erasure_whoever_leaves_a_moment_still_gets_their_cancel_file(synced_copy):
    """The review: erasing someone on a group moment deleted the moment's shared copy from the
    outbox, so the next one to leave it got no CANCEL file. The erasure now takes only their
    attendee entry off that copy (tests/test_erasure.py checks nothing of them stays)."""
    from tests.test_cli import cli

    network = synced_copy
    folder = network.out / "invitations"
    before = set(attendees(vevent(folder / "GM-KICKOFF.ics")))
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        last_run = db.scalar(select(func.max(OutboxItem.planned_run)))
    engine.dispose()
    erased = cli("erase", "--config", str(network.config_path), "--person", HANNE, "--json")
    assert erased.returncode == 0, erased.stderr
    network.edit_csv("cohort/groepsmomenten.csv", "online;;switchers, leercoaches;", "online;;switchers;")  # the coaches leave the kick-off
    summary = sync(network, as_of="2026-12-07")
    assert summary.status == "ok", summary.errors
    left = before - set(attendees(vevent(folder / "GM-KICKOFF.ics")))
    cancels = [attendees(vevent(path)) for path in folder.glob("GM-KICKOFF-uninvited-*.ics")]
    assert len(left) == 6 and sorted(who for (who,) in cancels) == sorted(left)
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:  # the copies the erasure kept no longer name her (she is back as a new person since)
        kept = db.scalars(select(OutboxItem).where(OutboxItem.planned_run <= last_run)).all()
        assert kept and not [i for i in kept if HANNE in json.dumps(i.payload) or "Hanne" in json.dumps(i.payload)]
    engine.dispose()


def test_a_moment_whose_audience_names_nobody_is_no_file_but_a_warning(sqlite_network):
    network = sqlite_network
    sheet = network.data / "cohort" / "groepsmomenten.csv"
    sheet.write_text(sheet.read_text(encoding="utf-8") + "GM-Y;LS-2026;ander;Leeg;20/01/2027;10:00;11:00;online;;;zonneke:Z999\n",
                     encoding="utf-8")
    summary = sync(network, as_of=BEFORE)
    assert not (network.out / "invitations" / "GM-Y.ics").exists() and (network.out / "invitations" / "GM-KICKOFF.ics").exists()
    said = {(e.record, e.field): e.message for e in summary.errors if e.entity == "group_moments" and e.warning}
    assert "nobody who can be invited" in said[("GM-Y", "audience")]
    assert ("GM-TERUG", "audience") not in said  # the example's hr reaches nobody (no hr_email), but the moment has its people


def test_a_preference_naming_no_organisation_is_a_problem_and_its_switcher_is_still_reminded(sqlite_network):
    """The review: 'blah-org' as Mohamed's first preference counted as stated, so he was never reminded."""
    network = sqlite_network
    network.edit_csv("cohort/leervragen.csv", "Herkomst\n", "Herkomst;Voorkeur 1\n")
    network.edit_csv("cohort/leervragen.csv", "servicetechnici;", "servicetechnici;;blah-org")
    summary = sync(network, as_of=REMINDING)
    (problem,) = [e for e in summary.errors if e.field == "preference"]
    assert (problem.source, problem.entity, problem.record) == ("cohort/cohort", "learning_questions", "leervragen.csv row 10")
    assert "no organisation 'blah-org'" in problem.message
    assert "LS-2026-DUE-preferences-brouwers-peeters-B06.ics" in reminder_files(network)


def test_erase_lists_the_group_moments_copies_and_the_managers_notes_that_name_the_person(synced_copy):
    """The review: a switcher on both group moments, and a manager with a note about her report,
    were told of none of those copies outside the store."""
    from tests.test_cli import cli

    def outside(person: str) -> set[tuple[str, str]]:
        done = cli("erase", "--config", str(synced_copy.config_path), "--person", person, "--dry-run", "--json")
        assert done.returncode == 0, done.stderr
        (report,) = json.loads(done.stdout)["people"]
        return {(c["where"], c["what"]) for c in report["external"]}

    hanne = outside(HANNE)
    assert {("target calendar-files", "calendar_event GM-KICKOFF"), ("target calendar-files", "calendar_event GM-TERUG")} <= hanne
    sofie = outside(SOFIE)
    assert ("target calendar-files", "calendar_event GM-TERUG") in sofie
    assert any(where == "target manager-notes" for where, _ in sofie), sofie
