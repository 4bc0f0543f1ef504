"""Invitations as iMIP e-mail (RFC 6047 on RFC 5546), for people outside Microsoft 365.

One message per session and attendee, from the project mailbox, in the recipient's language:

    multipart/mixed
      multipart/alternative
        text/plain
        text/html
        text/calendar; method=REQUEST (or CANCEL, equal to the METHOD inside)
      application/ics attachment "invite.ics" (the same calendar object)

Updates keep the UID and raise SEQUENCE; cancellations are METHOD:CANCEL. Messages go out
over one SMTP connection per batch, with STARTTLS or implicit TLS and verification on by
default; credentials come from the configuration's ${...} references. A refused recipient
or a failing message is reported for that message only and retried on a later run.
SMTP has no idempotency and nothing to look up afterwards, so each message is booked (and
committed) as soon as the server accepted it: a crash can repeat only the one message in
flight; its Message-ID is deterministic, so mail programs can recognise the repetition.
Options: host, port, security (starttls | tls | none), username, password, sender,
verify_tls, ca_bundle, timeout.

Answers: with [channels.imip.replies] the organizer's mailbox is read over IMAP for the
attendees' iTIP REPLYs (RFC 5546 section 3.2.3, sent as RFC 6047 iMIP by their mail program).
Only messages that arrived since the last read are fetched (the cursor is the folder's
UIDVALIDITY and the next UID, RFC 9051 section 2.3.1.1; one SELECT when nothing arrived), with
BODY.PEEK in a folder opened read-only: nothing is deleted, moved or flagged, unless
`mark_seen` marks the REPLYs that were read as seen. A REPLY's UID names our event and its
ATTENDEE's PARTSTAT the answer. Mail without a calendar part is left alone silently; a calendar
part that is not a REPLY, cannot be read, or answers an event we did not send is a warning
naming the message.
"""

from __future__ import annotations

import hashlib
import imaplib
import json
import re
import smtplib
from collections.abc import Iterator
from datetime import datetime
from email import encoders
from email import message_from_bytes
from email.policy import default as email_policy
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from connector.core.calendar import CalendarEvent, Party, to_ics
from connector.core.errors import Problem
from connector.core.itip import read_answers
from connector.core.manager_note import note_message
from connector.core.texts import labelled, long_moment, text
from connector.plumbing.killpoint import reached
from connector.plumbing.imap import connect as connect_imap
from connector.plumbing.imap import mailbox_name
from connector.plumbing.smtp import connect
from connector.sinks import CALENDAR, MANAGER_NOTE, Response, Sink
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem


class ImipMail(Sink):
    kind = "imip"
    object_types = frozenset({CALENDAR, MANAGER_NOTE})  # manager notes: plain e-mail, connector/core/manager_note.py
    batch_size = 50  # messages per SMTP connection
    books_each = True

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> Iterator[Outcome]:
        try:
            connection = self._connect()
        except (OSError, smtplib.SMTPException) as error:
            reason = f"SMTP server {self.options['host']}:{self.options.get('port', 587)} unusable: {type(error).__name__}: {_short(error)}"
            yield from (Outcome(ok=False, error=reason) for _ in items)
            return
        try:
            for item in items:
                yield self._send(connection, item)  # booked by the engine before the next message goes
        finally:
            try:
                connection.quit()
            except (OSError, smtplib.SMTPException):
                pass

    def _connect(self) -> smtplib.SMTP:
        return connect(self.options, self.context.config.base_dir)

    def _send(self, connection: smtplib.SMTP, item: OutboxItem) -> Outcome:
        if item.object_type == MANAGER_NOTE:
            return self._send_note(connection, item)
        message, recipient = self.message(item)
        try:
            refused = connection.send_message(message, from_addr=self.sender, to_addrs=[recipient.email])
        except smtplib.SMTPRecipientsRefused as error:
            code, reason = next(iter(error.recipients.values()), (0, b""))
            return Outcome(ok=False, error=f"recipient {recipient.email} refused: {code} {reason.decode(errors='replace')}")
        except (smtplib.SMTPException, OSError) as error:
            return Outcome(ok=False, error=f"not sent to {recipient.email}: {type(error).__name__}: {_short(error)}")
        if refused:
            return Outcome(ok=False, error=f"recipient {recipient.email} refused: {refused}")
        reached("send")  # crash tests: die right after the server accepted the message
        return Outcome(ok=True, remote_id=str(message["Message-ID"]), uid=CalendarEvent.model_validate(item.payload["event"]).uid)

    def _send_note(self, connection: smtplib.SMTP, item: OutboxItem) -> Outcome:
        """A manager note: one plain message, booked like an invitation as soon as it was accepted."""
        address = str(item.payload["recipient"]["email"])
        host = self.sender.rpartition("@")[2] or "st-connector"
        message = note_message(item.payload, item.object_id, item.sequence, self.sender, host)
        try:
            refused = connection.send_message(message, from_addr=self.sender, to_addrs=[address])
        except smtplib.SMTPRecipientsRefused as error:
            code, reason = next(iter(error.recipients.values()), (0, b""))
            return Outcome(ok=False, error=f"recipient {address} refused: {code} {reason.decode(errors='replace')}")
        except (smtplib.SMTPException, OSError) as error:
            return Outcome(ok=False, error=f"not sent to {address}: {type(error).__name__}: {_short(error)}")
        if refused:
            return Outcome(ok=False, error=f"recipient {address} refused: {refused}")
        reached("send")  # crash tests: die right after the server accepted the message
        return Outcome(ok=True, remote_id=str(message["Message-ID"]))

    @property
    def sender(self) -> str:
        return str(self.options.get("sender") or self.context.config.partner.organiser_email)

    def message(self, item: OutboxItem) -> tuple[MIMEMultipart, Party]:
        event = CalendarEvent.model_validate(item.payload["event"])
        recipient = Party.model_validate(item.payload["recipient"])
        method = "CANCEL" if item.action == "cancel" else "REQUEST"
        stamp = datetime.fromisoformat(item.payload["dtstamp"])
        language = recipient.language
        plain_mail = item.payload.get("format") == "email"  # a reminder as a plain e-mail, no calendar item
        kind = _message_kind(method, plain_mail, bool(item.payload.get("uninvited")))
        when = labelled(language, "mail.when", long_moment(language, event.start.astimezone(ZoneInfo(event.timezone)))) if plain_mail else ""
        plain = "\n\n".join(part for part in [_intro(language, kind, event), when, event.description, text(language, "mail.footer")] if part)
        html = "".join(f"<p>{escape(part).replace(chr(10), '<br>')}</p>" for part in plain.split("\n\n"))

        body = MIMEMultipart("alternative")
        body.attach(MIMEText(plain, "plain", "utf-8"))
        body.attach(MIMEText(f"<html><body>{html}</body></html>", "html", "utf-8"))
        if plain_mail:
            message = body
        else:
            ics = to_ics(event, method, item.payload["sequence"], stamp, uninvited=bool(item.payload.get("uninvited")))
            calendar_part = MIMEText(ics.decode("utf-8"), "calendar", "utf-8")
            calendar_part.set_param("method", method)
            body.attach(calendar_part)
            attachment = MIMEBase("application", "ics", name="invite.ics")
            attachment.set_payload(ics)
            encoders.encode_base64(attachment)
            attachment.add_header("Content-Disposition", "attachment", filename="invite.ics")
            message = MIMEMultipart("mixed")
            message.attach(body)
            message.attach(attachment)
        message["Subject"] = text(language, f"mail.{kind}.subject", summary=event.summary)
        message["From"] = formataddr((event.organizer.name, self.sender))
        message["To"] = formataddr((recipient.name, recipient.email))
        message["Date"] = format_datetime(stamp)
        message["Message-ID"] = _message_id(event.uid, item.sequence, recipient.email, method)
        message["Content-Language"] = language
        message["Auto-Submitted"] = "auto-generated"
        return message, recipient

    # -- attendees' answers (iTIP REPLY by e-mail) ---------------------------------------------

    @property
    def reads_responses(self) -> bool:  # type: ignore[override]  # only with a mailbox to read
        return bool(self.options.get("replies"))

    def read_responses(self, cursor: str | None) -> tuple[list[Response], str | None]:
        """The answers in the REPLYs that arrived in the mailbox since `cursor`, each with the
        event's UID (remote_id empty: the engine finds our message by it), and the cursor
        {"uidvalidity", "next"}. A mailbox that cannot be read is an error in `read_problems`
        and leaves the cursor as it was, so nothing is skipped."""
        self._problems: list[Problem] = []
        settings = self.options.get("replies")
        if not settings:
            return [], cursor
        state = json.loads(cursor) if cursor else {}
        folder = str(settings.get("folder") or "INBOX")
        try:
            connection = connect_imap(settings, self.context.config.base_dir)
        except (OSError, imaplib.IMAP4.error) as error:
            self._problems.append(Problem(self.name, "responses", f"mailbox {folder}", "",
                                          f"could not be read: IMAP server {settings['host']}: {type(error).__name__}: {_short(error)}"))
            return [], cursor
        try:
            return self._read_folder(connection, folder, state, bool(settings.get("mark_seen")))
        except (OSError, imaplib.IMAP4.error) as error:
            self._problems.append(Problem(self.name, "responses", f"mailbox {folder}", "",
                                          f"could not be read: {type(error).__name__}: {_short(error)}"))
            return [], cursor
        finally:
            try:
                connection.logout()
            except (OSError, imaplib.IMAP4.error):
                pass

    def read_problems(self) -> list[Problem]:
        return list(getattr(self, "_problems", []))

    def probe(self) -> list[str]:
        """With a mailbox for answers: a warning when it cannot be opened (login, then EXAMINE
        of the folder, RFC 9051 section 6.3.3). Reads nothing and changes nothing."""
        settings = self.options.get("replies")
        if not settings:
            return []
        folder = str(settings.get("folder") or "INBOX")
        try:
            connection = connect_imap(settings, self.context.config.base_dir)
            try:
                status, answer = connection.select(mailbox_name(folder), readonly=True)
            finally:
                connection.logout()
        except (OSError, imaplib.IMAP4.error) as error:
            return [f"target '{self.name}': the mailbox for answers ({settings['host']}, folder {folder}) cannot be opened: "
                    f"{type(error).__name__}: {_short(error)}"]
        if status != "OK":
            return [f"target '{self.name}': the mailbox for answers has no folder {folder} that can be opened: {_text(answer)}"]
        return []

    def _read_folder(self, connection: imaplib.IMAP4, folder: str, state: dict[str, Any],
                     mark_seen: bool) -> tuple[list[Response], str]:
        status, answer = connection.select(mailbox_name(folder), readonly=not mark_seen)
        if status != "OK":
            raise imaplib.IMAP4.error(f"folder {folder} cannot be opened: {_text(answer)}")
        validity = _number(connection.response("UIDVALIDITY")[1])
        uidnext = _number(connection.response("UIDNEXT")[1])
        # A new UIDVALIDITY means the UIDs were given out again (RFC 9051 section 2.3.1.1): read all.
        first = int(state.get("next", 1)) if validity is not None and state.get("uidvalidity") == validity else 1
        if uidnext is not None and uidnext <= first:
            return [], json.dumps({"uidvalidity": validity, "next": first})
        status, answer = connection.uid("SEARCH", f"UID {first}:*")
        if status != "OK":
            raise imaplib.IMAP4.error(f"folder {folder} cannot be searched: {_text(answer)}")
        uids = sorted(uid for uid in (int(word) for word in b" ".join(a for a in answer if a).split()) if uid >= first)
        found: list[Response] = []
        replies: list[int] = []
        for start in range(0, len(uids), 50):
            for uid, raw in _fetch(connection, uids[start:start + 50]):
                answers = self._answers_in(folder, uid, raw)
                found.extend(answers)
                if answers:
                    replies.append(uid)
        if mark_seen and replies:
            connection.uid("STORE", ",".join(map(str, replies)), "+FLAGS.SILENT", r"(\Seen)")
        following = max([first, *(uid + 1 for uid in uids)])
        return found, json.dumps({"uidvalidity": validity, "next": following})

    def _answers_in(self, folder: str, uid: int, raw: bytes) -> list[Response]:
        """The answers of one message: its text/calendar part (else an application/ics one) must
        be a METHOD:REPLY (RFC 6047 section 2.4: the part's METHOD equals the object's)."""
        message = message_from_bytes(raw, policy=email_policy)
        about = f"mailbox {folder}, message {uid} {str(message.get('Message-ID', '')).strip()}".strip()
        parts = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
        parts = parts or [part for part in message.walk() if part.get_content_type() == "application/ics"]
        if not parts:
            return []  # ordinary mail in the organizer's mailbox: not ours to judge
        try:
            calendar = read_answers(parts[0].get_payload(decode=True) or b"")
        except ValueError as error:
            self._problems.append(Problem(self.name, "responses", about, "text/calendar", f"{error}: left alone", warning=True))
            return []
        if calendar.method != "REPLY":
            self._problems.append(Problem(self.name, "responses", about, "METHOD",
                                          f"a calendar {calendar.method or 'object without METHOD'}, not a REPLY: left alone", warning=True))
            return []
        if not calendar.answers:
            self._problems.append(Problem(self.name, "responses", about, "ATTENDEE", "a REPLY without an attendee: left alone",
                                          warning=True))
            return []
        return [Response("", answer.attendee, answer.response, uid=answer.uid, about=about) for answer in calendar.answers]


def _fetch(connection: imaplib.IMAP4, uids: list[int]) -> list[tuple[int, bytes]]:
    """(UID, raw message) for `uids`, read with BODY.PEEK (sets no \\Seen, RFC 9051 section 6.4.5)."""
    status, answer = connection.uid("FETCH", ",".join(map(str, uids)), "(UID BODY.PEEK[])")
    if status != "OK":
        raise imaplib.IMAP4.error(f"messages {uids[0]}..{uids[-1]} cannot be fetched: {_text(answer)}")
    fetched = []
    for entry in answer:
        if isinstance(entry, tuple) and len(entry) == 2:
            found = re.search(rb"UID (\d+)", entry[0])
            if found:
                fetched.append((int(found.group(1)), bytes(entry[1])))
    return sorted(fetched)


def _number(values: list[Any] | None) -> int | None:
    try:
        return int(values[-1]) if values and values[-1] is not None else None
    except (TypeError, ValueError):
        return None


def _text(answer: Any) -> str:
    return " ".join(a.decode(errors="replace") if isinstance(a, bytes) else str(a) for a in (answer or []))[:200]


def _message_kind(method: str, plain_mail: bool, uninvited: bool) -> str:
    """Which catalog texts (`mail.<kind>.subject`, `.intro`) a message takes: a reminder as plain
    e-mail, an invitation, its cancellation, or the CANCEL for one person taken off a meeting
    that goes on for the others (RFC 5546 section 3.2.5: off for them only)."""
    if plain_mail:
        return "reminder-cancel" if method == "CANCEL" else "reminder"
    if method == "CANCEL":
        return "uninvited" if uninvited else "cancel"
    return "request"


def _intro(language: str, kind: str, event: CalendarEvent) -> str:
    """The message's first paragraph; what the cohort sends is named as such, not as an exchange's
    session: a group moment (kick-off, preparatory meeting, terugkommoment: event kind
    `group_<kind>`) and a deadline reminder (kind `deadline`, as an invitation or a plain e-mail)."""
    if event.kind == "deadline" and kind != "uninvited":
        withdrawn = kind in ("cancel", "reminder-cancel")
        return text(language, "mail.deadline-cancel.intro") if withdrawn else text(language, "mail.deadline.intro")
    if event.kind.startswith("group_") and kind in ("request", "cancel"):
        return text(language, f"mail.group.{kind}.intro", moment=text(language, f"kind.group.{event.kind.removeprefix('group_')}"))
    return text(language, f"mail.{kind}.intro")


def _message_id(uid: str, sequence: int, recipient: str, method: str) -> str:
    local, _, host = uid.partition("@")
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:12]
    return f"<{local}.{sequence}.{method.lower()}.{digest}@{host or 'st-connector'}>"


def _short(error: Any) -> str:
    return str(error).replace("\n", " ")[:200]


SINK = ImipMail
