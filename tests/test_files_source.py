from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from connector.core.config import SourceConfig
from connector.core.errors import SourceUnavailable
from connector.core.mapping import load_mapping
from connector.sources import SourceContext
from connector.sources.files import FileSource

PEOPLE = load_mapping("files").entity("people")


def source(path: Path) -> FileSource:
    config = SourceConfig(name="hr", kind="files", entities=["people"], path=str(path))
    return FileSource(config, SourceContext(base_dir=Path("/"), as_of=datetime.now(UTC), runtime=None))  # type: ignore[arg-type]


def rows(path: Path) -> list[tuple[str, dict]]:
    return [(r.location, r.raw) for r in source(path).pull(PEOPLE, None).records]


HEADER = "Personeelsnummer;Voornaam;Familienaam"


@pytest.mark.parametrize("encoding, bom", [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b"")])
def test_semicolon_csv_in_the_encodings_belgian_excel_writes(tmp_path, encoding, bom):
    (tmp_path / "medewerkers.csv").write_bytes(bom + f"{HEADER}\r\n7;Jérôme;Lefèvre\r\n\r\n;;\r\n8;Zoë;D'Hondt\r\n".encode(encoding))
    found = rows(tmp_path)
    assert [r for _, r in found] == [{"Personeelsnummer": "7", "Voornaam": "Jérôme", "Familienaam": "Lefèvre"},
                                     {"Personeelsnummer": "8", "Voornaam": "Zoë", "Familienaam": "D'Hondt"}]
    assert found[0][0] == "medewerkers.csv row 2" and found[1][0] == "medewerkers.csv row 5"


def test_comma_csv_with_quoted_fields(tmp_path):
    (tmp_path / "medewerkers.csv").write_text('Personeelsnummer,Voornaam,Familienaam\n1,"Anne, Marie",Peeters\n', encoding="utf-8")
    assert rows(tmp_path)[0][1]["Voornaam"] == "Anne, Marie"


def test_workbook_with_a_sheet_per_entity(tmp_path):
    workbook = Workbook()
    workbook.active.title = "Uitleg"
    sheet = workbook.create_sheet("Medewerkers")
    sheet.append(["Personeelsnummer", "Voornaam", "Familienaam", "In dienst"])
    sheet.append([None, None, None, None])
    sheet.append(["G1", "Ayşe", "Yılmaz", datetime(2017, 9, 4)])
    workbook.save(tmp_path / "cohort.xlsx")
    (location, raw), = rows(tmp_path / "cohort.xlsx")
    assert location == "cohort.xlsx sheet 'Medewerkers' row 3"
    assert raw == {"Personeelsnummer": "G1", "Voornaam": "Ayşe", "Familienaam": "Yılmaz", "In dienst": datetime(2017, 9, 4)}


def test_missing_file_or_sheet_is_a_clear_source_error(tmp_path):
    with pytest.raises(SourceUnavailable, match=r"no medewerkers.csv or medewerkers.xlsx in"):
        list(rows(tmp_path))
    Workbook().save(tmp_path / "book.xlsx")
    with pytest.raises(SourceUnavailable, match=r"no sheet 'Medewerkers' in book.xlsx \(sheets: Sheet\)"):
        list(rows(tmp_path / "book.xlsx"))


def test_problems_reported_before_running(tmp_path):
    assert source(tmp_path / "nowhere").problems() == [f"source 'hr': {tmp_path / 'nowhere'} does not exist"]
