"""The matching columns in the fill-in workbook: appended to the cohort sheets that
`st-connector template` and `init` write, with a line each on the guide sheet, and the
Organisaties sheet. All optional: a cohort without them is matched on defaults."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from openpyxl.styles import Alignment, Font, PatternFill

from connector.matching import columns as col
from connector.plumbing.files import write_atomically
from connector.plumbing.xlsx import workbook_bytes

# sheet -> (column, meaning), in Dutch like the rest of the template
COLUMNS: dict[str, list[tuple[col.Column, str]]] = {
    "Leervragen": [(c, "voorkeur van de switcher na de kick-off: een organisatie-id (1 = liefst)") for c in col.PREFERENCES] + [
        (col.KEYWORDS, "trefwoorden of competenties, gescheiden door komma's"),
        (col.LANGUAGES, "talen waarin de switcher werkt: nl, fr, en (standaard: de taal van de switcher)"),
        (col.PERIOD_FROM, "gewenste periode: eerste dag (dd/mm/jjjj)"),
        (col.PERIOD_UNTIL, "gewenste periode: laatste dag (dd/mm/jjjj)"),
        (col.POSTCODE, "postcode van waar de switcher vertrekt (standaard: die van de werkgever)"),
    ],
    "Leerplekken": [
        (col.CAPACITY, "hoeveel switchers deze leerplek per ronde ontvangt (standaard 1)"),
        (col.KEYWORDS, "trefwoorden of competenties, gescheiden door komma's"),
        (col.LANGUAGES, "talen die op de leerplek gesproken worden (standaard: de taal van de organisatie)"),
        (col.HOSTING_DAYS, "dagen waarop de leerplek ontvangt: ma, di, wo, do, vr (standaard ma-vr)"),
        (col.POSTCODE, "postcode als het adres er geen heeft"),
    ],
    "Leercoaches": [
        (col.CAPACITY, "hoeveel switchers deze leercoach per ronde begeleidt (standaard 1)"),
        (col.LANGUAGES, "talen van de leercoach: nl, fr, en"),
        (col.COACH_DAYS, "dagen waarop de leercoach beschikbaar is: ma, di, wo, do, vr (standaard ma-vr)"),
    ],
}
ORGANISATION_MEANINGS = [
    (col.ORGANISATION, "organisatie-id, zoals in de configuratie"),
    (col.SECTOR, "sector of paritair comité (standaard: joint_committee uit de configuratie)"),
    (col.SIZE, "gemiddeld aantal werknemers (standaard: average_workforce)"),
    (col.STAFF, "personeel: bedienden, arbeiders of gemengd"),
    (col.COMPETITORS, "organisatie-id's waarmee niet uitgewisseld wordt, gescheiden door komma's"),
    (col.SENDS, "hoeveel switchers de organisatie belooft te sturen"),
    (col.HOSTS, "hoeveel switchers de organisatie belooft te ontvangen"),
]


def add_matching_columns(path: Path) -> Path:
    """Append the matching columns to the cohort sheets of the workbook at `path` (those it
    has) and add the Organisaties sheet; the guide sheet lists each. Returns `path`."""
    workbook = load_workbook(path)
    guide = workbook.worksheets[0]
    fill = PatternFill("solid", fgColor="FCE9D9")  # another colour: optional columns for matching
    added = False
    for title, extra in COLUMNS.items():
        if title not in workbook.sheetnames:
            continue
        sheet = workbook[title]
        present = [c.value for c in sheet[1]]
        for column, meaning in extra:
            if column.nl in present:
                continue
            cell = sheet.cell(row=1, column=len(present) + 1, value=column.nl)
            cell.font, cell.fill = Font(bold=True), fill
            sheet.column_dimensions[cell.column_letter].width = max(12, len(column.nl) + 4)
            present.append(column.nl)
            guide.append((title, column.nl, "", f"matching: {meaning}"))
            added = True
    if added and col.ORGANISATION_SHEET not in workbook.sheetnames:
        sheet = workbook.create_sheet(col.ORGANISATION_SHEET)
        sheet.append([c.nl for c, _ in ORGANISATION_MEANINGS])
        for cell in sheet[1]:
            cell.font, cell.fill = Font(bold=True), fill
            sheet.column_dimensions[cell.column_letter].width = max(12, len(str(cell.value)) + 4)
        sheet.freeze_panes = "A2"
        for column, meaning in ORGANISATION_MEANINGS:
            guide.append((col.ORGANISATION_SHEET, column.nl, "ja" if column is col.ORGANISATION else "", f"matching: {meaning}"))
    for row in guide.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    write_atomically(path, workbook_bytes(workbook))
    return path
