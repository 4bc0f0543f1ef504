"""Only days that happened count (issue 16): attendance from the cohort sheet and the calendar,
the organisation's write-back policy, retraction of what was written for days that did not
happen, and a leerbewijs revoked and replaced by a corrected one rather than altered."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from connector.engine.sync import run_sync
from connector.store.db import open_engine, session_factory
from connector.store.tables import ExternalRef, Leerbewijs, OutboxItem, TrainingRecord
from tests.conftest import REPO

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
ABSENT = "S-01-D2;EX-01;uitwisselingsdag;05/12/2025;08:30;16:00;ter plaatse;;7;afwezig"
NOT_SAID = "S-01-D2;EX-01;uitwisselingsdag;05/12/2025;08:30;16:00;ter plaatse;;7;"


def rows(db, model, *where):
    return list(db.scalars(select(model).where(*where)))


def store(network):
    engine = open_engine(network.store_url)
    return engine, session_factory(engine)()


def ledger(network, organisation: str) -> dict[str, dict[str, str]]:
    path = network.out / "ledgers" / organisation / "training-ledger.csv"
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")), delimiter=";")
    return {row["record_id"]: row for row in reader}


def exchange_records(network) -> dict[str, float]:
    engine, db = store(network)
    with db:
        found = {r.session_code: r.hours for r in rows(db, TrainingRecord, TrainingRecord.origin == "exchange")}
    engine.dispose()
    return found


def leerbewijzen(network, exchange: str) -> list[Leerbewijs]:
    engine, db = store(network)
    with db:
        # the switcher's (a coach's own, tests/test_coach_learning.py, are not about these rules)
        found = rows(db, Leerbewijs, Leerbewijs.exchange_code == exchange, Leerbewijs.role == "switcher")
        db.expunge_all()
    engine.dispose()
    return sorted(found, key=lambda row: row.number)


def nothing_written(summary) -> bool:
    return (summary.training_records["written"] == summary.training_records["retracted"] == 0
            and summary.leerbewijzen["issued"] == 0 and not summary.revoked and not summary.manual)


def verify(network, number: str) -> subprocess.CompletedProcess[str]:
    pdf = next(network.out.rglob(f"{number}.pdf"))
    return subprocess.run([sys.executable, "-m", "connector.cli", "leerbewijs", "verify", str(pdf), "--config", str(network.config_path)],
                          capture_output=True, text=True, timeout=120, cwd=REPO)


# -- the example network: one absent day, one exchange cancelled after its first day -------

def test_the_absent_day_and_the_cancelled_exchanges_day_count_nowhere(network):
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    reasons = {day["session"]: day["reason"] for day in summary.not_counted}
    assert reasons["S-01-D2"] == "marked absent"
    assert reasons["S-10-D1"] == reasons["S-10-D2"] == "the exchange was cancelled"
    records = exchange_records(network)
    assert "S-01-D1" in records and "S-01-D2" not in records and not any(code.startswith("S-10") for code in records)
    assert set(ledger(network, "zonneke")) == {"exchange:S-01-D1"}
    (issued,) = leerbewijzen(network, "EX-01")
    assert [day["session"] for day in issued.content["days"]] == ["S-01-D1"] and issued.total_hours == 7
    assert issued.content["intro_call"] == "2025-11-17"  # the intro call took place (attended)
    assert leerbewijzen(network, "EX-10") == []
    assert nothing_written(run_sync(network.config(), MOMENT))


def test_the_intro_call_is_stated_only_when_it_took_place(sqlite_network):
    sqlite_network.edit_csv("cohort/sessies.csv", "S-01-INTRO;EX-01;kennismaking;17/11/2025;10:00;10:20;online;;;aanwezig",
                            "S-01-INTRO;EX-01;kennismaking;17/11/2025;10:00;10:20;online;;;afwezig")
    run_sync(sqlite_network.config(), MOMENT)
    (issued,) = leerbewijzen(sqlite_network, "EX-01")
    assert "intro_call" not in issued.content
    (second,) = leerbewijzen(sqlite_network, "EX-02")  # not said: under the default policy it took place
    assert second.content["intro_call"] == "2026-03-09"


# -- retraction: a written day turns absent, an exchange is cancelled, a session moves ------

def test_a_day_marked_absent_after_it_was_written_is_voided_and_the_leerbewijs_replaced(network):
    network.edit_csv("cohort/sessies.csv", ABSENT, NOT_SAID)
    first = run_sync(network.config(), MOMENT)
    assert first.status == "ok" and set(ledger(network, "zonneke")) == {"exchange:S-01-D1", "exchange:S-01-D2"}
    (old,) = leerbewijzen(network, "EX-01")
    assert old.total_hours == 14

    network.edit_csv("cohort/sessies.csv", NOT_SAID, ABSENT)
    second = run_sync(network.config(), MOMENT)
    assert second.status == "ok", second.errors
    assert second.training_records["retracted"] == 2  # and the day of EX-01's coach (petits-pas has coach_learning)
    row = ledger(network, "zonneke")["exchange:S-01-D2"]
    assert (row["status"], row["reason"]) == ("voided", "afwezig gemeld")  # kept, voided, with the reason in Dutch
    assert ledger(network, "zonneke")["exchange:S-01-D1"]["status"] == "recorded"
    assert "S-01-D2" not in exchange_records(network)  # the training account holds only what happened
    revoked, corrected = leerbewijzen(network, "EX-01")
    assert revoked.number == old.number and revoked.revoked_at is not None and revoked.replaced_by == corrected.number
    assert "S-01-D2" in (revoked.revoked_reason or "") and revoked.content == old.content  # never altered
    assert corrected.replaces == old.number and corrected.content["replaces"] == old.number and corrected.total_hours == 7
    assert second.revoked[0] == {"number": old.number, "exchange": "EX-01", "reason": revoked.revoked_reason, "replaced_by": corrected.number}
    assert ledger(network, "zonneke")["exchange:S-01-D1"]["leerbewijs_number"] == corrected.number

    checked = verify(network, old.number)
    assert checked.returncode == 1 and f"revoked, replaced by {corrected.number}" in checked.stdout, checked.stdout
    assert verify(network, corrected.number).returncode == 0

    third = run_sync(network.config(), MOMENT)
    assert nothing_written(third) and sum(third.invites.values()) == 0


def test_an_exchange_cancelled_after_its_days_takes_them_back_everywhere(network):
    run_sync(network.config(), MOMENT)
    assert {"exchange:S-02-D1", "exchange:S-02-D2"} <= set(ledger(network, "groenkracht"))
    (issued,) = leerbewijzen(network, "EX-02")
    network.edit_csv("cohort/uitwisselingen.csv", "EX-02;LV-02;LP-ZON-BABY;Z008;bevestigd", "EX-02;LV-02;LP-ZON-BABY;Z008;geannuleerd",
                     encoding="utf-8")
    summary = run_sync(network.config(), MOMENT)
    assert summary.training_records["retracted"] == 2, summary.errors
    voided = {k: (v["status"], v["reason"]) for k, v in ledger(network, "groenkracht").items() if k.startswith("exchange:S-02")}
    assert voided == {"exchange:S-02-D1": ("voided", "de uitwisseling werd geannuleerd"),
                      "exchange:S-02-D2": ("voided", "de uitwisseling werd geannuleerd")}
    (revoked,) = leerbewijzen(network, "EX-02")  # revoked, and no corrected one: nothing of it happened as training
    assert revoked.number == issued.number and revoked.revoked_at is not None and revoked.replaced_by is None
    assert verify(network, issued.number).returncode == 1
    assert nothing_written(run_sync(network.config(), MOMENT))


def test_a_session_moved_ahead_after_it_was_written_is_retracted_and_written_again_once_past(sqlite_network):
    network = sqlite_network
    run_sync(network.config(), MOMENT)
    network.edit_csv("cohort/sessies.csv", "S-02-D2;EX-02;uitwisselingsdag;30/03/2026;09:00;16:30;ter plaatse;;7;",
                     "S-02-D2;EX-02;uitwisselingsdag;03/12/2026;09:00;16:30;ter plaatse;;7;")
    moved = run_sync(network.config(), MOMENT)
    assert moved.training_records["retracted"] == 1
    assert ledger(network, "groenkracht")["exchange:S-02-D2"]["reason"] == "de sessie werd verplaatst naar 03/12/2026"
    (revoked,) = leerbewijzen(network, "EX-02")  # its days no longer hold; the corrected one waits for the moved day
    assert revoked.revoked_at is not None
    later = run_sync(network.config(), datetime(2026, 12, 10, tzinfo=ZoneInfo("Europe/Brussels")))
    row = ledger(network, "groenkracht")["exchange:S-02-D2"]
    assert (row["status"], row["date"]) == ("recorded", "2026-12-03") and later.training_records["written"] >= 1
    revoked, corrected = leerbewijzen(network, "EX-02")
    assert corrected.replaces == revoked.number and [d["date"] for d in corrected.content["days"]] == ["2026-03-27", "2026-12-03"]


def test_a_dry_run_lists_the_retraction_it_would_make(sqlite_network):
    network = sqlite_network
    network.edit_csv("cohort/sessies.csv", ABSENT, NOT_SAID)
    run_sync(network.config(), MOMENT)
    engine, db = store(network)
    with db:
        ref = db.get(ExternalRef, ("zonneke/ledger_files", "training_record", "exchange:S-01-D2"))
        assert ref is not None
    engine.dispose()
    network.edit_csv("cohort/sessies.csv", NOT_SAID, ABSENT)
    planned = run_sync(network.config(), MOMENT, dry_run=True)
    assert {"target": "zonneke/ledger_files", "object": "training_record", "id": "exchange:S-01-D2", "action": "retract"} in \
        [{k: p[k] for k in ("target", "object", "id", "action")} for p in planned.planned]


# -- the organisation's policy -----------------------------------------------------------

def test_only_confirmed_days_under_the_confirmed_policy(sqlite_network):
    network = sqlite_network
    network.replace('id = "groenkracht"', 'id = "groenkracht"\nwriteback_days = "confirmed"')
    summary = run_sync(network.config(), MOMENT)
    reasons = {day["session"]: day["reason"] for day in summary.not_counted}
    assert reasons["S-02-D1"] == reasons["S-02-D2"] == "not confirmed as attended"
    assert leerbewijzen(network, "EX-02") == [] and "S-02-D1" not in exchange_records(network)
    network.edit_csv("cohort/sessies.csv", "S-02-D1;EX-02;uitwisselingsdag;27/03/2026;09:00;16:30;ter plaatse;;7;",
                     "S-02-D1;EX-02;uitwisselingsdag;27/03/2026;09:00;16:30;ter plaatse;;7;Aanwezig")
    confirmed = run_sync(network.config(), MOMENT)
    assert "S-02-D1" in exchange_records(network) and "S-02-D2" not in exchange_records(network)
    (issued,) = leerbewijzen(network, "EX-02")
    assert [d["session"] for d in issued.content["days"]] == ["S-02-D1"] and confirmed.leerbewijzen["issued"] == 1


def test_the_attendance_column_takes_french_and_english_headers_and_values(sqlite_network):
    network = sqlite_network
    path = network.data / "cohort" / "sessies.csv"
    text = path.read_text(encoding="utf-8").replace(";Aanwezigheid\n", ";Présence\n").replace(";afwezig\n", ";absent\n")
    path.write_text(text, encoding="utf-8")
    summary = run_sync(network.config(), MOMENT)
    assert {d["session"]: d["reason"] for d in summary.not_counted}["S-01-D2"] == "marked absent"
    assert not [p for p in summary.errors if "Aanwezigheid" in p.message or "Présence" in p.message]


def test_a_sheet_without_the_attendance_column_is_no_warning(sqlite_network):
    network = sqlite_network
    path = network.data / "cohort" / "sessies.csv"
    lines = [line.rsplit(";", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok" and not [p for p in summary.errors if "sessions.attendance" in p.message], summary.errors
    assert "S-01-D2" in exchange_records(network)  # nothing said: written under the default policy


def test_the_template_has_the_attendance_column(tmp_path):
    from openpyxl import load_workbook

    from connector.reports.template import write_template

    workbook = load_workbook(write_template(tmp_path / "sjabloon.xlsx"))
    assert "Aanwezigheid" in [cell.value for cell in workbook["Sessies"][1]]


def test_the_outbox_holds_each_retraction_once(sqlite_network):
    network = sqlite_network
    network.edit_csv("cohort/sessies.csv", ABSENT, NOT_SAID)
    run_sync(network.config(), MOMENT)
    network.edit_csv("cohort/sessies.csv", NOT_SAID, ABSENT)
    run_sync(network.config(), MOMENT)
    run_sync(network.config(), MOMENT)
    engine, db = store(network)
    with db:
        retractions = rows(db, OutboxItem, OutboxItem.action == "retract")
    engine.dispose()
    # the switcher's day; the coach's (petits-pas has coach_learning) once too
    assert sorted((r.target, ":".join(r.object_id.split(":")[:2]), r.status) for r in retractions) == [
        ("petits-pas/ledger_files", "coaching:S-01-D2", "done"), ("zonneke/ledger_files", "exchange:S-01-D2", "done")]


@pytest.mark.parametrize("policy", ["not_declined", "planned"])
def test_the_policy_is_checked_in_the_configuration(sqlite_network, policy):
    network = sqlite_network
    network.replace('id = "groenkracht"', f'id = "groenkracht"\nwriteback_days = "{policy}"')
    assert network.config().organisation("groenkracht").writeback_days == policy
    network.replace(f'id = "groenkracht"\nwriteback_days = "{policy}"', 'id = "groenkracht"\nwriteback_days = "sometimes"')
    from connector.core.errors import ConfigError

    with pytest.raises(ConfigError):
        network.config()


# -- the report: planned hours nobody confirmed, apart; manual retractions kept -------------

def test_the_report_shows_unconfirmed_exchange_hours_apart(sqlite_network, tmp_path):
    from connector.reports.training import build_report, write_report

    network = sqlite_network
    network.edit_csv("cohort/sessies.csv", "S-02-D1;EX-02;uitwisselingsdag;27/03/2026;09:00;16:30;ter plaatse;;7;",
                     "S-02-D1;EX-02;uitwisselingsdag;27/03/2026;09:00;16:30;ter plaatse;;7;aanwezig")
    run_sync(network.config(), MOMENT)
    engine, db = store(network)
    with db:
        report = build_report(db, 2026)
    engine.dispose()
    (line,) = [e for e in report.employees if e.employee_number == "G104"]  # EX-02's switcher
    assert (line.exchange_hours, line.unconfirmed_exchange_hours) == (14, 7)  # both count by default; one was confirmed
    (organisation,) = [o for o in report.organisations if o.organisation == "groenkracht"]
    assert organisation.unconfirmed_exchange_hours >= 7
    assert report.manual == []
    paths = write_report(report, tmp_path, "csv")
    assert "unconfirmed_exchange_hours" in paths[0].read_text(encoding="utf-8-sig").splitlines()[0]


def test_status_shows_a_retracted_day(sqlite_network):
    from connector.engine.status import build_status

    network = sqlite_network
    network.edit_csv("cohort/sessies.csv", ABSENT, NOT_SAID)
    run_sync(network.config(), MOMENT)
    network.edit_csv("cohort/sessies.csv", NOT_SAID, ABSENT)
    run_sync(network.config(), MOMENT)
    engine, db = store(network)
    with db:
        document = build_status(db, network.config(), now=MOMENT)
    engine.dispose()
    sessions = {s["code"]: s["state"] for o in document["organisations"] for e in o["exchanges"] for s in e["sessions"]}
    assert sessions["S-01-D2"] == "retracted" and sessions["S-01-D1"] == "written back"


def test_keys_publish_carries_the_replacement_so_verify_against_the_website_names_it(sqlite_network, tmp_path):
    """The issuer's website (the folder `keys publish` writes, served on loopback) holds the
    status list AND replacements.json beside it, so a verifier that only has the website, by
    file or by fetching the credential's statusListCredential URL, reads "revoked, replaced by"."""
    import functools
    import http.server
    import threading

    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        sqlite_network.replace('# status_list_url = "https://lerenswitchen.be/leerbewijs/status/1"',
                               f'status_list_url = "{base}/leerbewijs/status/1"')
        sqlite_network.edit_csv("cohort/sessies.csv", ABSENT, NOT_SAID)
        run_sync(sqlite_network.config(), MOMENT)
        sqlite_network.edit_csv("cohort/sessies.csv", NOT_SAID, ABSENT)
        assert run_sync(sqlite_network.config(), MOMENT).revoked
        old, corrected = leerbewijzen(sqlite_network, "EX-01")

        command = [sys.executable, "-m", "connector.cli"]
        published = subprocess.run([*command, "keys", "publish", "--config", str(sqlite_network.config_path), "--to", str(site)],
                                   capture_output=True, text=True, timeout=120, cwd=REPO)
        assert published.returncode == 0, published.stderr
        assert f"{base}/leerbewijs/status/replacements.json" in published.stdout
        pdf = str(next(sqlite_network.out.rglob(f"{old.number}.pdf")))
        keyring = str(next(site.rglob("keyring.json")))
        alone = tmp_path / "alone" / "keyring.json"  # the keyring without the list beside it: only fetching finds the list
        alone.parent.mkdir()
        alone.write_bytes(next(site.rglob("keyring.json")).read_bytes())
        for ring, how in ((keyring, ["--status-list", str(site / "leerbewijs" / "status" / "1")]), (str(alone), ["--fetch-status"]),
                          (keyring, [])):  # []: the copies beside keyring.json
            checked = subprocess.run([*command, "leerbewijs", "verify", pdf, "--keyring", ring, *how],
                                     capture_output=True, text=True, timeout=120, cwd=REPO)
            assert checked.returncode == 1 and f"revoked, replaced by {corrected.number}" in checked.stdout, (how, checked.stdout)
        edc_file = str(next(sqlite_network.out.rglob(f"{old.number}.edc.jsonld")))  # the EDC beside it says the same
        checked = subprocess.run([*command, "leerbewijs", "verify", edc_file, "--keyring", str(alone), "--fetch-status"],
                                 capture_output=True, text=True, timeout=120, cwd=REPO)
        assert checked.returncode == 1 and f"revoked, replaced by {corrected.number}" in checked.stdout, checked.stdout
    finally:
        server.shutdown()
        server.server_close()


def status_of_exchange(network, code: str, now: datetime = MOMENT) -> dict:
    from connector.engine.status import build_status

    engine, db = store(network)
    with db:
        document = build_status(db, network.config(), now=now)
    engine.dispose()
    (exchange,) = [e for o in document["organisations"] for e in o["exchanges"] if e["code"] == code]
    return exchange


def test_status_never_shows_a_revoked_leerbewijs_as_the_current_one(sqlite_network):
    """A session moved ahead revokes EX-02's leerbewijs; until the moved day has happened there
    is no corrected one, and status says so instead of listing the revoked number as current."""
    network = sqlite_network
    run_sync(network.config(), MOMENT)
    (issued,) = leerbewijzen(network, "EX-02")
    assert status_of_exchange(network, "EX-02")["leerbewijs"] == issued.number
    network.edit_csv("cohort/sessies.csv", "S-02-D2;EX-02;uitwisselingsdag;30/03/2026;09:00;16:30;ter plaatse;;7;",
                     "S-02-D2;EX-02;uitwisselingsdag;03/12/2026;09:00;16:30;ter plaatse;;7;")
    run_sync(network.config(), MOMENT)
    waiting = status_of_exchange(network, "EX-02")
    assert waiting["leerbewijs"] is None and waiting["state"] == "leerbewijs revoked"
    assert [(r["number"], r["replaced_by"]) for r in waiting["revoked"]] == [(issued.number, None)]
    later = datetime(2026, 12, 10, tzinfo=ZoneInfo("Europe/Brussels"))
    run_sync(network.config(), later)
    _, corrected = leerbewijzen(network, "EX-02")
    replaced = status_of_exchange(network, "EX-02", later)
    assert replaced["leerbewijs"] == corrected.number and replaced["state"] == "leerbewijs"
    assert [(r["number"], r["replaced_by"]) for r in replaced["revoked"]] == [(issued.number, corrected.number)]
    shown = subprocess.run([sys.executable, "-m", "connector.cli", "status", "--config", str(network.config_path)],
                           capture_output=True, text=True, timeout=120, cwd=REPO)
    assert f"{corrected.number}, {issued.number} revoked, replaced by {corrected.number}" in shown.stdout, shown.stdout


def test_every_session_of_a_cancelled_exchange_shows_cancelled(sqlite_network):
    """EX-10 of the example was cancelled after its first day: its evaluation is not 'planned'."""
    run_sync(sqlite_network.config(), MOMENT)
    exchange = status_of_exchange(sqlite_network, "EX-10")
    assert exchange["state"] == "cancelled" and exchange["sessions"]
    assert {s["state"] for s in exchange["sessions"]} == {"cancelled"}, exchange["sessions"]


def test_a_dry_run_says_the_leerbewijs_would_be_revoked_and_revokes_nothing(sqlite_network):
    network = sqlite_network
    network.edit_csv("cohort/sessies.csv", ABSENT, NOT_SAID)
    run_sync(network.config(), MOMENT)
    network.edit_csv("cohort/sessies.csv", NOT_SAID, ABSENT)
    (issued,) = leerbewijzen(network, "EX-01")
    shown = subprocess.run([sys.executable, "-m", "connector.cli", "sync", "--config", str(network.config_path), "--dry-run",
                            "--as-of", MOMENT.date().isoformat()], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert f"leerbewijs {issued.number} revoked (would be) (" in shown.stdout, shown.stdout
    assert "publish the keys folder again" not in shown.stdout
    (still,) = leerbewijzen(network, "EX-01")
    assert still.revoked_at is None


def test_a_sync_dated_before_the_last_one_is_refused_and_revokes_nothing(sqlite_network):
    """Going back in time would take days that happened for days still ahead: retract them and
    revoke their leerbewijzen. The sync refuses, before reading anything, and says why."""
    from connector.core.errors import ConfigError

    network = sqlite_network
    run_sync(network.config(), MOMENT)
    issued = leerbewijzen(network, "EX-02")
    with pytest.raises(ConfigError, match="lies before the last sync"):
        run_sync(network.config(), datetime(2025, 6, 1, tzinfo=ZoneInfo("Europe/Brussels")))
    with pytest.raises(ConfigError, match="lies before the last sync"):
        run_sync(network.config(), datetime(2025, 6, 1, tzinfo=ZoneInfo("Europe/Brussels")), dry_run=True)
    assert [(lb.number, lb.revoked_at) for lb in leerbewijzen(network, "EX-02")] == [(lb.number, None) for lb in issued]
    shown = subprocess.run([sys.executable, "-m", "connector.cli", "sync", "--config", str(network.config_path),
                            "--as-of", "2025-06-01"], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert shown.returncode == 2 and "lies before the last sync" in shown.stderr and "Traceback" not in shown.stderr
    assert nothing_written(run_sync(network.config(), MOMENT))  # the same moment again is fine


def test_a_voided_rows_reason_is_in_the_organisations_language():
    from connector.sinks.ledger_files import reason_text

    assert reason_text("the exchange was cancelled", "fr") == "l'échange a été annulé"
    assert reason_text("the session was moved to 2026-12-03", "fr") == "la session a été déplacée au 03/12/2026"
    assert reason_text("marked absent", "en") == "marked absent"
    assert reason_text("a reason nobody foresaw", "nl") == "a reason nobody foresaw"  # shown as it is, never lost


def test_the_report_counts_days_as_past_as_of_the_date_it_is_given(sqlite_network, tmp_path):
    """`report training --as-of`: EX-02's unconfirmed day (30/03/2026) is not yet past on
    30/03 at midnight and is past on 31/03, whatever the clock says when the report runs."""
    from connector.cli import main

    network = sqlite_network
    network.edit_csv("cohort/sessies.csv", "S-02-D1;EX-02;uitwisselingsdag;27/03/2026;09:00;16:30;ter plaatse;;7;",
                     "S-02-D1;EX-02;uitwisselingsdag;27/03/2026;09:00;16:30;ter plaatse;;7;aanwezig")
    run_sync(network.config(), MOMENT)
    unconfirmed = {}
    for day in ("2026-03-30", "2026-03-31"):
        folder = tmp_path / day
        assert main(["report", "training", "--config", str(network.config_path), "--year", "2026", "--format", "csv",
                     "--output", str(folder), "--as-of", day]) == 0
        employees = next(path for path in folder.iterdir() if "employee" in path.name or "medewerker" in path.name)
        rows = list(csv.DictReader(io.StringIO(employees.read_text(encoding="utf-8-sig")), delimiter=";"))
        (line,) = [row for row in rows if row["employee_number"] == "G104"]
        unconfirmed[day] = line["unconfirmed_exchange_hours"]
    assert unconfirmed == {"2026-03-30": "0", "2026-03-31": "7"}
