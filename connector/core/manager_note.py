"""The short message that tells a switcher's line manager about their exchange.

Payload (planned by connector/engine/plan.py, an outbox item of type `manager_note`):

    {"change": "confirmed" | "moved" | "cancelled", "language": "nl" | "fr" | "en",
     "recipient": {"email", "name"}, "switcher": "<full name>", "question": "<title>",
     "place": "<learning place>", "host": "<host organisation>", "timezone": "Europe/Brussels",
     "days": [{"kind": "intro_call" | "exchange_day" | ..., "start": ISO 8601 with offset}],
     "organiser": {"email", "name"}, "dtstamp": ISO 8601 (volatile), "sequence": int (volatile)}

`render` gives the subject and the plain-text body in the manager's language, from the
catalogs (keys `manager.*`); every sink that carries the message (the .eml file, iMIP mail)
uses it, so the words are the same whichever channel the organisation has.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any
from zoneinfo import ZoneInfo

from connector.core.texts import labelled, long_moment, text

CHANGES = ("confirmed", "moved", "cancelled")


def render(payload: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of one manager note; raises KeyError for a payload without its fields."""
    language = str(payload["language"])
    change = str(payload["change"])
    zone = ZoneInfo(str(payload["timezone"]))
    days = ["- " + labelled(language, f"kind.{day['kind']}", long_moment(language, datetime.fromisoformat(day["start"]).astimezone(zone)))
            for day in payload["days"]]
    organiser = payload["organiser"]
    heading = "manager.dates.cancelled" if change == "cancelled" else "manager.dates"  # the dates that no longer hold
    parts = [
        text(language, "manager.greeting", name=payload["recipient"]["name"]),
        text(language, f"manager.{change}", switcher=payload["switcher"]),
        labelled(language, "label.question", payload["question"]),
        labelled(language, "label.place", f"{payload['place']} – {payload['host']}"),
        "\n".join([text(language, heading), *days]) if days else "",
        text(language, "manager.role") if change != "cancelled" else "",
        text(language, "label.contact", name=organiser["name"], email=organiser["email"]),
        text(language, "mail.footer"),
    ]
    subject = text(language, f"manager.subject.{change}", switcher=payload["switcher"])
    return subject, "\n\n".join(part for part in parts if part)


def note_message(payload: dict[str, Any], object_id: str, sequence: int, sender: str, host: str) -> EmailMessage:
    """The note as an e-mail (text/plain, UTF-8, RFC 5322), from `sender` to the manager: the same
    bytes for the same outbox item (object id and SEQUENCE make the Message-ID, the planned
    DTSTAMP the Date). Raises KeyError for a payload without its fields."""
    return plain_message(*render(payload), payload, object_id, sequence, sender, host)


def plain_message(subject: str, body: str, payload: dict[str, Any], object_id: str, sequence: int, sender: str, host: str,
                  kind: str = "manager") -> EmailMessage:
    """A short automatic e-mail with `subject` and `body` to the payload's recipient, in its
    language, from `sender` in the name of the payload's organiser; its Message-ID
    `<kind.<digest>.<sequence>@host>` and Date come from the outbox item, never the clock."""
    recipient = payload["recipient"]
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["From"] = formataddr((payload["organiser"]["name"], sender))
    message["To"] = formataddr((recipient["name"], recipient["email"]))
    message["Date"] = format_datetime(datetime.fromisoformat(payload["dtstamp"]))
    digest = hashlib.sha256(f"{object_id}|{sequence}".encode()).hexdigest()[:24]
    message["Message-ID"] = f"<{kind}.{digest}.{sequence}@{host}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body, charset="utf-8")
    message["Content-Language"] = payload["language"]  # after set_content, which replaces the Content-* headers
    return message
