"""The fill-in workbook for ST-partners, built from mappings/files.toml so that the
template and the mapping can never disagree: one sheet per entity, the headers the
mapping reads, and a first sheet that explains each column."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from connector.core.mapping import load_mapping
from connector.core.model import ENTITY_MODELS
from connector.plumbing.files import write_atomically
from connector.plumbing.xlsx import workbook_bytes

INTRO = [
    ("Switching Talent – invulsjabloon", ""),
    ("Hoe gebruiken?", "Vul per tabblad één rij per record in. Laat de kopregel ongewijzigd. Datums als dd/mm/jjjj, "
                       "tijden als uu:mm, decimalen met komma of punt. Verwijzingen naar medewerkers: personeelsnummer of e-mail werk."),
    ("Werkgevers", "Tabbladen Medewerkers en Opleidingen: per werkgever één bestand (of hun eigen HR-export met een eigen mapping)."),
    ("ST-partner", "Tabbladen Leerplekken, Leercoaches, Leervragen, Uitwisselingen en Sessies: het cohort."),
]


def write_template(path: Path) -> Path:
    mapping = load_mapping("files")
    workbook = Workbook()
    guide = workbook.active
    guide.title = "Uitleg"
    for row in INTRO:
        guide.append(row)
    guide["A1"].font = Font(bold=True, size=14)
    guide.append(())
    guide.append(("Tabblad", "Kolom", "Verplicht", "Betekenis"))
    for cell in guide[guide.max_row]:
        cell.font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DCE9F5")
    for entity, entity_mapping in mapping.entities.items():
        sheet = workbook.create_sheet(str(entity_mapping.options.get("sheet", entity)))
        model_fields = ENTITY_MODELS[entity].model_fields
        headers = []
        for rule in entity_mapping.rules:
            columns = rule.join or rule.paths[:1]
            for column in columns:
                if column not in headers:
                    headers.append(column)
                    meaning = model_fields[rule.name].description or rule.name.replace("_", " ")
                    guide.append((sheet.title, column, "ja" if rule.required else "", meaning))
        sheet.append(headers)
        for index, cell in enumerate(sheet[1], start=1):
            cell.font = Font(bold=True)
            cell.fill = header_fill
            sheet.column_dimensions[cell.column_letter].width = max(12, len(str(cell.value)) + 4)
        sheet.freeze_panes = "A2"
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 26
    guide.column_dimensions["D"].width = 90
    for row in guide.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    write_atomically(path, workbook_bytes(workbook))
    return path
