"""Leerbewijzen as PDF files, one folder per sending employer: <output>/leerbewijzen/<org>/<number>.pdf,
with beside each its European Digital Credential (<number>.edc.jsonld) and a short text, in the
switcher's language, on importing that into Europass (<number>.europass.txt)."""

from __future__ import annotations

from connector.leerbewijs.edc import europass_note, file_name, leerbewijs_edc
from connector.leerbewijs.issuer import IssuerProfile
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
            edc = leerbewijs_edc(self.context.runtime, item.payload["content"])
            if edc is not None:  # the EDC and its note: written after the PDF, rewritten alike when the item is repeated
                write_atomically(path.with_name(file_name(path.stem)), edc)
                note = europass_note(item.payload["content"], IssuerProfile.of(self.context.config).name)
                write_atomically(path.with_name(f"{path.stem}.europass.txt"), (note + "\n").encode("utf-8"))
            outcomes.append(Outcome(ok=True, remote_id=str(path.relative_to(self.context.output_dir))))
        return outcomes


SINK = LeerbewijsFiles
