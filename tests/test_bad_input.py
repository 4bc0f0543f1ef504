"""Issue 19, item 1: every broken file, configuration and mapping a careless administrator can
hand over becomes a named problem (or configuration error), never a traceback, and the good
records of the same run still go through."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable

import pytest
from openpyxl import Workbook

from connector.core.config import load_config
from connector.core.errors import ConfigError, RecordError, SourceUnavailable
from connector.core.mapping import load_mapping
from connector.plumbing.tabular import open_table
from tests.conftest import REPO
from tests.test_cli import AS_OF, cli

PEOPLE = load_mapping("files").entity("people")
HEADERS = {name for rule in PEOPLE.rules for name in rule.paths + rule.join}
HEADER = "Personeelsnummer;Voornaam;Familienaam;E-mail werk"
GOOD_ROW = "Z001;Els;Van den Broeck;els@zonneke.be"


def _workbook(*rows: list[object]) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _truncated_sheet() -> bytes:
    """A workbook whose ZIP is intact but whose sheet XML stops halfway (a copy cut short)."""
    whole = zipfile.ZipFile(io.BytesIO(_workbook(HEADER.split(";"), *[GOOD_ROW.split(";")] * 200)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as broken:
        for name in whole.namelist():
            data = whole.read(name)
            broken.writestr(name, data[:len(data) // 2] if "worksheets/sheet" in name else data)
    return buffer.getvalue()


# name -> (file suffix, bytes, what the problem must say; None: read, with the rows checked below)
BROKEN: dict[str, tuple[str, Callable[[], bytes], str]] = {
    "random bytes as .csv": (".csv", lambda: bytes(range(256)) * 40, "neither UTF-8 nor Windows-1252"),
    "random bytes as .xlsx": (".xlsx", lambda: bytes(range(256)) * 40, "is not an Excel workbook"),
    "an XLSX saved as .csv": (".csv", lambda: _workbook(HEADER.split(";")), "is an Excel workbook, not a CSV text file: rename it"),
    "a CSV saved as .xlsx": (".xlsx", lambda: f"{HEADER}\n{GOOD_ROW}\n".encode(), "is a text (CSV) file, not an Excel workbook: rename it"),
    "an old .xls": (".xlsx", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "Excel 97-2003 workbook (.xls)"),
    "a workbook cut short": (".xlsx", lambda: _workbook(HEADER.split(";"))[:900], "is damaged or not an Excel workbook"),
    "a sheet cut short": (".xlsx", _truncated_sheet, "is damaged after row"),
    "an empty file": (".csv", lambda: b"", "no header row"),
    "two columns with one header (CSV)": (".csv", lambda: f"{HEADER};E-mail werk\n{GOOD_ROW};x@y.be\n".encode(),
                                          "columns D (4) and E (5) are both headed 'E-mail werk'"),
    "two columns with one header (XLSX)": (".xlsx", lambda: _workbook(["Voornaam", "Familienaam", "voornaam"], ["a", "b", "c"]),
                                           "columns A (1) and C (3) are both headed 'voornaam'"),
    "a quote left open to the end": (".csv", lambda: f'{HEADER}\n{GOOD_ROW}\n"Z002;' .encode() + b"x" * (17 * 1024 * 1024),
                                     "cannot be read as CSV"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_every_broken_file_is_a_named_source_problem(tmp_path, case):
    suffix, make, expected = BROKEN[case]
    path = tmp_path / f"medewerkers{suffix}"
    path.write_bytes(make())
    with pytest.raises(SourceUnavailable) as caught:
        list(open_table(path, headers=HEADERS).rows)
    assert expected in str(caught.value) and "medewerkers" in str(caught.value)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_200_kb_cell_is_read_and_the_model_names_the_field_it_is_too_long_for(tmp_path, suffix):
    # Before: the csv module raised "_csv.Error: field larger than field limit (131072)" mid-file.
    long_name = "x" * 200_000
    rows = [HEADER.split(";"), ["Z001", long_name, "Van den Broeck", "els@zonneke.be"], GOOD_ROW.replace("Z001", "Z002").split(";")]
    path = tmp_path / f"medewerkers{suffix}"
    if suffix == ".csv":
        path.write_text("\n".join(";".join(r) for r in rows), encoding="utf-8")
    else:
        path.write_bytes(_workbook(*rows))
    long_row, good_row = open_table(path, headers=HEADERS).rows
    with pytest.raises(RecordError) as caught:
        PEOPLE.validate(PEOPLE.apply(long_row.cells))
    assert caught.value.field == "first_name" and "at most 100 characters" in caught.value.message
    assert PEOPLE.validate(PEOPLE.apply(good_row.cells))["employee_number"] == "Z002"


def test_a_row_with_fewer_cells_than_the_header_has_its_missing_cells_empty(tmp_path):
    (tmp_path / "medewerkers.csv").write_text(f"{HEADER};Taal\nZ001;Els;Van den Broeck\n", encoding="utf-8")
    (row,) = open_table(tmp_path / "medewerkers.csv", headers=HEADERS).rows
    assert row.cells == {"Personeelsnummer": "Z001", "Voornaam": "Els", "Familienaam": "Van den Broeck", "E-mail werk": None, "Taal": None}
    # A required field among the missing cells is the mapping's problem, naming the field.
    (tmp_path / "medewerkers.csv").write_text(f"{HEADER}\nZ001;Els\n", encoding="utf-8")
    (row,) = open_table(tmp_path / "medewerkers.csv", headers=HEADERS).rows
    with pytest.raises(RecordError) as caught:
        PEOPLE.validate(PEOPLE.apply(row.cells))
    assert caught.value.field == "last_name"


# -- configuration ------------------------------------------------------------------------

MINIMAL = """\
[partner]
id = "p-1"
name = "Netwerk Zoë"
organiser_email = "a@b.be"

[store]
url = "{url}"

[[organisations]]
id = "a"
name = "A"
"""


def test_a_configuration_with_a_utf8_byte_order_mark_is_accepted(tmp_path):
    # Before: "not valid TOML: Invalid statement (at line 1, column 1)", for what Notepad writes.
    (tmp_path / "config.toml").write_bytes(b"\xef\xbb\xbf" + MINIMAL.format(url="sqlite:///s.db").encode("utf-8"))
    assert load_config(tmp_path / "config.toml", environ={}).partner.name == "Netwerk Zoë"


def test_a_configuration_in_latin1_is_refused_naming_the_line(tmp_path):
    # Before: UnicodeDecodeError.
    (tmp_path / "config.toml").write_bytes(MINIMAL.format(url="sqlite:///s.db").encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.toml", environ={})
    (problem,) = caught.value.problems
    assert "line 3: byte 0xeb is not UTF-8" in problem and "save it again as UTF-8" in problem


def test_config_naming_a_folder_is_a_configuration_error(tmp_path):
    # Before: IsADirectoryError.
    with pytest.raises(ConfigError, match="is a folder; name the configuration file itself"):
        load_config(tmp_path, environ={})


@pytest.mark.parametrize("url, expected", [
    ("mysql://u@h/db", "'mysql' is not a supported store"),
    ("oracle+cx_oracle://u@h/db", "'oracle' is not a supported store"),
    ("not a url", "is not a database URL"),
    ("", "is not a database URL"),
])
def test_a_store_url_of_another_database_or_no_url_is_a_configuration_error(tmp_path, url, expected):
    # Before: ModuleNotFoundError (MySQLdb) and sqlalchemy ArgumentError tracebacks at the first sync.
    (tmp_path / "config.toml").write_text(MINIMAL.format(url=url), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.toml", environ={})
    assert any("store.url" in p and expected in p for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize("options, expected", [
    ('delimiter = ""', "delimiter must be one character"),
    ('delimiter = ";;"', "delimiter must be one character"),
    ("delimiter = 3", "delimiter must be one character"),
    ('decimal = ""', "decimal must be one character"),
    ('delimiter = ","', "delimiter and decimal are both ','"),
    ('delimiter = ";"\n  decimal = ";"', "delimiter and decimal are both ';'"),
])
def test_a_ledger_delimiter_or_decimal_that_cannot_work_is_named_by_check(sqlite_network, options, expected):
    # Before: an empty or two-character delimiter was a TypeError from the csv module at delivery;
    # a decimal equal to the delimiter wrote ledgers nobody can read back.
    sqlite_network.replace('kind = "ledger_files"             # out/ledgers/zonneke/training-ledger.csv and .xlsx',
                           f'kind = "ledger_files"\n  {options}')
    from connector.engine.sync import check

    with pytest.raises(ConfigError) as caught:
        check(sqlite_network.config())
    assert any(p.startswith("target 'zonneke/ledger_files'") and expected in p for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize("rule, expected", [
    ("last_name = 3", "expected a column name or a table"),
    ("last_name = { from = 3 }", "last_name.from: expected a name or a list of names (a column header in quotes), found a number 3"),
    ("last_name = { from = [2, 3] }", "last_name.from: expected a name or a list of names"),
    ('last_name = { join = [1, "Naam"] }', "last_name.join: expected a name or a list of names"),
    ('last_name = { from = "Naam", sep = 1 }', "last_name.sep: expected text"),
    ('last_name = { from = "Naam", transform = "trim" }', None),  # one transform as text is fine
])
def test_numbers_where_a_mapping_expects_column_names_are_named(tmp_path, rule, expected):
    # Before: TypeError ('int' object is not iterable) while loading, or AttributeError at the first record.
    (tmp_path / "m.toml").write_text(f'[people]\nid = "employee_number"\n[people.fields]\nfirst_name = "Voornaam"\n{rule}\n',
                                     encoding="utf-8")
    if expected is None:
        load_mapping("m.toml", tmp_path)
        return
    with pytest.raises(ConfigError) as caught:
        load_mapping("m.toml", tmp_path)
    assert any("[people].fields." in p and expected in p for p in caught.value.problems), caught.value.problems


@pytest.mark.parametrize("document, expected", [
    ("people = 3", "[people]: must be a table"),
    ('[people]\nid = 5\n[people.fields]\nlast_name = "Naam"', "[people].id: expected a field name"),
    ('[people]\nid = "employee_number"\nfields = "Naam"', "[people]: must be a table"),
])
def test_a_mapping_of_the_wrong_shape_is_named(tmp_path, document, expected):
    (tmp_path / "m.toml").write_text(document, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_mapping("m.toml", tmp_path)
    assert any(expected in p for p in caught.value.problems), caught.value.problems


# -- through the command line: no traceback, good records still go through -----------------

def test_a_run_with_broken_files_names_each_and_takes_the_good_ones(sqlite_network):
    network = sqlite_network
    (network.data / "zonneke" / "medewerkers.csv").write_bytes(os.urandom(3000).replace(b"\n", b" ") + b"\x81\n")
    workbook = network.data / "groenkracht" / "medewerkers.xlsx"
    workbook.write_bytes(workbook.read_bytes()[:2000])
    petits_pas = network.data / "petits-pas" / "medewerkers.csv"
    petits_pas.write_bytes(petits_pas.read_bytes() + "P98;Zo\x00é;Nul;zoe@petitspas.be\nP99;Ana;Court\n".encode("cp1252"))
    result = cli("sync", "--config", str(network.config_path), "--json", *AS_OF)
    assert "Traceback" not in result.stderr and result.returncode == 1, result.stderr
    import json

    summary = json.loads(result.stdout)
    assert summary["status"] == "partial"
    messages = [f"{e['source']}|{e['record']}|{e['field']}|{e['message']}" for e in summary["errors"]]
    assert any(m.startswith("zonneke/hr|(source)") and "neither UTF-8 nor Windows-1252" in m for m in messages), messages
    assert any(m.startswith("groenkracht/payroll|(source)") and "medewerkers.xlsx is damaged" in m for m in messages), messages
    assert any("petits-pas/rh|medewerkers.csv row" in m and "control character U+0000" in m for m in messages), messages
    assert summary["pulled"]["people"]["created"] >= 10  # the readable exports (brouwers-peeters, petits-pas) went in
    assert summary["pulled"]["people"]["created"] < 40


def test_unexpected_errors_end_in_one_line_and_a_pointer_to_v(sqlite_network, monkeypatch, capsys):
    """The CLI's last line of defence: a defect is exit 3 with one line, and --json stays one document."""
    import json

    from connector import cli as command

    monkeypatch.setattr(command, "_sync", lambda *a, **k: 1 / 0)
    assert command.main(["sync", "--config", str(sqlite_network.config_path), "--json"]) == 3
    out, err = capsys.readouterr()
    assert json.loads(out)["errors"][0]["message"] == "unexpected error: ZeroDivisionError: division by zero"
    assert "Traceback" not in err and "with -v" in err
    assert command.main(["check", "--config", str(REPO)]) == command.EXIT_CONFIG
    out, err = capsys.readouterr()
    assert "is a folder" in err and out == ""
    assert command.main(["sync", "--json", "--config", str(REPO)]) == command.EXIT_CONFIG
    out, _ = capsys.readouterr()
    assert json.loads(out)["errors"][0]["source"] == "configuration"


@pytest.mark.parametrize("url, expected", [("mysql://u@h/db", "--to: 'mysql' is not a supported store"),
                                           ("nonsense", "--to: is not a database URL")])
def test_store_copy_to_another_database_or_no_url_is_a_configuration_error(sqlite_network, capsys, url, expected):
    # Before: ModuleNotFoundError (MySQLdb) or ArgumentError as a traceback.
    from connector import cli as command

    assert command.main(["store", "copy", "--config", str(sqlite_network.config_path), "--to", url]) == command.EXIT_CONFIG
    assert expected in capsys.readouterr().err
