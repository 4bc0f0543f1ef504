"""The fill-in workbook for ST-partners, built from mappings/files.toml so that the
template and the mapping can never disagree: one sheet per entity, the headers the
mapping reads, and a first sheet that explains each column."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

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


class TemplateExists(FileExistsError):
    """The target already holds a file: a filled-in workbook is never overwritten unasked."""


def write_template(path: Path, entities: Sequence[str] | None = None, organisations: Sequence[tuple[str, str]] = (),
                   force: bool = False) -> Path:
    """The fill-in workbook at `path`: a guide sheet, then one sheet per entity of mappings/files.toml
    (all of them, or only `entities`). `organisations` ((id, name) pairs) are listed in the guide
    and offered as the only choices in every Organisatie column, so a typed id cannot be wrong.
    Raises TemplateExists when `path` exists and `force` is false."""
    if path.exists() and not force:
        raise TemplateExists(f"{path} exists; choose another file or add --force to overwrite it")
    mapping = load_mapping("files")
    workbook = Workbook()
    guide = workbook.active
    guide.title = "Uitleg"
    for row in INTRO:
        guide.append(row)
    guide["A1"].font = Font(bold=True, size=14)
    for organisation_id, name in organisations:
        guide.append(("Organisatie", organisation_id, "", name))
    guide.append(())
    guide.append(("Tabblad", "Kolom", "Verplicht", "Betekenis"))
    for cell in guide[guide.max_row]:
        cell.font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DCE9F5")
    for entity, entity_mapping in mapping.entities.items():
        if entities is not None and entity not in entities:
            continue
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
        if organisations and ORGANISATION_COLUMN in headers:
            _offer(sheet, headers.index(ORGANISATION_COLUMN) + 1, [organisation_id for organisation_id, _ in organisations])
        if ATTENDANCE_COLUMN in headers:  # the switcher was there or not; empty while nobody knows
            _offer(sheet, headers.index(ATTENDANCE_COLUMN) + 1, ["aanwezig", "afwezig", "onbekend"],
                   "Kies aanwezig, afwezig of onbekend (of laat leeg)", "Onbekende aanwezigheid")
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 26
    guide.column_dimensions["D"].width = 90
    for row in guide.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    write_atomically(path, workbook_bytes(workbook))
    return path


ORGANISATION_COLUMN = "Organisatie"
ATTENDANCE_COLUMN = "Aanwezigheid"


def _offer(sheet: Worksheet, column: int, choices: list[str], error: str = "Kies een organisatie uit de lijst",
           title: str = "Onbekende organisatie") -> None:
    """A drop-down of `choices` on the column's cells below the header (Excel, LibreOffice)."""
    letter = get_column_letter(column)
    validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                error=error, errorTitle=title, showErrorMessage=True)
    validation.add(f"{letter}2:{letter}1000")
    sheet.add_data_validation(validation)
