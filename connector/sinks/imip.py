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
"""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Iterator
from datetime import datetime
from email import encoders
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from connector.core.calendar import CalendarEvent, Party, to_ics
from connector.core.manager_note import note_message
from connector.core.texts import labelled, long_moment, text
from connector.plumbing.killpoint import reached
from connector.plumbing.smtp import connect
from connector.sinks import CALENDAR, MANAGER_NOTE, Sink
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
        kind = ("reminder-cancel" if method == "CANCEL" else "reminder") if plain_mail else ("cancel" if method == "CANCEL" else "request")
        when = labelled(language, "mail.when", long_moment(language, event.start.astimezone(ZoneInfo(event.timezone)))) if plain_mail else ""
        plain = "\n\n".join(part for part in [text(language, f"mail.{kind}.intro"), when, event.description, text(language, "mail.footer")] if part)
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


def _message_id(uid: str, sequence: int, recipient: str, method: str) -> str:
    local, _, host = uid.partition("@")
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:12]
    return f"<{local}.{sequence}.{method.lower()}.{digest}@{host or 'st-connector'}>"


def _short(error: Any) -> str:
    return str(error).replace("\n", " ")[:200]


SINK = ImipMail
