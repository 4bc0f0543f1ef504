"""One .ics file per session: the current iTIP message (REQUEST, or CANCEL once cancelled).

Always written, whatever channel invites people: it is the copy an ST-partner can mail by
hand, import, or hand to someone without a shared calendar. Options: `directory`
(default `invitations` inside the output folder).
"""

from __future__ import annotations

from datetime import datetime

from connector.core.calendar import CalendarEvent, to_ics
from connector.plumbing.files import safe_filename, write_atomically
from connector.sinks import CALENDAR, Sink
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem


class IcsFiles(Sink):
    kind = "ics_files"
    object_types = frozenset({CALENDAR})

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        folder = self.context.output_dir / str(self.options.get("directory", "invitations"))
        outcomes = []
        for item in items:
            event = CalendarEvent.model_validate(item.payload["event"])
            method = "CANCEL" if item.action == "cancel" else "REQUEST"
            data = to_ics(event, method, item.payload["sequence"], datetime.fromisoformat(item.payload["dtstamp"]))
            path = folder / f"{safe_filename(item.object_id)}.ics"
            write_atomically(path, data)
            outcomes.append(Outcome(ok=True, remote_id=str(path.relative_to(self.context.output_dir)), uid=event.uid))
        return outcomes


SINK = IcsFiles
