"""The fill-in workbook for ST-partners, built from mappings/files.toml so that the
template and the mapping can never disagree: one sheet per entity, the headers the
mapping reads, and a first sheet that explains each column.

The workbook is Dutch (its headers are the mapping's Dutch ones), so the guide explains each
column in Dutch, from the text catalogs (`tpl.<entity>.<column>`; a column without a text
there falls back to the model's description). A column whose values the mapping translates
(`map`) offers them as a drop-down list; other spellings the mapping knows stay allowed (the
list warns, it does not refuse). The guide sets explicit row heights for its wrapped text,
because LibreOffice does not grow rows of a file it opens, and every sheet prints on A4."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from connector.core.mapping import FieldRule, join_alternatives, load_mapping
from connector.core.model import ENTITY_MODELS
from connector.plumbing.files import write_atomically
from connector.core.texts import bundled, text
from connector.plumbing.xlsx import print_ready, workbook_bytes

INTRO = [
    ("Switching Talent – invulsjabloon", ""),
    ("Hoe gebruiken?", "Vul per tabblad één rij per record in. Laat de kopregel ongewijzigd. Datums als dd/mm/jjjj, "
                       "tijden als uu:mm, decimalen met komma of punt. Verwijzingen naar medewerkers: personeelsnummer of e-mail werk."),
    ("Werkgevers", "Tabbladen Medewerkers en Opleidingen: per werkgever één bestand (of hun eigen HR-export met een eigen mapping)."),
    ("Opleidingsplan", "Tabblad Opleidingsplan (werkgevers): wat elke medewerker plant te leren: opleidingen, ontwikkeldoelen "
                       "en leerbehoeften uit het opleidingsplan of POP. Soort: opleiding, ontwikkeldoel of leerbehoefte; "
                       "Status: open, bezig, afgerond of stopgezet. Kolomkoppen mogen ook in het Frans of Engels."),
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
            columns = tuple(join_alternatives(part)[0] for part in rule.join) or rule.paths[:1]
            for column in columns:
                if column not in headers:
                    headers.append(column)
                    meaning = (explanation(entity, column) or model_fields[rule.name].description
                               or rule.name.replace("_", " "))
                    guide.append((sheet.title, column, "ja" if rule.required else "", meaning, ", ".join(choices_of(rule))))
        sheet.append(headers)
        for index, cell in enumerate(sheet[1], start=1):
            cell.font = Font(bold=True)
            cell.fill = header_fill
            sheet.column_dimensions[cell.column_letter].width = max(12, len(str(cell.value)) + 4)
        sheet.freeze_panes = "A2"
        _offer_choices(sheet, entity_mapping.rules, headers)
        print_ready(sheet, headers, min_width=12)
        if organisations and ORGANISATION_COLUMN in headers:
            _offer(sheet, headers.index(ORGANISATION_COLUMN) + 1, [organisation_id for organisation_id, _ in organisations])
        if ATTENDANCE_COLUMN in headers:  # the switcher was there or not; empty while nobody knows
            _offer(sheet, headers.index(ATTENDANCE_COLUMN) + 1, ["aanwezig", "afwezig", "onbekend"],
                   "Kies aanwezig, afwezig of onbekend (of laat leeg)", "Onbekende aanwezigheid")
    guide.column_dimensions["A"].width = 18
    guide.column_dimensions["B"].width = 26
    guide.column_dimensions["D"].width = 90
    _finish_guide(guide)
    write_atomically(path, workbook_bytes(workbook))
    return path


ORGANISATION_COLUMN = "Organisatie"
ATTENDANCE_COLUMN = "Aanwezigheid"


def _offer(sheet: Worksheet, column: int, choices: list[str], error: str = "Kies een organisatie uit de lijst",
           title: str = "Onbekende organisatie") -> None:
    """A drop-down of `choices` on the column's cells below the header (Excel, LibreOffice),
    unless the mapping's allowed values already offer one there: a cell has one validation,
    a second on the same range is written twice into the sheet and Excel repairs the file."""
    letter = get_column_letter(column)
    if any(f"{letter}2:{letter}1000" in str(existing.sqref) for existing in sheet.data_validations.dataValidation):
        return
    validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                error=error, errorTitle=title, showErrorMessage=True)
    validation.add(f"{letter}2:{letter}1000")
    sheet.add_data_validation(validation)


# -- explanations and allowed values ---------------------------------------------------------

WORKBOOK_LANGUAGE = "nl"
GUIDE_WIDTHS = {"A": 18, "B": 26, "C": 10, "D": 70, "E": 34}  # characters
LINE_HEIGHT = 15  # points per wrapped line at the default 11 pt font


def _slug(column: str) -> str:
    return "".join(char if char.isalnum() else "_" for char in column.lower())


def explanation(entity: str, column: str) -> str | None:
    """The catalog's explanation of `column` of `entity`'s sheet in the workbook's language, if any."""
    key = f"tpl.{entity}.{_slug(column)}"
    return text(WORKBOOK_LANGUAGE, key) if key in bundled()[WORKBOOK_LANGUAGE] else None


def choices_of(rule: FieldRule) -> list[str]:
    """The values a translated column offers: per value the mapping produces, the first spelling
    its `map` lists (the Dutch one in mappings/files.toml: "formeel", "bevestigd", "V")."""
    first: dict[object, str] = {}
    for spelling, value in (rule.lookup or {}).items():
        first.setdefault(value, str(spelling))
    return list(first.values())


def _offer_choices(sheet: Worksheet, rules: Sequence[FieldRule], headers: list[str]) -> None:
    for rule in rules:
        choices = choices_of(rule)
        if not choices or not rule.paths or rule.paths[0] not in headers:
            continue
        letter = get_column_letter(headers.index(rule.paths[0]) + 1)
        # a warning, not a refusal: the mapping also reads the other spellings it lists
        validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True,
                                    showErrorMessage=True, errorStyle="warning",
                                    errorTitle=text(WORKBOOK_LANGUAGE, "tpl.not_listed"),
                                    error=text(WORKBOOK_LANGUAGE, "tpl.choose", choices=", ".join(choices)))
        validation.add(f"{letter}2:{letter}1000")
        sheet.add_data_validation(validation)


def _finish_guide(guide: Worksheet) -> None:
    """Wrapped text with row heights set from the longest cell, so no row overlaps the next in
    LibreOffice (which keeps the heights a file gives); A4, fit to the page width."""
    import math

    for letter, width in GUIDE_WIDTHS.items():
        guide.column_dimensions[letter].width = width
    for row in guide.iter_rows(min_row=2):  # the title (row 1) stays one line, running over the empty cells beside it
        lines = 1
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            width = GUIDE_WIDTHS.get(cell.column_letter, 10)
            if cell.value:
                lines = max(lines, sum(math.ceil(max(1, len(part)) * 1.1 / width) for part in str(cell.value).split("\n")))
        guide.row_dimensions[row[0].row].height = LINE_HEIGHT * lines + 2
    header = next(cell.row for cell in guide["A"] if cell.value == "Tabblad")
    guide.cell(header, 5, text(WORKBOOK_LANGUAGE, "tpl.allowed")).font = Font(bold=True)
    guide.print_title_rows = f"{header}:{header}"
    guide.page_setup.paperSize = 9  # A4
    guide.page_setup.orientation = "landscape"
    guide.sheet_properties.pageSetUpPr.fitToPage = True
    guide.page_setup.fitToWidth, guide.page_setup.fitToHeight = 1, 0
