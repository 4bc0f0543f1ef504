"""`st-connector run`: a sync every day at the configured local time, until SIGTERM.

The time is read in the partner's time zone (Europe/Brussels), so 02:30 stays 02:30
across daylight-saving changes. Syncs never overlap: within this process runs are
sequential, across processes and machines the store's lock refuses a second one. SIGTERM
or Ctrl-C during a sync stops it after its current step, and during a wait for an API
(Retry-After, backoff) within a second; while idle, at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

import schedule

log = logging.getLogger("connector.run")


class Stopper:
    """Set by SIGTERM/SIGINT; checked by the sync between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._handle)
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping after the current step", signal.Signals(signum).name)
        self._event.set()

    def __call__(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> None:
        self._event.wait(seconds)


def nightly(at: str, timezone: str, job: Callable[[], object], stopper: Stopper, run_now: bool = False) -> None:
    scheduler = schedule.Scheduler()
    scheduled = scheduler.every().day.at(at, timezone).do(job)
    log.info("scheduled a daily sync at %s %s; next run %s", at, timezone, _when(scheduled.next_run))
    if run_now and not stopper():
        job()
    while not stopper():
        scheduler.run_pending()
        if stopper():
            break
        idle = scheduler.idle_seconds
        stopper.wait(max(1.0, min(idle if idle is not None else 60.0, 60.0)))
    log.info("stopped")


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M (machine time)") if moment else "not scheduled"
