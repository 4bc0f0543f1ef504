"""One .ics file per session: the current iTIP message (REQUEST, or CANCEL once cancelled).

Always written, whatever channel invites people: it is the copy an ST-partner can mail by
hand, import, or hand to someone without a shared calendar. A person invited by files who
leaves a group moment's audience, or a session (a coach replaced on the exchange), gets a file
of their own, `<code>-uninvited-<8 hex>.ics`
(object `<code>|<address>`; the hex is a digest of the address, so no address is in a file
name): the CANCEL naming only them (RFC 5546 section 3.2.5), to send to them as the iMIP
channel would. Options: `directory` (default `invitations` inside the output folder).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from connector.core.calendar import CalendarEvent, to_ics
from connector.plumbing.files import safe_filename, write_atomically
from connector.sinks import CALENDAR, Sink
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem


def file_name(object_id: str) -> str:
    """`S-01-D1` -> `S-01-D1.ics`; one person's CANCEL `GM-TERUG|<address>` -> `GM-TERUG-uninvited-<8 hex>.ics`."""
    code, _, address = object_id.partition("|")
    if not address:
        return f"{safe_filename(code)}.ics"
    return f"{safe_filename(code)}-uninvited-{hashlib.sha256(address.lower().encode()).hexdigest()[:8]}.ics"


class IcsFiles(Sink):
    kind = "ics_files"
    object_types = frozenset({CALENDAR})

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        folder = self.context.output_dir / str(self.options.get("directory", "invitations"))
        outcomes = []
        for item in items:
            event = CalendarEvent.model_validate(item.payload["event"])
            method = "CANCEL" if item.action == "cancel" else "REQUEST"
            data = to_ics(event, method, item.payload["sequence"], datetime.fromisoformat(item.payload["dtstamp"]),
                          uninvited=bool(item.payload.get("uninvited")))
            path = folder / file_name(item.object_id)
            write_atomically(path, data)
            outcomes.append(Outcome(ok=True, remote_id=str(path.relative_to(self.context.output_dir)), uid=event.uid))
        return outcomes


SINK = IcsFiles
