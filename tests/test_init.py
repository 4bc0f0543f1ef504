"""A guided start, as a new coordinator goes through it: init, fill in, check --data, sync,
status (issue: safe to operate); and template never overwriting a filled-in workbook."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook

from tests.test_cli import cli

AS_OF = ["--as-of", "2027-10-01"]


def _fill(workbook: Path, sheet: str, *rows: dict[str, str]) -> None:
    """Type rows under the template's own headers, by header name."""
    book = load_workbook(workbook)
    headers = [cell.value for cell in book[sheet][1]]
    for row in rows:
        book[sheet].append([row.get(str(header), "") for header in headers])
    book.save(workbook)


def _fill_network(folder: Path, learning_place: str) -> None:
    person = {"Taal": "NL", "FTE": "1", "Uren per week": "38", "In dienst": "01/09/2020"}
    _fill(folder / "organisations" / "zonneke.xlsx", "Medewerkers",
          {**person, "Personeelsnummer": "Z1", "E-mail werk": "els@zonneke.be", "Voornaam": "Els", "Familienaam": "Peeters"})
    _fill(folder / "organisations" / "brouwers.xlsx", "Medewerkers",
          {**person, "Personeelsnummer": "B1", "E-mail werk": "wim@brouwers.be", "Voornaam": "Wim", "Familienaam": "Brouwers"})
    cohort = folder / "cohort.xlsx"
    _fill(cohort, "Leerplekken", {"Code": "LP-B", "Organisatie": "brouwers", "Leerplek": "Planning"})
    _fill(cohort, "Leercoaches", {"Leerplek": "LP-B", "Leercoach": "B1"})
    _fill(cohort, "Leervragen", {"Code": "LV-1", "Organisatie": "zonneke", "Switcher": "Z1", "Leervraag": "Plannen leren"})
    _fill(cohort, "Uitwisselingen", {"Code": "EX-1", "Leervraag": "LV-1", "Leerplek": learning_place, "Status": "bevestigd"})
    _fill(cohort, "Sessies", {"Code": "S-1", "Uitwisseling": "EX-1", "Soort": "uitwisselingsdag", "Datum": "16/11/2027",
                              "Van": "09:00", "Tot": "16:00", "Vorm": "ter plaatse", "Uren": "7"})


def test_init_fill_check_data_sync_status(tmp_path):
    folder = tmp_path / "netwerk"
    made = cli("init", str(folder), "-o", "zonneke=Kinderdagverblijf 't Zonneke", "-o", "brouwers")
    assert made.returncode == 0, made.stderr
    config = folder / "config.toml"
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.*")) == [
        "cohort.xlsx", "config.toml", "organisations/brouwers.xlsx", "organisations/zonneke.xlsx"]
    assert load_workbook(folder / "cohort.xlsx")["Leerplekken"].data_validations.dataValidation[0].formula1 == '"zonneke,brouwers"'
    untouched = cli("check", "--config", str(config))
    assert untouched.returncode == 0  # what init left to fill in is named, as warnings
    assert "organiser_email is still coordinator@example.org" in untouched.stderr and "no average_workforce" in untouched.stderr
    empty = cli("check", "--data", "--config", str(config), *AS_OF)
    assert empty.returncode == 1
    assert "zonneke/hr / people / (source): the source holds no rows at all" in empty.stdout
    _fill_network(folder, learning_place="LP-C")
    wrong = cli("check", "--data", "--config", str(config), *AS_OF, "--json")
    assert wrong.returncode == 1
    problem, consequence = json.loads(wrong.stdout)["errors"]
    assert problem["record"] == "cohort.xlsx sheet 'Uitwisselingen' row 2"
    assert problem["message"] == "no learning place 'LP-C' (did you mean 'LP-B'?); known: LP-B"
    assert consequence["message"] == "no exchange 'EX-1'; none known yet"
    book = load_workbook(folder / "cohort.xlsx")
    book["Uitwisselingen"]["C2"] = "LP-B"
    book.save(folder / "cohort.xlsx")
    checked = cli("check", "--data", "--config", str(config), *AS_OF)
    assert checked.returncode == 0, checked.stdout
    assert "the next sync will not fail on the data" in checked.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["cohort.xlsx", "config.toml", "organisations"]  # check wrote nothing
    synced = cli("sync", "--config", str(config), *AS_OF, "--json")
    assert synced.returncode == 0, synced.stdout
    (invitation,) = [w for w in json.loads(synced.stdout)["written"] if w["target"] == "calendar-files"]
    assert invitation["id"] == "S-1" and Path(invitation["file"]).is_file()
    status = json.loads(cli("status", "--config", str(config), "--json").stdout)
    (zonneke,) = [o for o in status["organisations"] if o["id"] == "zonneke"]
    assert [(e["code"], e["state"], e["switcher"]) for e in zonneke["exchanges"]] == [("EX-1", "invited", "Els Peeters")]
    again = json.loads(cli("sync", "--config", str(config), *AS_OF, "--json").stdout)
    assert again["written"] == [] and again["status"] == "ok"


def test_init_refuses_a_folder_that_holds_something(tmp_path):
    (tmp_path / "config.toml").write_text("# mine")
    refused = cli("init", str(tmp_path))
    assert refused.returncode == 2 and "is not an empty folder" in refused.stderr
    assert (tmp_path / "config.toml").read_text() == "# mine"
    assert cli("init", str(tmp_path / "new"), "-o", "Zonneke", "-o", "b").returncode == 2


def test_template_never_overwrites_a_filled_in_workbook_unless_forced(tmp_path):
    workbook = tmp_path / "ingevuld.xlsx"
    assert cli("template", "--output", str(workbook)).returncode == 0
    _fill(workbook, "Medewerkers", {"Voornaam": "Els"})
    refused = cli("template", "--output", str(workbook))
    assert refused.returncode == 2 and "--force" in refused.stderr
    assert load_workbook(workbook)["Medewerkers"]["C2"].value == "Els"
    assert cli("template", "--output", str(workbook), "--force").returncode == 0
    assert load_workbook(workbook)["Medewerkers"].max_row == 1


def test_help_explains_the_new_commands_and_options():
    for command, words in (("init", ("DIR", "--organisation", "--partner", "not empty")),
                           ("status", ("--json", "--runs", "proposed", "written back")),
                           ("check", ("--data", "writes nothing", "--as-of", "--json")),
                           ("template", ("--force", "never overwritten"))):
        result = cli(command, "--help")
        assert result.returncode == 0
        text = " ".join(result.stdout.split())
        assert all(word in text for word in words), (command, [w for w in words if w not in text])
