"""The status view and what a sync says it wrote (issue: safe to operate), through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import AS_OF, cli
from tests.test_sync import sync


def _status(network) -> dict:  # type: ignore[no-untyped-def]
    result = cli("status", "--config", str(network.config_path), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _exchange(document: dict, code: str) -> dict:
    return next(e for o in document["organisations"] for e in o["exchanges"] if e["code"] == code)


def test_status_lists_exchanges_sessions_open_writes_and_runs(sqlite_network):
    assert _status(sqlite_network)["runs"] == []  # before the first sync: nothing, and no store made
    assert not (sqlite_network.root / "state" / "connector.db").exists()
    sqlite_network.out.mkdir()
    (sqlite_network.out / "ledgers").write_text("not a folder")  # every ledger write fails and waits for a retry
    synced = cli("sync", "--config", str(sqlite_network.config_path), *AS_OF, "--json")
    assert synced.returncode == 1
    document = _status(sqlite_network)
    zonneke = next(o for o in document["organisations"] if o["id"] == "zonneke")
    assert [e["code"] for e in zonneke["exchanges"]] == ["EX-01", "EX-05", "EX-08"]
    assert _exchange(document, "EX-05")["state"] == "invited"
    assert {s["state"] for s in _exchange(document, "EX-05")["sessions"]} == {"invited"}
    assert _exchange(document, "EX-05")["sessions"][0]["start"] == "2027-10-25 14:00 Europe/Brussels"
    assert _exchange(document, "EX-01")["state"] == "leerbewijs" and _exchange(document, "EX-01")["leerbewijs"] == "LB-2026-0001"
    assert _exchange(document, "EX-08")["state"] == "cancelled"
    assert {s["code"]: s["state"] for s in _exchange(document, "EX-01")["sessions"]}["S-01-INTRO"] == "past"  # before any sync
    waiting = [item for item in document["outbox"] if item["organisation"] == "zonneke"]
    assert waiting and all(item["target"] == "zonneke/ledger_files" and item["status"] == "pending" for item in waiting)
    assert all("NotADirectoryError" in item["last_error"] and item["next_attempt"].endswith("Europe/Brussels") for item in waiting)
    (run,) = document["runs"]
    assert run["status"] == "partial" and run["problems"] == len(json.loads(synced.stdout)["errors"]) > 0
    text = cli("status", "--config", str(sqlite_network.config_path))
    assert "EX-05      invited" in text.stdout and "zonneke/ledger_files training_record" in text.stdout
    assert "Times in Europe/Brussels." in text.stdout


def test_sync_names_what_it_wrote_so_the_coordinator_knows_which_ics_files_to_send(sqlite_network):
    first = json.loads(cli("sync", "--config", str(sqlite_network.config_path), *AS_OF, "--json").stdout)
    invitations = [w for w in first["written"] if w["object"] == "calendar_event" and w["target"] == "calendar-files"]
    assert len(invitations) == 19 and all(Path(w["file"]).is_file() and w["file"].endswith(f"{w['id']}.ics") for w in invitations)
    assert {w["id"] for w in invitations} >= {"S-05-D1", "S-07-D2"}
    ledger_rows = [w for w in first["written"] if w["target"].endswith("/ledger_files") and w["object"] == "training_record"]
    assert ledger_rows and all(w["file"].endswith("training-ledger.csv") and Path(w["file"]).is_file() for w in ledger_rows)
    sqlite_network.edit_csv("cohort/sessies.csv", "S-05-D1;EX-05;uitwisselingsdag;16/11/2027;09:00",
                            "S-05-D1;EX-05;uitwisselingsdag;17/11/2027;09:00")
    second = cli("sync", "--config", str(sqlite_network.config_path), *AS_OF)
    # the moved day, and (issue 25) the note telling Ruth's manager at Zonneke (manager_policy "inform") of the new date
    assert "written: 2 (2 file(s); .ics files to send are listed)" in second.stdout
    assert f"upsert  S-05-D1          {sqlite_network.out / 'invitations' / 'S-05-D1.ics'}" in second.stdout
    assert "upsert  EX-05|" in second.stdout and str(sqlite_network.out / "managers" / "EX-05-") in second.stdout
    assert "(as of 2026-11-22 00:00 Europe/Brussels)" in second.stdout


def test_an_exchange_with_a_blank_status_and_dated_sessions_is_named_and_a_proposal_without_sessions_is_not(network):
    network.edit_csv("cohort/uitwisselingen.csv", "EX-05;LV-05;LP-BP-PLAN;B05;bevestigd", "EX-05;LV-05;LP-BP-PLAN;B05;")
    network.edit_csv("cohort/uitwisselingen.csv", "EX-08;LV-08;LP-GK-ATELIER;G102;geannuleerd",
                     "EX-08;LV-08;LP-GK-ATELIER;G102;geannuleerd\nEX-09;LV-08;LP-GK-GROEN;G110;voorgesteld")
    summary = sync(network)
    (left,) = [p for p in summary.errors if p.entity == "exchanges" and p.field == "status"]
    assert left.warning and left.record == "EX-05" and "still proposed with 3 dated session(s)" in left.message
    assert "2027-10-25 14:00 Europe/Brussels" in left.message and summary.status == "ok"
    assert not any(p.record == "EX-09" for p in summary.errors)
