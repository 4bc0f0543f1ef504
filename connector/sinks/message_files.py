"""Manager notes and link notes as e-mail files (RFC 5322 `.eml`), for a coordinator to send.

One file per exchange and manager, `<directory>/<exchange>-<manager>.eml` in the output folder,
holding the latest note (confirmed, moved or cancelled) as a complete message a coordinator can
open in any mail program and send, as they send the `.ics` invitations. The file is written
via a temporary file and only when its bytes change, so a repeated item is harmless and a
re-run writes nothing. Its Message-ID and Date come from the outbox item (object id,
SEQUENCE, the planned DTSTAMP), never from the clock. Options: `directory` (default
`managers`). A link note (connector/core/link_note.py: a personal link whose invitation is a
shared Microsoft 365 event) is one file per moment and person, `<session>-<person>.eml`, holding
the note with the link or, once the moment is off for them, the note withdrawing it.
"""

from __future__ import annotations

from connector.core.link_note import link_message
from connector.core.manager_note import note_message
from connector.plumbing.files import safe_filename, write_atomically
from connector.sinks import LINK_NOTE, MANAGER_NOTE, Sink
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem


def file_name(object_id: str) -> str:
    """`EX-01|<manager id>` -> `EX-01-<first 8 of the manager id>.eml`: no address in a file name
    (a link note's `S-03-EVAL-2m|<person id>` alike)."""
    exchange, _, manager = object_id.partition("|")
    return f"{safe_filename(exchange)}-{safe_filename(manager[:8])}.eml"


class MessageFiles(Sink):
    kind = "message_files"
    object_types = frozenset({MANAGER_NOTE, LINK_NOTE})

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        folder = self.context.output_dir / str(self.options.get("directory", "managers"))
        partner = self.context.config.partner
        host = partner.organiser_email.rpartition("@")[2] or "st-connector"
        outcomes = []
        for item in items:
            make = link_message if item.object_type == LINK_NOTE else note_message
            message = make(item.payload, item.object_id, item.sequence, partner.organiser_email, host)
            path = folder / file_name(item.object_id)
            write_atomically(path, message.as_bytes())
            outcomes.append(Outcome(ok=True, remote_id=str(path.relative_to(self.context.output_dir))))
        return outcomes


SINK = MessageFiles
