"""CSV and XLSX files: the embedded default, and the real path for small employers.

Options: `path` is a folder holding one file per entity (`medewerkers.csv`,
`opleidingen.xlsx`...) or one workbook with a sheet per entity. The mapping names them
with `file = "medewerkers"` and `sheet = "Medewerkers"`. CSV may use `;`, `,` or tabs, in
UTF-8 (with or without BOM), Windows-1252 (what Belgian Excel writes) or UTF-16 (Excel's
"Unicode text"); see connector/plumbing/tabular.py for how each is recognised.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from connector.core.errors import SourceUnavailable
from connector.core.mapping import EntityMapping
from connector.plumbing.tabular import read_table
from connector.sources import Pull, RemoteRecord, Source


class FileSource(Source):
    kind = "files"

    @property
    def root(self) -> Path:
        return self.context.base_dir / str(self.config.options.get("path", "."))

    def problems(self) -> list[str]:
        if "path" not in self.config.options:
            return [f"source '{self.config.name}': `path` is missing (a folder or an .xlsx workbook)"]
        if not self.root.exists():
            return [f"source '{self.config.name}': {self.root} does not exist"]
        return []

    def pull(self, entity: EntityMapping, cursor: str | None) -> Pull:
        stem = str(entity.options.get("file", entity.entity))
        sheet = str(entity.options.get("sheet", stem))
        if self.root.is_file():
            return Pull(records=_records(self.root, sheet))
        for candidate in (self.root / f"{stem}.csv", self.root / f"{stem}.xlsx"):
            if candidate.is_file():
                return Pull(records=_records(candidate))
        raise SourceUnavailable(f"no {stem}.csv or {stem}.xlsx in {self.root}")


def _records(path: Path, sheet: str | None = None) -> Iterator[RemoteRecord]:
    for row in read_table(path, sheet):
        yield RemoteRecord(raw=row.cells, location=row.location, problem=row.problem)


SOURCE = FileSource
