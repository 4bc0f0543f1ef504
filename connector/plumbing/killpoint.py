"""A kill switch for crash tests. TEST-ONLY: never set ST_TEST_KILL_AT in production.

`ST_TEST_KILL_AT="<kind>:<n>"` makes the process SIGKILL itself (no cleanup, no finally,
as a power cut or the OOM killer would) when it reaches the n-th point of that kind:

    send    an e-mail message the SMTP server has just accepted
    write   an HTTP write whose answer has just arrived: a request that is not repeatable, or a
            PUT, PATCH or DELETE (an update or a retraction)
    file    an output file (or key file) just put in place
    commit  a delivery just booked (the outbox transaction committed)
    ddl     a schema statement (CREATE, ALTER, DROP) just executed by a migration

Counting is per process, so "send:3" dies right after the third message of that run. Unset
(the normal case), `reached` costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal
import threading

VARIABLE = "ST_TEST_KILL_AT"
_counts: dict[str, int] = {}
_lock = threading.Lock()


def armed(kind: str) -> bool:
    """Whether ST_TEST_KILL_AT names this kind (to skip setting up a costly hook otherwise)."""
    return os.environ.get(VARIABLE, "").partition(":")[0] == kind


def reached(kind: str) -> None:
    """Count one point of `kind`; SIGKILL this process if it is the one ST_TEST_KILL_AT names."""
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    name, _, number = wanted.partition(":")
    if name != kind:
        return
    with _lock:
        _counts[kind] = _counts.get(kind, 0) + 1
        if _counts[kind] == int(number or 1):
            os.kill(os.getpid(), signal.SIGKILL)
