"""A person's personal link sent on its own, where the invitation they got cannot carry it.

A Microsoft 365 event (connector/sinks/msgraph.py) is one event in the project mailbox with
every attendee of its organisations on it: its body is the same for all of them, so a link
bound to one person cannot go in it. When such an event has more than one attendee with a
link, each of them gets this short note instead (connector/engine/plan.py); with one, the link
goes in the event's body.

Payload (an outbox item of type `link_note`, object id "<session code>|<subject>"):

    {"language": "nl" | "fr" | "en", "recipient": {"email", "name"}, "summary": "<the event's title>",
     "start": ISO 8601 with offset, "timezone": "Europe/Brussels", "line": "<the link line, with its URL>",
     "organiser": {"email", "name"}, "dtstamp": ISO 8601 (volatile), "sequence": int (volatile)}

When the moment is off, or goes on without the person, the note is withdrawn: the same object
again with action "cancel", no "line", and "change": "cancelled" (the moment is off) or
"uninvited" (they are no longer expected); it says so in their language and carries no link.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from connector.core.manager_note import plain_message
from connector.core.texts import long_moment, text


def render(payload: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of one link note, or of its withdrawal (`change`); raises KeyError for a
    payload without its fields."""
    language = str(payload["language"])
    moment = long_moment(language, datetime.fromisoformat(payload["start"]).astimezone(ZoneInfo(str(payload["timezone"]))))
    organiser = payload["organiser"]
    change = payload.get("change")
    if change is None:
        about, subject = [text(language, "linknote.about", summary=payload["summary"], moment=moment), payload["line"]], "linknote.subject"
    else:
        about, subject = [text(language, f"linknote.{change}", summary=payload["summary"], moment=moment)], f"linknote.subject.{change}"
    parts = [
        text(language, "manager.greeting", name=payload["recipient"]["name"]),
        *about,
        text(language, "label.contact", name=organiser["name"], email=organiser["email"]),
        text(language, "mail.footer"),
    ]
    return text(language, subject, summary=payload["summary"]), "\n\n".join(parts)


def link_message(payload: dict[str, Any], object_id: str, sequence: int, sender: str, host: str) -> EmailMessage:
    """The note as an e-mail, the same bytes for the same outbox item (see plain_message)."""
    return plain_message(*render(payload), payload, object_id, sequence, sender, host, kind="link")
