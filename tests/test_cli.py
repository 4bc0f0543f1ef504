"""The command line as a user runs it: a real process, real files, real exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import REPO, Network

AS_OF = ["--as-of", "2026-11-22"]


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "connector.cli", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, cwd=cwd or REPO)


def test_help_explains_commands_and_exit_codes():
    result = cli("--help")
    assert result.returncode == 0
    for word in ("sync", "run", "check", "report", "template", "exit codes: 0 ok, 1 partial", "2 configuration error"):
        assert word in result.stdout
    sync_help = cli("sync", "--help").stdout
    assert "--dry-run" in sync_help and "--as-of" in sync_help and "--json" in sync_help


def test_json_summary_has_the_documented_shape(sqlite_network):
    result = cli("sync", "--config", str(sqlite_network.config_path), *AS_OF, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) >= {"status", "pulled", "invites", "training_records", "leerbewijzen", "errors"}
    assert document["status"] == "ok" and document["errors"] == []
    assert set(document["pulled"]["people"]) >= {"created", "updated", "unchanged", "failed"}
    assert document["invites"] == {"created": 19, "updated": 0, "cancelled": 0}  # 15 sessions, 2 evaluation reminders, 2 group moments
    # with the day and the leerbewijs of EX-01's coach (petits-pas has coach_learning)
    assert document["training_records"] == {"written": 6, "retracted": 0, "yearly totals written": 0} and document["leerbewijzen"] == {"issued": 4}
    assert result.stderr == ""  # --json keeps progress off the terminal too


def test_people_see_progress_and_a_readable_summary(sqlite_network):
    result = cli("sync", "--config", str(sqlite_network.config_path), *AS_OF)
    assert result.returncode == 0
    assert "pull zonneke/hr: people" in result.stderr and "write calendar-files: 19/19" in result.stderr
    assert "invitations: 19 new, 0 updated, 0 cancelled" in result.stdout
    assert "leerbewijzen issued: 4" in result.stdout


def test_partial_run_exits_1_and_names_the_bad_record(sqlite_network):
    sqlite_network.edit_csv("brouwers-peeters/medewerkers.csv", "B08,Jef,Coppens,jef@brouwers-peeters.be,NL,Magazijn,Leuven,Magazijnier,1,40,2026-05-10",
                            "B08,Jef,Coppens,jef@brouwers-peeters.be,NL,Magazijn,Leuven,Magazijnier,1,40,10 mei")
    result = cli("sync", "--config", str(sqlite_network.config_path), *AS_OF)
    assert result.returncode == 1
    assert "brouwers-peeters/hr / people / medewerkers.csv row 9: start_date: '10 mei' is not a date" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_configuration_errors_are_all_listed_and_exit_2(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("""
[partner]
id = "Netwerk!"
name = "N"
organiser_email = "nobody"
[store]
url = "postgresql+psycopg://u:${ST_TEST_UNSET_PASSWORD}@localhost/x"
[[organisations]]
id = "a"
name = "A"
enterprise_number = "123"
""", encoding="utf-8")
    result = cli("check", "--config", str(config))
    assert result.returncode == 2
    for expected in ("store.url: ${ST_TEST_UNSET_PASSWORD} is not set", "partner.id", "partner.organiser_email", "organisations[0] (id=a).enterprise_number"):
        assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert cli("sync", "--config", str(tmp_path / "missing.toml")).returncode == 2


def test_check_finds_mapping_and_source_problems_without_running(sqlite_network):
    text = sqlite_network.config_path.read_text()
    broken = text.replace('path = "examples/data/zonneke"', 'path = "examples/data/nowhere"').replace('mapping = "files"', 'mapping = "my-hr"')
    sqlite_network.config_path.write_text(broken)
    result = cli("check", "--config", str(sqlite_network.config_path))
    assert result.returncode == 2
    assert "source 'cohort/cohort': mapping 'my-hr' not found" in result.stderr
    assert "source 'zonneke/hr': source 'hr':" in result.stderr and "nowhere does not exist" in result.stderr
    assert not (sqlite_network.root / "state").exists()
    sqlite_network.config_path.write_text(text)
    assert cli("check", "--config", str(sqlite_network.config_path)).returncode == 0


def test_second_sync_refuses_while_one_holds_the_lock(sqlite_network):
    from connector.store.db import open_engine, sync_lock

    engine = open_engine(sqlite_network.store_url)
    with sync_lock(engine):
        result = cli("sync", "--config", str(sqlite_network.config_path), *AS_OF)
    engine.dispose()
    assert result.returncode == 3 and "another sync is running" in result.stderr


def test_unreachable_store_exits_3_without_showing_the_password(sqlite_network):
    text = sqlite_network.config_path.read_text()
    sqlite_network.config_path.write_text(text.replace(f'url = "{sqlite_network.store_url}"',
                                                       'url = "postgresql+psycopg://postgres:${ST_DB_PASSWORD}@127.0.0.1:1/test"'))
    result = cli("sync", "--config", str(sqlite_network.config_path), "-v", env={"ST_DB_PASSWORD": "s3cr3t-Pa55word"})
    assert result.returncode == 3 and "store cannot be reached" in result.stderr
    assert "s3cr3t-Pa55word" not in result.stdout + result.stderr
    as_json = cli("sync", "--config", str(sqlite_network.config_path), "--json", env={"ST_DB_PASSWORD": "s3cr3t-Pa55word"})
    assert as_json.returncode == 3 and json.loads(as_json.stdout)["status"] == "failed"
    assert "s3cr3t-Pa55word" not in as_json.stdout + as_json.stderr


def test_no_readable_source_means_failed_and_nothing_changes(sqlite_network):
    import shutil

    assert cli("sync", "--config", str(sqlite_network.config_path), *AS_OF, "-q").returncode == 0
    before = sqlite_network.output_hashes()
    for folder in list(sqlite_network.data.iterdir()):
        shutil.rmtree(folder)
        folder.mkdir()  # the share is mounted but empty: every file is missing
    result = cli("sync", "--config", str(sqlite_network.config_path), *AS_OF, "--json")
    document = json.loads(result.stdout)
    assert result.returncode == 3 and document["status"] == "failed"
    assert all("could not be read" in e["message"] for e in document["errors"])
    assert document["invites"] == {"created": 0, "updated": 0, "cancelled": 0}
    assert sqlite_network.output_hashes() == before


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.35, 0.7, 1.0])
def test_killed_mid_run_the_next_run_finishes_without_duplicates(tmp_path_factory, delay):
    clean = Network(tmp_path_factory.mktemp("clean"), f"sqlite:///{tmp_path_factory.mktemp('c') / 'c.db'}")
    assert cli("sync", "--config", str(clean.config_path), *AS_OF, "-q").returncode == 0
    killed = Network(tmp_path_factory.mktemp("killed"), f"sqlite:///{tmp_path_factory.mktemp('k') / 'k.db'}")
    process = subprocess.Popen([sys.executable, "-m", "connector.cli", "sync", "--config", str(killed.config_path), *AS_OF, "-q"],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    rerun = cli("sync", "--config", str(killed.config_path), *AS_OF, "--json")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert killed.output_hashes() == clean.output_hashes()
    again = json.loads(cli("sync", "--config", str(killed.config_path), *AS_OF, "--json").stdout)
    assert again["invites"] == {"created": 0, "updated": 0, "cancelled": 0} and again["training_records"]["written"] == 0


def test_training_report_as_workbook_and_csv(sqlite_network):
    assert cli("sync", "--config", str(sqlite_network.config_path), *AS_OF, "-q").returncode == 0
    result = cli("report", "training", "--config", str(sqlite_network.config_path), "--year", "2026")
    assert result.returncode == 0
    workbook = load_workbook(result.stdout.strip())
    rows = list(workbook["employees"].values)
    header = rows[0]
    by_number = {row[header.index("employee_number")]: dict(zip(header, row)) for row in rows[1:]}
    marieke = by_number["G104"]  # 0.8 FTE all year at a 46-worker employer; two exchange days in March 2026
    assert (marieke["entitlement_days"], marieke["exchange_hours"], marieke["hours_per_day"], marieke["days_followed"], marieke["balance_days"]) \
        == (4.0, 14.0, 6.08, 2.3, 1.7)
    assert marieke["leerbewijzen"] == "LB-2026-0002"
    # Employed since 2021 at 0.8 FTE: 4 unused days in 2024 and in 2025 carry over; 12 available in 2026, 2.3 followed.
    assert (marieke["carried_in_days"], marieke["account_balance_days"], marieke["period_average_days"]) == (8.0, 9.7, 0.77)
    fatima = by_number["Z005"]  # her two exchange days (14 h at 30.4 h/week) fell in December 2025
    assert (fatima["carried_in_days"], fatima["period_average_days"]) == (round(4 + 4 - 7 / 6.08, 2), round(7 / 6.08 / 3, 2))
    assert by_number["Z004"]["entitlement_days"] == 1.67  # half-time from 10 May at a 24-worker employer
    assert by_number["B04"]["entitlement_days"] == 1.0 and by_number["B04"]["balance_days"] == -0.75
    assert by_number["P01"]["entitlement_days"] == 0.0  # 8 workers
    organisations = {row[0]: row for row in list(workbook["organisations"].values)[1:]}
    header = list(workbook["organisations"].values)[0]
    groenkracht = dict(zip(header, organisations["groenkracht"]))
    assert (groenkracht["informal_participants"], groenkracht["informal_participants_women"], groenkracht["informal_hours_women"]) == (1, 1, 14.0)
    csv_result = cli("report", "training", "--config", str(sqlite_network.config_path), "--year", "2026", "--format", "csv")
    paths = csv_result.stdout.split()
    assert [Path(p).name for p in paths] == ["training-2026-employees.csv", "training-2026-organisations.csv"]
    assert ";G104;Janssens;Marieke;" in Path(paths[0]).read_text(encoding="utf-8-sig")


def test_template_matches_the_shipped_workbook_and_the_mapping(tmp_path):
    result = cli("template", "--output", str(tmp_path / "t.xlsx"))
    assert result.returncode == 0
    shipped = REPO / "examples" / "template" / "switching-talent-sjabloon.xlsx"
    assert (tmp_path / "t.xlsx").read_bytes() == shipped.read_bytes(), "regenerate it: st-connector template --output " + str(shipped)
    workbook = load_workbook(shipped)
    assert workbook.sheetnames == ["Uitleg", "Medewerkers", "Opleidingen", "Opleidingsplan", "Leerplekken", "Leercoaches", "Leervragen", "Uitwisselingen", "Sessies",
                                  "Cohorten", "Fasen", "Groepsmomenten", "Organisaties"]  # the cohort's sheets (issue 25) before the matching one
    assert list(workbook["Sessies"].values)[0] == ("Code", "Uitwisseling", "Soort", "Datum", "Van", "Tot", "Vorm", "Locatie", "Uren",
                                                   "Aanwezigheid")


def test_years_runs_and_verify_without_configuration_get_clear_answers(tmp_path):
    """From a new user's review: --year 26 was taken for the year 26, --runs 0 said nothing was
    synced, and verifying without a configuration did not mention --keyring."""
    short = cli("report", "training", "--config", "config.example.toml", "--year", "26")
    assert short.returncode == 2 and "write it in full" in short.stderr
    none = cli("status", "--config", "config.example.toml", "--runs", "0")
    assert none.returncode == 2 and "1 or more" in none.stderr
    verify = cli("leerbewijs", "verify", "some.pdf", cwd=tmp_path)
    assert verify.returncode == 2 and "--keyring keyring.json" in verify.stderr and "Traceback" not in verify.stderr


def test_the_readme_documents_every_key_of_the_sync_json_summary():
    """The README's `--json` shape names every top-level key `sync --json` prints (always present ones)."""
    from connector.engine.sync import Summary

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    documented = readme[readme.index('`{"status": "ok|partial|failed"'):]
    documented = documented[:documented.index("`.")]
    for key in Summary().as_dict():
        assert f'"{key}"' in documented, key
