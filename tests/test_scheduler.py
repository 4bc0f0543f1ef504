"""`st-connector run`: scheduled at Brussels time, syncs, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from connector.engine.scheduler import Stopper, nightly
from tests.conftest import REPO


def test_daily_time_is_read_in_brussels_time(monkeypatch):
    import schedule

    seen = {}
    stopper = Stopper()

    def capture(self, job_func, *args, **kwargs):  # the first job registered: look, then stop
        job = original(self, job_func, *args, **kwargs)
        seen["next"] = job.next_run
        stopper._event.set()
        return job

    original = schedule.Job.do
    monkeypatch.setattr(schedule.Job, "do", capture)
    nightly("02:30", "Europe/Brussels", lambda: None, stopper)
    # schedule keeps next_run in the machine's local time; convert and compare in Brussels.
    local = seen["next"].astimezone(ZoneInfo("Europe/Brussels"))
    assert (local.hour, local.minute) == (2, 30)
    assert 0 < (seen["next"] - datetime.now()).total_seconds() <= 24 * 3600 + 3600


@pytest.mark.slow
def test_run_syncs_then_stops_cleanly_on_sigterm(sqlite_network):
    process = subprocess.Popen([sys.executable, "-m", "connector.cli", "run", "--config", str(sqlite_network.config_path), "--now"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (sqlite_network.out / "invitations").exists():
        time.sleep(0.2)
    time.sleep(1.5)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "scheduled a daily sync at 02:30 Europe/Brussels" in stderr
    assert "sync ok" in stderr or "sync partial" in stderr
    assert "stopped" in stderr
    assert (sqlite_network.out / "leerbewijzen").exists()


def test_stop_request_ends_a_sync_after_its_current_step(sqlite_network):
    from connector.engine.sync import run_sync

    asked = {"n": 0}

    def stop_after_first_source() -> bool:
        asked["n"] += 1
        return asked["n"] > 1

    stopped = run_sync(sqlite_network.config(), should_stop=stop_after_first_source)
    assert stopped.stopped and stopped.status == "partial"
    assert set(stopped.pulled) == {"learning_places", "coaches", "learning_questions", "exchanges", "sessions",
                                   "cohorts", "cohort_phases", "group_moments"}  # the cohort source finished
    assert not sqlite_network.out.exists()
    finished = run_sync(sqlite_network.config())
    assert finished.status == "ok" and finished.pulled["people"]["created"] == 34


@pytest.mark.parametrize("day_before, expected_utc", [
    (datetime(2026, 3, 28, 12, 0), datetime(2026, 3, 29, 1, 30)),   # 02:30 does not exist: the run starts at 03:30 CEST
    (datetime(2026, 10, 24, 12, 0), datetime(2026, 10, 25, 0, 30)),  # 02:30 exists twice: the first one (CEST), once
])
def test_a_nightly_time_in_the_hour_the_clocks_change_runs_once_that_night(monkeypatch, day_before, expected_utc):
    """The schedule library turns the Brussels wall time into the machine's clock (UTC here)."""
    import datetime as stdlib

    import schedule

    class Clock(stdlib.datetime):
        @classmethod
        def now(cls, tz=None):  # the machine's clock, in UTC, at noon the day before the change
            return cls(day_before.year, day_before.month, day_before.day, day_before.hour) if tz is None else \
                cls(day_before.year, day_before.month, day_before.day, day_before.hour, tzinfo=stdlib.UTC).astimezone(tz)

    monkeypatch.setattr(schedule.datetime, "datetime", Clock)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        job = schedule.Scheduler().every().day.at("02:30", "Europe/Brussels").do(lambda: None)
        assert job.next_run == expected_utc
    finally:
        monkeypatch.undo()
        time.tzset()
