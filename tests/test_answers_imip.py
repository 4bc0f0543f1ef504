"""Attendees' answers to iMIP invitations, read from the organizer's mailbox over IMAP: the real
Cyrus IMAP server on loopback holds the mail, the REPLYs are written by another iCalendar
writer than ours (vobject) the way a mail program answers a REQUEST (RFC 5546 section 3.2.3,
RFC 6047 section 2.4), and the attendance rule acts on a decline as it does for Outlook."""

from __future__ import annotations

import imaplib
import itertools
import time
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from zoneinfo import ZoneInfo

import pytest
import vobject
from sqlalchemy import select

from connector.core.config import load_config
from connector.engine.status import build_status
from connector.engine.sync import check, run_sync
from connector.store.db import open_engine, session_factory
from connector.store.tables import ExternalRef
from tests.fakes.cyrus_server import PASSWORD, Cyrus
from tests.fakes.smtp_server import PASSWORD as SMTP_PASSWORD
from tests.test_answers_caldav import responses
from tests.test_attendance import ledger
from tests.test_caldav_cyrus import cyrus  # noqa: F401  (the session's Cyrus server)
from tests.test_imip import invite_by_mail, messages

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
AFTER_EX_04 = datetime(2027, 5, 20, tzinfo=ZoneInfo("Europe/Brussels"))
SWITCHER = "amelie.dubois@lespetitspas.be"  # EX-04's switcher, invited by e-mail
ORGANIZER = "switch@lerenswitchen.be"
TARGET = "invitations-imip"
_mailboxes = itertools.count(1)


@pytest.fixture
def mailbox(cyrus) -> str:  # noqa: F811
    """A Cyrus user of its own per test, whose INBOX stands for the organizer's mailbox."""
    name = f"replies{next(_mailboxes)}t{int(time.time() * 1000) % 10_000_000}"
    cyrus.user(name)
    return name


@pytest.fixture
def mail_network(network, smtp, cyrus, mailbox, monkeypatch):  # noqa: F811
    """The example network on either store, Brouwers & Peeters and Les Petits Pas invited by
    e-mail, the answers read from `mailbox` on Cyrus."""
    monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    monkeypatch.setenv("ST_TEST_IMAP_PASSWORD", PASSWORD)
    invite_by_mail(network, smtp)
    # TLS from the first byte, the default (RFC 8314), verified against the test CA.
    network.add_before_cohort(f'[channels.imip.replies]\nhost = "127.0.0.1"\nport = {cyrus.imaps_port}\nca_bundle = "{cyrus.ca_file}"\n'
                              f'username = "{mailbox}"\npassword = "${{ST_TEST_IMAP_PASSWORD}}"\n')
    return network


def deliver(cyrus: Cyrus, mailbox: str, message: EmailMessage) -> None:  # noqa: F811
    """Into the mailbox as its mail server would file it (IMAP APPEND, RFC 9051 section 6.3.12)."""
    with imaplib.IMAP4("127.0.0.1", cyrus.imap_port, timeout=10) as imap:
        imap.login(mailbox, PASSWORD)
        status, answer = imap.append("INBOX", "", imaplib.Time2Internaldate(time.time()), message.as_bytes())
        assert status == "OK", answer


def request_to(smtp, recipient: str, uid: str) -> str:  # type: ignore[no-untyped-def]
    """The REQUEST the connector mailed to `recipient` for the event `uid`, as iCalendar text."""
    for recipients, message in messages(smtp):
        for part in message.walk():
            if recipients == [recipient] and part.get_content_type() == "text/calendar":
                text = part.get_payload(decode=True).decode()
                if f"UID:{uid}" in text.replace("\r\n ", ""):
                    return text
    raise AssertionError(f"no REQUEST for {uid} went to {recipient}")


def reply_mail(request_ics: str, attendee: str, partstat: str) -> EmailMessage:
    """The answer a mail program sends (RFC 5546 section 3.2.3): METHOD:REPLY, the same UID and
    SEQUENCE, only the answering ATTENDEE with their PARTSTAT; written with vobject."""
    calendar = vobject.readOne(request_ics)
    calendar.method.value = "REPLY"
    event = calendar.vevent
    event.contents["attendee"] = [a for a in event.contents["attendee"] if a.value.lower() == f"mailto:{attendee}"]
    event.attendee.params = {"PARTSTAT": [partstat]}
    for dropped in ("description", "location", "valarm", "x-microsoft-cdo-busystatus"):
        event.contents.pop(dropped, None)
    event.dtstamp.value = datetime.now(ZoneInfo("UTC"))
    return mail(attendee, f"{partstat.title()}: {event.summary.value}", calendar.serialize(), method="REPLY")


def mail(sender: str, subject: str, ics: str | None, method: str = "REPLY") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, ORGANIZER, subject
    message["Date"], message["Message-ID"] = format_datetime(datetime.now(ZoneInfo("UTC"))), make_msgid(domain="mail.example")
    message.set_content("Sent from my calendar.\n")
    if ics is not None:
        message.add_alternative(ics.encode(), maintype="text", subtype="calendar", params={"method": method})
    return message


def uid_of(network, object_id: str) -> str:  # type: ignore[no-untyped-def]
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        ref = db.scalar(select(ExternalRef).where(ExternalRef.target == TARGET, ExternalRef.object_id == object_id))
        assert ref is not None and ref.uid
        uid = ref.uid
    engine.dispose()
    return uid


def uid_commands(monkeypatch) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    """Every IMAP UID command (SEARCH, FETCH, STORE) the connector sends from now on."""
    sent: list[tuple[str, ...]] = []
    real = imaplib.IMAP4.uid

    def counted(self, command, *args):  # type: ignore[no-untyped-def]
        sent.append((command, *map(str, args)))
        return real(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", counted)
    return sent


def test_a_declined_reply_by_mail_is_read_once_and_the_day_not_written(mail_network, smtp, cyrus, mailbox, monkeypatch):  # noqa: F811
    network = mail_network
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok", first.errors
    day = uid_of(network, f"S-04-D1|{SWITCHER}")
    deliver(cyrus, mailbox, mail("colleague@lerenswitchen.be", "Lunch?", None))  # ordinary mail: not ours to judge
    deliver(cyrus, mailbox, reply_mail(request_to(smtp, SWITCHER, day), SWITCHER, "DECLINED"))

    answered = run_sync(network.config(), MOMENT)
    assert answered.status == "ok", answered.errors
    assert answered.declined == [{"target": TARGET, "session": "S-04-D1", "attendee": SWITCHER}]
    assert not [p for p in answered.errors if p.source == TARGET]  # the plain mail is no warning
    assert responses(network, TARGET)[f"S-04-D1|{SWITCHER}"] == {SWITCHER: "declined"}
    engine = open_engine(network.store_url)
    with session_factory(engine)() as db:
        document = build_status(db, load_config(network.config_path), now=MOMENT)
    engine.dispose()
    shown = next(s for o in document["organisations"] for e in o["exchanges"] for s in e["sessions"] if s["code"] == "S-04-D1")
    assert shown["state"] == "declined" and shown["declined"] == [SWITCHER]

    sent = uid_commands(monkeypatch)
    quiet = run_sync(network.config(), MOMENT)
    assert quiet.declined == [] and sent == []  # one SELECT saw UIDNEXT unchanged: nothing searched or fetched
    assert quiet.invites == {"created": 0, "updated": 0, "cancelled": 0}

    after = run_sync(network.config(), AFTER_EX_04)
    assert {d["session"]: d["reason"] for d in after.not_counted}["S-04-D1"] == "declined in the calendar"
    rows = ledger(network, "petits-pas")
    assert "exchange:S-04-D1" not in rows and rows["exchange:S-04-D2"]["status"] == "recorded"


def test_what_is_not_a_reply_to_our_events_is_a_warning_naming_the_message(mail_network, smtp, cyrus, mailbox):  # noqa: F811
    network = mail_network
    run_sync(network.config(), MOMENT)
    day = uid_of(network, f"S-04-D2|{SWITCHER}")
    request = request_to(smtp, SWITCHER, day)
    stranger = reply_mail(request.replace(day, "not-ours-1234@elsewhere.example"), SWITCHER, "DECLINED")
    broken = mail(SWITCHER, "Declined", "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT=DECLINED:mailto:x\r\n")
    forwarded = mail("someone@elsewhere.example", "Invitation", request, method="REQUEST")  # an invitation, not an answer
    accepted = reply_mail(request, SWITCHER, "ACCEPTED")
    for message in (stranger, broken, forwarded, accepted):
        deliver(cyrus, mailbox, message)

    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors  # warnings only: the good reply went through
    warnings = {p.record: (p.field, p.message) for p in summary.errors if p.source == TARGET}
    assert all(p.warning for p in summary.errors if p.source == TARGET)
    by_id = {m["Message-ID"]: m for m in (stranger, broken, forwarded)}
    assert len(warnings) == 3 and {record.split(" ")[-1] for record in warnings} == set(by_id)
    named = {record.split(" ")[-1]: found for record, found in warnings.items()}
    assert named[stranger["Message-ID"]][0] == "UID" and "not-ours-1234@elsewhere.example" in named[stranger["Message-ID"]][1]
    assert named[broken["Message-ID"]][0] == "text/calendar"
    assert named[forwarded["Message-ID"]] == ("METHOD", "a calendar REQUEST, not a REPLY: left alone")
    assert responses(network, TARGET)[f"S-04-D2|{SWITCHER}"] == {SWITCHER: "accepted"}
    again = run_sync(network.config(), MOMENT)
    assert not [p for p in again.errors if p.source == TARGET]  # each message is judged once


def test_a_mailbox_that_cannot_be_read_is_an_error_and_nothing_is_skipped(mail_network, smtp, cyrus, mailbox, monkeypatch):  # noqa: F811
    network = mail_network
    run_sync(network.config(), MOMENT)
    day = uid_of(network, f"S-04-D1|{SWITCHER}")
    deliver(cyrus, mailbox, reply_mail(request_to(smtp, SWITCHER, day), SWITCHER, "DECLINED"))
    monkeypatch.setenv("ST_TEST_IMAP_PASSWORD", "wrong")
    refused = run_sync(network.config(), MOMENT)
    assert refused.status == "partial" and refused.declined == []
    [problem] = [p for p in refused.errors if p.source == TARGET]
    assert "could not be read" in problem.message and "wrong" not in str(problem) and PASSWORD not in str(problem)
    monkeypatch.setenv("ST_TEST_IMAP_PASSWORD", PASSWORD)
    assert run_sync(network.config(), MOMENT).declined  # the cursor stayed: the reply is read now


def test_check_opens_the_mailbox_for_answers(mail_network, cyrus, monkeypatch):  # noqa: F811
    assert check(mail_network.config()) == []
    monkeypatch.setenv("ST_TEST_IMAP_PASSWORD", "wrong")
    [warning] = check(mail_network.config())
    assert "invitations-imip" in warning and "answers" in warning and "wrong" not in warning
    monkeypatch.setenv("ST_TEST_IMAP_PASSWORD", PASSWORD)
    # STARTTLS on the plain port works too; a certificate nobody vouches for is refused.
    mail_network.replace(f"port = {cyrus.imaps_port}\n", f'port = {cyrus.imap_port}\nsecurity = "starttls"\n')
    assert check(mail_network.config()) == []
    mail_network.replace(f'ca_bundle = "{cyrus.ca_file}"\n', "")
    [untrusted] = check(mail_network.config())
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted or "certificate verify failed" in untrusted


def test_the_examples_commented_imap_block_is_valid_configuration(sqlite_network, monkeypatch):
    """config.example.toml's [channels.imip] and [channels.imip.replies] blocks, uncommented as
    they stand (only the secrets come from the environment), load with TLS on port 993 by default."""
    import re as regex

    from tests.conftest import REPO

    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    block = text[text.index("# [channels.imip]\n"):text.index("# -- alerts")]
    toml = "\n".join(line[2:] for line in block.splitlines() if regex.match(r"# (\[|\w+ = )", line))
    monkeypatch.setenv("ST_SMTP_PASSWORD", "s")
    monkeypatch.setenv("ST_IMAP_PASSWORD", "i")
    sqlite_network.add_before_cohort(toml)
    replies = sqlite_network.config().channels.imip.replies
    assert replies is not None and (replies.host, replies.security, replies.folder, replies.mark_seen) == \
        ("imap.lerenswitchen.be", "tls", "INBOX", False)
    assert replies.password is not None and replies.password.get_secret_value() == "i"


def test_a_crash_before_the_answers_are_stored_reads_them_again(mail_network, smtp, cyrus, mailbox, monkeypatch):  # noqa: F811
    """The cursor moves on in the transaction that stores the answers (as for Graph): a crash
    in between leaves both as they were, and the next run reads the same REPLY once."""
    import connector.engine.sync as sync_module

    network = mail_network
    run_sync(network.config(), MOMENT)
    day = uid_of(network, f"S-04-D1|{SWITCHER}")
    deliver(cyrus, mailbox, reply_mail(request_to(smtp, SWITCHER, day), SWITCHER, "DECLINED"))
    with monkeypatch.context() as patch:
        def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise SystemExit("killed while storing the answers")

        patch.setattr(sync_module, "_book_by_uid", crash)
        with pytest.raises(SystemExit):
            run_sync(network.config(), MOMENT)
    assert responses(network, TARGET)[f"S-04-D1|{SWITCHER}"] == {}
    again = run_sync(network.config(), MOMENT)
    assert again.declined == [{"target": TARGET, "session": "S-04-D1", "attendee": SWITCHER}]
    assert run_sync(network.config(), MOMENT).declined == []


def test_mark_seen_flags_only_the_replies_it_read(mail_network, smtp, cyrus, mailbox):  # noqa: F811
    network = mail_network
    network.replace('password = "${ST_TEST_IMAP_PASSWORD}"\n', 'password = "${ST_TEST_IMAP_PASSWORD}"\nmark_seen = true\n')
    run_sync(network.config(), MOMENT)
    day = uid_of(network, f"S-04-D1|{SWITCHER}")
    deliver(cyrus, mailbox, mail("colleague@lerenswitchen.be", "Lunch?", None))
    deliver(cyrus, mailbox, reply_mail(request_to(smtp, SWITCHER, day), SWITCHER, "DECLINED"))
    assert run_sync(network.config(), MOMENT).declined
    with imaplib.IMAP4("127.0.0.1", cyrus.imap_port, timeout=10) as imap:
        imap.login(mailbox, PASSWORD)
        imap.select("INBOX", readonly=True)
        status, answer = imap.fetch("1:*", "(FLAGS)")
    flags = [entry.decode() for entry in answer if entry]
    assert status == "OK" and len(flags) == 2
    assert "\\Seen" not in flags[0] and "\\Seen" in flags[1] and "\\Deleted" not in " ".join(flags)


def test_a_folder_made_anew_is_read_from_its_first_message(mail_network, smtp, cyrus, mailbox):  # noqa: F811
    """A new UIDVALIDITY (RFC 9051 section 2.3.1.1: the UIDs were given out again) makes the
    cursor's next UID meaningless: the folder is read from the start."""
    from tests.fakes.cyrus_server import ADMIN

    network = mail_network
    run_sync(network.config(), MOMENT)
    request = request_to(smtp, SWITCHER, uid_of(network, f"S-04-D1|{SWITCHER}"))
    deliver(cyrus, mailbox, mail("colleague@lerenswitchen.be", "Lunch?", None))
    deliver(cyrus, mailbox, reply_mail(request, SWITCHER, "DECLINED"))
    assert run_sync(network.config(), MOMENT).declined
    with imaplib.IMAP4("127.0.0.1", cyrus.imap_port, timeout=10) as imap:  # the mailbox is deleted and made again
        imap.login(ADMIN, PASSWORD)
        assert imap.setacl(f"user/{mailbox}", ADMIN, "lrswipkxtecdan")[0] == "OK"
        assert imap.delete(f"user/{mailbox}")[0] == "OK"
        assert imap.create(f"user/{mailbox}")[0] == "OK"
    deliver(cyrus, mailbox, reply_mail(request, SWITCHER, "ACCEPTED"))  # UID 1 again, below the cursor's next UID
    assert run_sync(network.config(), MOMENT).status == "ok"
    assert responses(network, TARGET)[f"S-04-D1|{SWITCHER}"] == {SWITCHER: "accepted"}
