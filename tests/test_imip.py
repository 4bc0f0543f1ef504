"""iMIP invitations delivered to a real SMTP server on loopback, then read back with the
standard email package and two independent iCalendar parsers."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from email.message import Message
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject

from connector.engine.sync import run_sync
from tests.fakes.smtp_server import PASSWORD, FakeSmtp

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))


@pytest.fixture
def network(sqlite_network, smtp, monkeypatch):
    monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", PASSWORD)
    return invite_by_mail(sqlite_network, smtp)


def invite_by_mail(network, smtp):
    """Brouwers & Peeters and Les Petits Pas invited by e-mail through `smtp` (29 messages: 17 for the
    exchanges, and the cohort's kick-off and terugkommoment for their 6 switchers and coaches)."""
    network.add_before_cohort(smtp.channel_toml())
    for organisation in ("brouwers-peeters", "petits-pas"):
        network.route(organisation, "imip")
    return network


def messages(smtp) -> list[tuple[list[str], Message]]:
    return [(r.recipients, email.message_from_bytes(r.data, policy=email.policy.default)) for r in smtp.received]


def calendar_part(message: Message) -> tuple[Message, bytes]:
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0], parts[0].get_payload(decode=True)


def test_upcoming_sessions_reach_the_smtp_server_as_valid_imip(network, smtp):
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    # Brouwers & Peeters (B04 once, Evelien as coach of EX-05 and EX-06) and Les Petits Pas (P01, P02) are invited by e-mail.
    # (and the cohort's kick-off and terugkommoment to Evelien, Stijn, Mohamed, Amélie, Nathalie and Jérôme: 2 x 6)
    assert sorted(r[0] for r, _ in messages(smtp)).count("evelien@brouwers-peeters.be") == 7 + 2
    # and Stijn's two evaluation reminders for EX-03, and (issue 25) the note to Nathalie's manager Amélie (Les Petits Pas informs)
    # and the terugkommoment to Wim, line manager of a Brouwers & Peeters switcher (its audience names the line managers)
    assert len(smtp.received) == 1 + 4 + 3 + 4 + 3 + 2 + 2 * 6 + 1 + 1
    recipients, message = next((r, m) for r, m in messages(smtp) if r == ["amelie.dubois@lespetitspas.be"] and "Entretien" in m["Subject"])
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html", "text/calendar"]
    assert attachment.get_content_type() == "application/ics" and attachment.get_filename() == "invite.ics"
    part, ics = calendar_part(message)
    assert part.get_param("method") == "REQUEST"
    assert attachment.get_payload(decode=True) == ics
    parsed = icalendar.Calendar.from_ical(ics)
    assert str(parsed["METHOD"]) == part.get_param("method")
    vevent = parsed.walk("VEVENT")[0]
    assert "Entretien de présentation" in str(vevent["SUMMARY"])  # Amélie reads French
    assert {str(a) for a in vevent["ATTENDEE"]} == {"mailto:amelie.dubois@lespetitspas.be", "mailto:nele.geerts@zonneke.be"}
    card = vobject.readOne(ics.decode())
    assert card.vevent.uid.value == str(vevent["UID"]) and card.vevent.dtstart.value.hour == 10
    assert message["Subject"].startswith("Invitation : ") and message["From"].endswith("<switch@lerenswitchen.be>")
    plain = alternative.get_payload()[0].get_payload(decode=True).decode()
    assert "Vous êtes invité(e)" in plain and "Question d'apprentissage : Comment d'autres milieux" in plain
    assert smtp.received[0].sender == "switch@lerenswitchen.be"


def test_rerun_sends_nothing_a_move_sends_one_update_per_attendee_a_cancellation_one_cancel(network, smtp):
    run_sync(network.config(), MOMENT)
    first = len(smtp.received)
    assert sum(run_sync(network.config(), MOMENT).invites.values()) == 0 and len(smtp.received) == first
    network.edit_csv("cohort/sessies.csv", "S-06-D1;EX-06;uitwisselingsdag;13/06/2028", "S-06-D1;EX-06;uitwisselingsdag;20/06/2028")
    run_sync(network.config(), MOMENT)
    updates = messages(smtp)[first:]
    assert [r for r, _ in updates] == [["evelien@brouwers-peeters.be"]]
    vevent = icalendar.Calendar.from_ical(calendar_part(updates[0][1])[1]).walk("VEVENT")[0]
    assert vevent["SEQUENCE"] == 1 and vevent.decoded("DTSTART").day == 20
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;geannuleerd")
    run_sync(network.config(), MOMENT)
    cancels = messages(smtp)[first + 1:]
    assert len(cancels) == 3
    for recipients, message in cancels:
        part, ics = calendar_part(message)
        assert recipients == ["evelien@brouwers-peeters.be"] and part.get_param("method") == "CANCEL"
        assert str(icalendar.Calendar.from_ical(ics)["METHOD"]) == "CANCEL" and message["Subject"].startswith("Geannuleerd: ")


def test_a_refused_recipient_is_reported_alone_and_tried_again_later(network, smtp):
    network.edit_csv("brouwers-peeters/medewerkers.csv", "stijn@brouwers-peeters.be", "stijn@refused.example", encoding="utf-8")
    summary = run_sync(network.config(), MOMENT)
    refused = [e for e in summary.errors if e.source == "invitations-imip"]
    stijn = ["EX-03-EVAL-2M|stijn@refused.example", "EX-03-EVAL-6M|stijn@refused.example", "GM-KICKOFF|stijn@refused.example",
             "GM-TERUG|stijn@refused.example", "S-03-EVAL|stijn@refused.example"]  # with the cohort's two group moments
    assert sorted(e.record for e in refused) == stijn
    assert all("refused: 550" in e.message for e in refused) and summary.status == "partial"
    # everyone else got theirs (the group moments: the 5 others, twice, and Wim, a line manager, the terugkommoment; the note to Nathalie's manager)
    assert len(smtp.received) == 14 + 2 * 5 + 1 + 1
    again = run_sync(network.config(), MOMENT)
    assert sorted(e.record for e in again.errors if e.source == "invitations-imip") == stijn


def test_a_dropped_coach_gets_a_cancellation_and_nobody_else_a_message(network, smtp):
    network.edit_csv("cohort/uitwisselingen.csv", "EX-06;LV-06;LP-BP-PLAN;B05;bevestigd", "EX-06;LV-06;LP-BP-PLAN;B05;bevestigd")
    run_sync(network.config(), MOMENT)
    first = len(smtp.received)
    network.edit_csv("cohort/uitwisselingen.csv", "EX-06;LV-06;LP-BP-PLAN;B05;bevestigd", "EX-06;LV-06;LP-BP-PLAN;B02;bevestigd")
    run_sync(network.config(), MOMENT)
    sent = messages(smtp)[first:]
    # An becomes a coach of the cohort: she joins the audience of its group moments (an invitation each), and
    # their other attendees by e-mail get the update listing her; the exchange's own messages are as before.
    group = [(r, m) for r, m in sent if b"X-ST-KIND:group_" in calendar_part(m)[1]]
    sent = [(r, m) for r, m in sent if (r, m) not in group]
    assert sorted((r[0], calendar_part(m)[0].get_param("method")) for r, m in sent) == \
        sorted([("evelien@brouwers-peeters.be", "CANCEL")] * 4 + [("an@brouwers-peeters.be", "REQUEST")] * 4)
    assert {calendar_part(m)[0].get_param("method") for _, m in group} == {"REQUEST"}
    # the kick-off to 7 by e-mail, the terugkommoment to 8 (Wim, a line manager, too)
    assert sorted(r[0] for r, _ in group).count("an@brouwers-peeters.be") == 2 and len(group) == 7 + 8


def test_wrong_smtp_password_fails_every_message_without_showing_it(network, smtp, monkeypatch):
    monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", "not-the-password")
    summary = run_sync(network.config(), MOMENT)
    failed = [e for e in summary.errors if e.source == "invitations-imip"]
    # the 2 group moments, the terugkommoment to Wim (a line manager), the manager note
    assert len(failed) == 17 + 2 * 6 + 1 + 1 and "unusable: SMTPAuthenticationError" in failed[0].message
    assert "not-the-password" not in str(summary.as_dict()) and not smtp.received


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # the connection is TLS from the first byte
def test_implicit_tls_and_certificate_verification(sqlite_network, monkeypatch):
    server = FakeSmtp(implicit_tls=True).start()
    try:
        monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", PASSWORD)
        sqlite_network.add_before_cohort(server.channel_toml(trust=False))
        sqlite_network.route("petits-pas", "imip")
        untrusted = run_sync(sqlite_network.config(), MOMENT)  # our test CA is not trusted: verification is on by default
        assert any("CERTIFICATE_VERIFY_FAILED" in e.message for e in untrusted.errors) and not server.received
        sqlite_network.config_path.write_text(sqlite_network.config_path.read_text().replace('security = "tls"', f'security = "tls"\nca_bundle = "{server.ca_file}"'))
        trusted = run_sync(sqlite_network.config(), MOMENT)
        assert trusted.status == "ok", trusted.errors
        assert len(server.received) == 4 + 3 + 2 * 3 + 1  # Amélie (EX-04) and Nathalie (EX-07); the 2 group moments to them and Jérôme; the note to Amélie
    finally:
        server.stop()


def test_reminders_can_be_plain_e_mails_for_people_invited_by_e_mail(network, smtp):
    text = network.config_path.read_text()
    assert 'format = "calendar"' in text
    network.config_path.write_text(text.replace('format = "calendar"', 'format = "email"'))
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    reminders = [(r, m) for r, m in messages(smtp) if m["Subject"].startswith("Herinnering: ")]
    assert [r for r, _ in reminders] == [["stijn@brouwers-peeters.be"], ["stijn@brouwers-peeters.be"]]
    for _, message in reminders:
        assert message.get_content_type() == "multipart/alternative"
        assert not [p for p in message.walk() if p.get_content_type() in ("text/calendar", "application/ics")]
        body = message.get_payload()[0].get_content()
        assert "tijd om terug te blikken" in body and ("Wanneer: 28 december 2026, 10:00" in body or "Wanneer: 26 april 2027, 10:00" in body)
    invitations = [m for _, m in messages(smtp) if m["Subject"].startswith("Uitnodiging: ")]
    assert invitations and all(m.get_content_type() == "multipart/mixed" for m in invitations)  # sessions stay invitations


def test_the_partners_catalog_words_the_mail_intro(network, smtp):
    network.replace('# catalog_dir = "texts"', 'catalog_dir = "texts"')
    (network.root / "texts").mkdir()
    (network.root / "texts" / "nl.po").write_text('msgid "mail.request.intro"\nmsgstr "Welkom! Je agenda neemt deze uitnodiging op."\n',
                                                   encoding="utf-8")
    assert run_sync(network.config(), MOMENT).status == "ok"
    invitations = [m for _, m in messages(smtp) if m["Subject"].startswith("Uitnodiging: ")]
    # the cohort's group moments have words of their own (mail.group.request.intro), which a catalog overrides alike
    sessions = [m for m in invitations if "groepsmoment van het Switching Talent-cohort" not in m.get_body(("plain",)).get_content()]
    assert sessions and len(sessions) < len(invitations)
    for message in sessions:
        body = message.get_body(("plain",)).get_content()
        assert body.startswith("Welkom! Je agenda neemt deze uitnodiging op.\n\n") and "Je bent uitgenodigd" not in body
    assert any(m["Subject"].startswith("Invitation : ") for _, m in messages(smtp))  # French mails keep the bundled words
