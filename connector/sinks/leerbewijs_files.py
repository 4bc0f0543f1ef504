"""Leerbewijzen as PDF files, one folder per sending employer: <output>/leerbewijzen/<org>/<number>.pdf."""

from __future__ import annotations

from connector.leerbewijs.proof import leerbewijs_pdf
from connector.plumbing.files import safe_filename, write_atomically
from connector.sinks import LEERBEWIJS, Sink
from connector.store.outbox import Outcome
from connector.store.tables import ExternalRef, OutboxItem


class LeerbewijsFiles(Sink):
    kind = "leerbewijs_files"
    object_types = frozenset({LEERBEWIJS})

    def deliver(self, items: list[OutboxItem], known: dict[str, ExternalRef]) -> list[Outcome]:
        folder = self.context.output_dir / str(self.options.get("directory", "leerbewijzen"))
        outcomes = []
        for item in items:
            pdf = leerbewijs_pdf(self.context.runtime, item.payload["content"], item.payload["fingerprint"])
            path = folder / safe_filename(item.payload["organisation"]) / f"{safe_filename(item.object_id)}.pdf"
            write_atomically(path, pdf)
            outcomes.append(Outcome(ok=True, remote_id=str(path.relative_to(self.context.output_dir))))
        return outcomes


SINK = LeerbewijsFiles
