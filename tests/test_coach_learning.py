"""The coach's learning counts too (issue 15, item 5): an organisation with `coach_learning`
gives each of its coaches, per exchange that happened, a leerbewijs of their own and an informal
training record per exchange day that counts, through the same outbox and targets as the
switcher's. The example network has it on for petits-pas, whose coach Jérôme Lefèvre (P04)
hosted EX-01: day 1 attended, day 2 marked absent."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from connector.engine.sync import run_sync
from connector.leerbewijs.credential import learner_subject
from connector.store.tables import Leerbewijs, Person, TrainingRecord
from tests.conftest import REPO, shared_between_stores
from tests.test_attendance import ABSENT, NOT_SAID, ledger, nothing_written, rows, store, verify
from tests.test_crash import networks  # noqa: F401 (fresh networks on SQLite and PostgreSQL, one store each)

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
EX03_BOTH = "EX-03;LV-03;LP-GK-GROEN;G110, G106;bevestigd"
GK_ON = ('id = "groenkracht"', 'id = "groenkracht"\ncoach_learning = true')


def person_id(network, organisation: str, number: str) -> str:
    engine, db = store(network)
    with db:
        found = db.scalar(select(Person.id).where(Person.organisation_id == organisation, Person.employee_number == number))
    engine.dispose()
    assert found is not None
    return found


def coach_records(network) -> set[tuple[str, str]]:
    """(coach's employee number, session) of every coach training record in the store."""
    engine, db = store(network)
    with db:
        found = {(r.person.employee_number, r.session_code) for r in rows(db, TrainingRecord, TrainingRecord.origin == "coaching")}
    engine.dispose()
    return found


def held(network, exchange: str) -> list[Leerbewijs]:
    engine, db = store(network)
    with db:
        found = rows(db, Leerbewijs, Leerbewijs.exchange_code == exchange)
        db.expunge_all()
    engine.dispose()
    return sorted(found, key=lambda row: row.number)


def test_the_coach_gets_a_leerbewijs_and_a_record_for_the_day_that_happened_only(network):
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    jerome = person_id(network, "petits-pas", "P04")
    assert coach_records(network) == {("P04", "S-01-D1")}  # day 2 was marked absent; zonneke's coaches: not switched on
    row = ledger(network, "petits-pas")[f"coaching:S-01-D1:{jerome}"]
    assert (row["first_name"], row["hours"], row["type"], row["leerbewijs_number"], row["status"]) == \
        ("Jérôme", "7", "accompagnement comme coach", "LB-2026-C0001", "recorded")
    switchers, coaches = ([r for r in held(network, "EX-01") if r.role == role] for role in ("switcher", "coach"))
    assert [r.number for r in switchers] == ["LB-2026-0001"]  # the switchers' series is as it was
    (own,) = coaches
    assert (own.number, own.holder_id, own.total_hours) == ("LB-2026-C0001", jerome, 7)
    assert [d["session"] for d in own.content["days"]] == ["S-01-D1"] and own.content["holder"]["name"] == "Jérôme Lefèvre"
    assert "switcher" not in own.content  # the coach's proof does not name the switcher
    assert own.content["subject"] == learner_subject(network.config().partner.issuer_url, jerome)
    assert own.content["status"]["index"] != switchers[0].content["status"]["index"]  # revocable on its own
    assert (network.out / "leerbewijzen" / "petits-pas" / "LB-2026-C0001.pdf").exists()
    assert nothing_written(run_sync(network.config(), MOMENT))


def test_the_coachs_leerbewijs_is_signed_verifies_and_has_its_own_check_code(sqlite_network):
    from pypdf import PdfReader

    network = sqlite_network
    run_sync(network.config(), MOMENT)
    coach_pdf = network.out / "leerbewijzen" / "petits-pas" / "LB-2026-C0001.pdf"
    switcher_pdf = network.out / "leerbewijzen" / "zonneke" / "LB-2026-0001.pdf"
    signature = subprocess.run(["pdfsig", str(coach_pdf)], capture_output=True, text=True, timeout=60).stdout
    assert "Signature is Valid." in signature  # poppler, independent of pyHanko
    checked = verify(network, "LB-2026-C0001")
    assert checked.returncode == 0 and "not revoked" in checked.stdout, checked.stdout
    reading = subprocess.run(["pdftotext", str(coach_pdf), "-"], capture_output=True, text=True, timeout=60).stdout.replace("\u00a0", " ")
    words = " ".join(reading.split())
    assert "Jérôme Lefèvre" in words and "a accueilli comme coach un switcher" in words and "Fatima" not in words
    other = subprocess.run(["pdftotext", str(switcher_pdf), "-"], capture_output=True, text=True, timeout=60).stdout.replace("\u00a0", " ")

    def code(text: str, label: str) -> str:
        return next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(label))
    assert code(reading, "Code de contrôle") != code(other, "Controlecode")
    credential = json.loads(PdfReader(coach_pdf).attachments["credential.json"][0])
    assert credential["credentialSubject"]["narrative"].startswith("A accueilli un switcher")
    token = PdfReader(coach_pdf).attachments["credential.jwt"][0].decode()
    claims = json.loads(__import__("base64").urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["sub"] == credential["credentialSubject"]["id"] == learner_subject(
        network.config().partner.issuer_url, person_id(network, "petits-pas", "P04"))


def test_a_day_marked_absent_later_is_retracted_for_the_coach_and_their_leerbewijs_replaced(network):
    network.edit_csv("cohort/sessies.csv", ABSENT, NOT_SAID)
    run_sync(network.config(), MOMENT)
    assert coach_records(network) == {("P04", "S-01-D1"), ("P04", "S-01-D2")}
    jerome = person_id(network, "petits-pas", "P04")
    (first,) = [r for r in held(network, "EX-01") if r.role == "coach"]
    assert first.total_hours == 14

    network.edit_csv("cohort/sessies.csv", NOT_SAID, ABSENT)
    second = run_sync(network.config(), MOMENT)
    assert second.status == "ok", second.errors
    assert second.training_records["retracted"] == 2  # the switcher's day in zonneke's ledger, the coach's in petits-pas'
    voided = ledger(network, "petits-pas")[f"coaching:S-01-D2:{jerome}"]
    assert (voided["status"], voided["reason"]) == ("voided", "absence signalée")  # in petits-pas' language
    assert coach_records(network) == {("P04", "S-01-D1")}
    revoked, corrected = [r for r in held(network, "EX-01") if r.role == "coach"]
    assert revoked.number == first.number and revoked.revoked_at is not None and revoked.replaced_by == corrected.number
    assert (corrected.number, corrected.replaces, corrected.total_hours, corrected.holder_id) == ("LB-2026-C0002", first.number, 7, jerome)
    assert ledger(network, "petits-pas")[f"coaching:S-01-D1:{jerome}"]["leerbewijs_number"] == corrected.number
    assert verify(network, first.number).returncode == 1
    assert nothing_written(run_sync(network.config(), MOMENT))


def test_a_cancelled_exchange_counts_for_no_coach_and_a_cancellation_takes_back_what_was_given(sqlite_network):
    network = sqlite_network
    network.replace(*GK_ON)
    run_sync(network.config(), MOMENT)
    # EX-03's two coaches, each for both days; EX-10 (coach G102) was cancelled after its first day: nothing
    assert coach_records(network) == {("P04", "S-01-D1"), ("G110", "S-03-D1"), ("G110", "S-03-D2"),
                                      ("G106", "S-03-D1"), ("G106", "S-03-D2")}
    assert [r.role for r in held(network, "EX-10")] == []
    assert sorted(r.number for r in held(network, "EX-03") if r.role == "coach") == ["LB-2026-C0002", "LB-2026-C0003"]

    network.edit_csv("cohort/uitwisselingen.csv", EX03_BOTH, EX03_BOTH.replace("bevestigd", "geannuleerd"), encoding="utf-8")
    cancelled = run_sync(network.config(), MOMENT)
    assert cancelled.status == "ok", cancelled.errors
    reasons = {k: (v["status"], v["reason"]) for k, v in ledger(network, "groenkracht").items() if k.startswith("coaching:S-03")}
    assert len(reasons) == 4 and set(reasons.values()) == {("voided", "de uitwisseling werd geannuleerd")}
    assert coach_records(network) == {("P04", "S-01-D1")}
    coach_ones = [r for r in held(network, "EX-03") if r.role == "coach"]
    assert len(coach_ones) == 2 and all(r.revoked_at is not None and r.replaced_by is None for r in coach_ones)
    assert nothing_written(run_sync(network.config(), MOMENT))


def test_a_coach_taken_off_the_exchange_has_their_leerbewijs_revoked_and_days_retracted(sqlite_network):
    network = sqlite_network
    network.replace(*GK_ON)
    run_sync(network.config(), MOMENT)
    network.edit_csv("cohort/uitwisselingen.csv", EX03_BOTH, EX03_BOTH.replace("G110, G106", "G110"), encoding="utf-8")
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    g106 = person_id(network, "groenkracht", "G106")
    assert [(k, v["status"]) for k, v in ledger(network, "groenkracht").items() if k.endswith(g106)] == \
        [(f"coaching:S-03-D1:{g106}", "voided"), (f"coaching:S-03-D2:{g106}", "voided")]
    assert ("G106", "S-03-D1") not in coach_records(network) and ("G110", "S-03-D1") in coach_records(network)
    (theirs,) = [r for r in held(network, "EX-03") if r.holder_id == g106]
    assert theirs.revoked_at is not None and "no longer a coach" in (theirs.revoked_reason or "")
    assert nothing_written(run_sync(network.config(), MOMENT))


def test_a_coachs_leerbewijs_revoked_by_hand_is_not_issued_again(sqlite_network):
    network = sqlite_network
    run_sync(network.config(), MOMENT)
    revoked = subprocess.run([sys.executable, "-m", "connector.cli", "leerbewijs", "revoke", "LB-2026-C0001", "--reason", "issued in error",
                              "--config", str(network.config_path)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert revoked.returncode == 0, revoked.stderr
    again = run_sync(network.config(), MOMENT)
    assert again.leerbewijzen["issued"] == 0 and [r.number for r in held(network, "EX-01") if r.role == "coach"] == ["LB-2026-C0001"]
    assert verify(network, "LB-2026-C0001").returncode == 1 and verify(network, "LB-2026-0001").returncode == 0


def test_an_empty_store_gives_each_coach_the_same_leerbewijs_again(sqlite_network):
    """The witness (issued-values.json) remembers whose each number is: a store lost and synced
    again re-issues the coach's leerbewijs under its number, never a second one."""
    network = sqlite_network
    run_sync(network.config(), MOMENT)
    before = {r.number: (r.role, r.fingerprint) for r in held(network, "EX-01")}
    witness = json.loads((network.root / "keys" / "issued-values.json").read_text(encoding="utf-8"))
    assert witness["leerbewijzen"]["LB-2026-C0001"]["holder"] == person_id(network, "petits-pas", "P04")
    (network.root / "state" / "connector.db").unlink()
    run_sync(network.config(), MOMENT)
    assert {r.number: (r.role, r.fingerprint) for r in held(network, "EX-01")} == before


def test_erasing_the_coach_erases_their_leerbewijs_and_leaves_the_switchers(sqlite_network):
    network = sqlite_network
    run_sync(network.config(), MOMENT)
    result = subprocess.run([sys.executable, "-m", "connector.cli", "erase", "--config", str(network.config_path), "--person",
                             "jerome.lefevre@lespetitspas.be", "--json"], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    own, switchers = ([r for r in held(network, "EX-01") if (r.role == "coach") is coach] for coach in (True, False))
    assert own[0].content == {"erased": True, "status": own[0].content["status"]} and own[0].fingerprint
    assert switchers[0].content.get("switcher", {}).get("name") == "Fatima El Amrani"  # the switcher's proof is hers
    external = json.dumps(json.loads(result.stdout))
    assert "LB-2026-C0001" in external  # the issued copies outside the store are listed
    assert nothing_written(run_sync(network.config(), MOMENT))
    assert [r.content.get("erased") for r in held(network, "EX-01") if r.role == "coach"] == [True]  # nothing issued again


@pytest.mark.parametrize("flag", ["true", "1"])
def test_coach_learning_is_a_per_organisation_switch_checked_in_the_configuration(sqlite_network, flag):
    from connector.core.errors import ConfigError

    network = sqlite_network
    assert network.config().organisation("petits-pas").coach_learning is True
    assert network.config().organisation("zonneke").coach_learning is False
    network.replace('id = "zonneke"', f'id = "zonneke"\ncoach_learning = "{flag}x"')
    with pytest.raises(ConfigError):
        network.config()


# -- through an HR system, and a crash in the middle --------------------------------------------

EVELIEN = "105"  # B05, coach of EX-05 and EX-06 at Brouwers & Peeters, in the BambooHR stand-in
LATER = "2028-07-01"  # EX-05's day (2027-11-16) and EX-06's two (June 2028) are behind us


@pytest.mark.slow
def test_a_coachs_days_and_leerbewijzen_go_to_bamboohr_once_even_when_a_sync_dies_in_the_middle(networks, monkeypatch):
    """Brouwers & Peeters in BambooHR with coach_learning: Evelien's three coached days become
    three training records and her two leerbewijzen two PDFs with their EDC, in her own file. A
    sync killed right after a BambooHR write (the first, and one late in the run) and run
    again leaves each exactly once; a further run writes nothing."""
    from connector.plumbing.killpoint import VARIABLE
    from tests.fakes.bamboohr_server import API_KEY
    from tests.test_bamboohr import TRAINING_TYPE, brouwers_peeters_in_bamboohr, use_bamboohr
    from tests.test_crash import KILLED, cli

    monkeypatch.setenv("ST_TEST_BAMBOOHR_KEY", API_KEY)
    fakes = []

    def sync(network, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
        return cli("sync", "--config", str(network.config_path), "--as-of", LATER, "--json", env={VARIABLE: kill_at} if kill_at else None)

    def coached(fake) -> list[str]:
        return sorted(r["completed"] for r in fake.records_of(EVELIEN) if fake.type_of(r) == TRAINING_TYPE)

    try:
        # the first BambooHR write; one among her leerbewijzen and records (11 in all)
        for point in shared_between_stores([1, 9], networks.store):
            network = networks()
            fakes.append(brouwers_peeters_in_bamboohr(network))
            use_bamboohr(network, fakes[-1])
            network.replace('id = "brouwers-peeters"', 'id = "brouwers-peeters"\ncoach_learning = true')
            killed = sync(network, f"write:{point}")
            assert killed.returncode == KILLED, f"write:{point} was not reached: {killed.stderr[-2000:]}"
            finished = sync(network)
            assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
            assert coached(fakes[-1]) == ["2027-11-16", "2028-06-13", "2028-06-14"], point
            names = sorted(f["name"] for f in fakes[-1].files.get(EVELIEN, []))
            assert len(names) == 4 and all("-C" in name for name in names), names  # two leerbewijzen, each with its EDC
            if len(fakes) == 1:  # after the first kill
                again = json.loads(sync(network).stdout)
                assert again["training_records"]["written"] == again["leerbewijzen"]["issued"] == 0, again
    finally:
        for fake in fakes:
            fake.stop()


def test_a_day_the_coach_declined_in_outlook_is_not_their_training_but_stays_the_switchers(sqlite_network):
    """An answer kept on a calendar reference (Graph's attendee response, as engine/sync stores
    it): the coach declined S-01-D1, so that day is retracted from the coach's ledger with the
    reason, the switcher's stays, and the coach's leerbewijs (no day left) is revoked, not replaced."""
    from datetime import UTC

    from connector.sinks import CALENDAR
    from connector.store.tables import ExternalRef

    network = sqlite_network
    run_sync(network.config(), MOMENT)
    jerome = person_id(network, "petits-pas", "P04")
    engine, db = store(network)
    with db:
        db.add(ExternalRef(target="petits-pas/outlook", object_type=CALENDAR, object_id="S-01-D1", remote_id="AAMk-1",
                           applied_hash="0" * 64, details={"responses": {"jerome.lefevre@lespetitspas.be": "declined"}},
                           updated_at=datetime.now(UTC)))
        db.commit()
    engine.dispose()
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    row = ledger(network, "petits-pas")[f"coaching:S-01-D1:{jerome}"]
    assert (row["status"], row["reason"]) == ("voided", "the coach declined in the calendar")
    assert ledger(network, "zonneke")["exchange:S-01-D1"]["status"] == "recorded"
    assert coach_records(network) == set()
    (own,) = [r for r in held(network, "EX-01") if r.role == "coach"]
    assert own.revoked_at is not None and own.replaced_by is None
