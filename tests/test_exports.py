"""Per-organisation exports: training accounts, the training plan by target group, the
social balance sheet's informal-training rubrics (checked against the model form table),
the chart, in the organisation's language; as XLSX, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from connector.core.errors import ConfigError
from connector.engine.sync import run_sync
from connector.reports.exports import (
    INFORMAL_RUBRICS,
    build_exports,
    check_rubrics,
    model_form,
    write_exports,
)
from connector.reports.training import build_report
from connector.store.db import open_engine, session_factory


@pytest.fixture
def exports(sqlite_network):
    config = sqlite_network.config()
    assert run_sync(config, datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))).status == "ok"
    engine = open_engine(sqlite_network.store_url)
    with session_factory(engine)() as db:
        report = build_report(db, 2026)
    engine.dispose()
    return {e.organisation: e for e in build_exports(report, config)}


def test_the_social_balance_sheet_rubrics_carry_the_informal_totals_men_and_women(exports):
    groenkracht = exports["groenkracht"]
    values = {row["code"]: row["value"] for row in groenkracht.social_balance}
    # Marieke (F) followed two exchange days of 7 hours; the example config prices an hour at 41.5 EUR
    assert values == {"5821": 0, "5822": 0, "5823": 0.0, "5831": 1, "5832": 14.0, "5833": 581.0}
    [women_hours] = [row for row in groenkracht.social_balance if row["code"] == "5832"]
    assert women_hours["measure"] == "Aantal gevolgde opleidingsuren" and women_hours["sex"] == "vrouwen"
    assert groenkracht.notes == []
    petits_pas = exports["petits-pas"]  # French, and no hourly cost configured
    assert petits_pas.language == "fr" and petits_pas.social_balance[0]["measure"] == "Nombre de travailleurs concernés"
    assert [row["value"] for row in petits_pas.social_balance if row["code"] in ("5823", "5833")] == [None, None]
    assert "informal_hour_cost" in petits_pas.notes[0] and petits_pas.notes[0].startswith("Complétez le coût")


def test_every_printed_code_is_checked_against_the_model_form():
    rubrics, labels = model_form()
    check_rubrics(INFORMAL_RUBRICS, "informal", rubrics)  # what the export prints agrees with the form
    with pytest.raises(ConfigError) as swapped:
        check_rubrics({("F", "hours"): "5822"}, "informal", rubrics)
    assert "code 5822 is informal/M/hours on the model form, not informal/F/hours" in swapped.value.problems[0]
    with pytest.raises(ConfigError) as formal:
        check_rubrics({("M", "hours"): "5802"}, "informal", rubrics)
    assert "5802 is formal/M/hours" in formal.value.problems[0]
    with pytest.raises(ConfigError, match="code 5899 is not on the National Bank's model form"):
        check_rubrics({("M", "hours"): "5899"}, "informal", rubrics)
    assert set(labels) == {"nl", "fr", "en"}


def test_accounts_and_the_training_plan_by_target_group(exports):
    groenkracht = exports["groenkracht"]
    marieke = next(row for row in groenkracht.accounts if row["employee_number"] == "G104")
    assert (marieke["entitlement_days"], marieke["days_followed"], marieke["carried_in_days"], marieke["account_balance_days"],
            marieke["leerbewijzen"]) == (4.0, 2.3, 8.0, 9.7, "LB-2026-0002")
    evidence = [(r["date"], r["kind"], r["origin"], r["hours"], r["leerbewijs_number"]) for r in groenkracht.records
                if r["employee_number"] == "G104"]
    assert evidence == [(date(2026, 3, 27), "informeel", "leeruitwisseling", 7.0, "LB-2026-0002"),
                        (date(2026, 3, 30), "informeel", "leeruitwisseling", 7.0, "LB-2026-0002")]
    assert sum(r["hours"] for r in groenkracht.records if r["employee_number"] == "G110") == \
        next(a for a in groenkracht.accounts if a["employee_number"] == "G110")["formal_hours"] == 14.0  # pulled, formal
    plan = {(row["group_kind"], row["group"]): row for row in groenkracht.plan}
    hr = plan[("Afdeling", "HR")]
    assert (hr["workers"], hr["entitlement_days"], hr["days_followed"], hr["share"], hr["exchange_hours"]) == (1, 4.0, 2.3, 57.5, 14.0)
    regimes = {group: row["workers"] for (kind, group), row in plan.items() if kind == "Arbeidsregime"}
    sexes = {group: row["workers"] for (kind, group), row in plan.items() if kind == "Geslacht"}
    assert sum(regimes.values()) == sum(sexes.values()) == len(groenkracht.accounts) == 10
    chart = {row["department"]: row for row in groenkracht.chart}
    assert chart["HR"] == {"department": "HR", "hours_followed": 14.0, "entitlement_hours": 24.32}  # 4 days of 6.08 hours


def test_the_workbook_csv_and_json_hold_the_same_numbers(exports, tmp_path):
    groenkracht = exports["groenkracht"]
    [xlsx] = write_exports([groenkracht], tmp_path, "xlsx")
    workbook = load_workbook(xlsx)
    assert workbook.sheetnames == ["Opleidingsrekeningen", "Gevolgde opleidingen", "Opleidingsplan", "Sociale balans", "Grafiek"]
    balance = {row[0]: row[4] for row in workbook["Sociale balans"].iter_rows(min_row=4, values_only=True) if row[0]}
    assert balance["5832"] == 14.0 and balance["5833"] == 581.0
    assert len(workbook["Grafiek"]._charts) == 1
    french = write_exports([exports["petits-pas"]], tmp_path, "xlsx")[0]
    assert load_workbook(french).sheetnames == ["Comptes de formation", "Formations suivies", "Plan de formation", "Bilan social", "Graphique"]
    paths = write_exports([groenkracht], tmp_path, "csv")
    assert [p.name for p in paths] == ["training-2026-accounts.csv", "training-2026-records.csv", "training-2026-plan.csv",
                                       "training-2026-balance.csv", "training-2026-chart.csv"]
    rows = list(csv.reader(io.StringIO(paths[0].read_text(encoding="utf-8-sig")), delimiter=";"))
    marieke = dict(zip(rows[0], next(r for r in rows if r[0] == "G104")))
    assert marieke["Gevolgde dagen"] == "2,3" and marieke["Saldo rekening (dagen)"] == "9,7"  # Belgian decimals
    records = list(csv.reader(io.StringIO(paths[1].read_text(encoding="utf-8-sig")), delimiter=";"))
    assert ["G104", "Janssens Marieke", "27/03/2026", "informeel", "leeruitwisseling", "7"] == records[1][:6]  # Belgian date
    dated = load_workbook(xlsx)["Gevolgde opleidingen"]["C2"]
    assert dated.number_format == "DD/MM/YYYY" and dated.value.date() == date(2026, 3, 27)
    [document] = write_exports([groenkracht], tmp_path, "json")
    data = json.loads(document.read_text(encoding="utf-8"))
    assert {r["code"]: r["value"] for r in data["social_balance"]}["5832"] == 14.0
    assert data["accounts"] == groenkracht.accounts and data["records"][0]["date"] == "2026-03-27"


def test_the_command_writes_one_export_per_organisation_and_names_an_unknown_one(sqlite_network, capsys):
    from connector.cli import main

    config = str(sqlite_network.config_path)
    assert main(["sync", "--config", config, "--as-of", "2026-11-22", "-q"]) == 0
    assert "signing keys created: " in capsys.readouterr().out  # the first run makes them and says so
    assert main(["sync", "--config", config, "--as-of", "2026-11-22", "--json"]) == 0
    assert "signing_key_created" not in json.loads(capsys.readouterr().out)
    assert main(["report", "organisations", "--config", config, "--year", "2026"]) == 0
    printed = capsys.readouterr().out.split()
    assert sorted(p.split("/")[-2] for p in printed) == ["brouwers-peeters", "groenkracht", "petits-pas", "zonneke"]
    assert main(["report", "organisations", "--config", config, "--year", "2026", "--organisation", "nowhere"]) == 2
    assert "no organisation 'nowhere'" in capsys.readouterr().err
