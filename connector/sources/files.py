"""CSV and XLSX files: the embedded default, and the real path for small employers.

Options: `path` is a folder holding one file per entity (`medewerkers.csv`,
`opleidingen.xlsx`...) or one workbook with a sheet per entity. The mapping names them
with `file = "medewerkers"` and `sheet = "Medewerkers"`. CSV may use `;`, `,` or tabs, in
UTF-8 (with or without BOM), Windows-1252 (what Belgian Excel writes) or UTF-16 (Excel's
"Unicode text"); see connector/plumbing/tabular.py for how each is recognised.
"""

from __future__ import annotations

from difflib import get_close_matches
from pathlib import Path

from connector.core.errors import SourceUnavailable
from connector.core.mapping import EntityMapping
from connector.plumbing.tabular import open_table
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
            return _pull(self.root, sheet, entity)
        for candidate in (self.root / f"{stem}.csv", self.root / f"{stem}.xlsx"):
            if candidate.is_file():
                return _pull(candidate, None, entity)
        raise SourceUnavailable(f"no {stem}.csv or {stem}.xlsx in {self.root}")


def _pull(path: Path, sheet: str | None, entity: EntityMapping) -> Pull:
    """The file's rows, once its header shows every column a required field needs; a missing
    optional column is a warning naming the closest header the file does have."""
    columns = {rule.name: rule.remote_paths for rule in entity.rules if rule.paths or rule.join}
    table = open_table(path, sheet, {name for names in columns.values() for name in names})
    present = set(table.header)
    warnings, absent = [], []
    for rule in entity.rules:
        names = columns.get(rule.name, ())
        if not names or any(name in present for name in names):
            continue
        closest = get_close_matches(names[0], [h for h in table.header if h], n=1, cutoff=0.5)
        hint = f"; the closest header is '{closest[0]}'" if closest else ""
        message = (f"{table.where}: no column {' or '.join(repr(n) for n in names)} for {entity.entity}.{rule.name} "
                   f"(mapping {entity.entity}.fields.{rule.name}){hint}")
        if rule.required:
            raise SourceUnavailable(message)
        if not rule.optional_column:
            warnings.append(f"{message}; the field stays empty")
        absent.append((names, message))
    records = (RemoteRecord(raw=row.cells, location=row.location, problem=row.problem) for row in table.rows)
    return Pull(records=records, warnings=warnings, absent_columns=absent)


SOURCE = FileSource
