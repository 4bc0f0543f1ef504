"""Reading sources ahead, in threads, while the run stores what came before.

Pulling is mostly waiting: on an API's answer, on a file. A sync of a network of employers
reads their sources (independent systems) `[sync] concurrency` at a time, each in a thread
that puts chunks of records into a small queue; the run takes them out in the configured
order and stores them as it always has, in its one transaction, one source at a time. So the
store, the counts and the problems come out as they would from reading one source after the
other; only the waiting overlaps. Threads, not processes: the work they do is I/O and JSON.

Sources are started in the order given and each holds its thread until the run is done with
it (has taken its last chunk, or given up on it: `Prefetched.done`), so the source the run
waits for has always been started (the ones before it are done): no deadlock, and at most
`concurrency` x AHEAD chunks wait in memory. (A thread that let go as soon as it had put its
last chunk let a network of small tenants be read far ahead of the run: every tenant's records
in memory at once.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from queue import Empty, Full, Queue
from typing import Any

from connector.plumbing.iterate import batched
from connector.sources import Pull, RemoteRecord

AHEAD = 4  # chunks a source may read ahead of the run
POLL = 0.2  # seconds between two looks at whether the run still wants the chunks

Chunks = Iterator[tuple[RemoteRecord, ...]]


class Prefetched:
    """One entity of one source, being read by a thread: `open()` gives its Pull (as
    `Source.pull` returned it: `complete`, `cursor` and `warnings` are final once its
    records are all taken) and its records in chunks. What the source raised is raised
    by `open()` or by the chunks, where reading it in the run's own thread would have."""

    def __init__(self, queue: Queue[tuple[str, Any]], cancelled: threading.Event) -> None:
        self._queue, self._cancelled = queue, cancelled
        self.finished = threading.Event()

    def done(self) -> None:
        """The run is done with this pull (all taken, or given up): its thread may read the next."""
        self.finished.set()

    def _next(self) -> tuple[str, Any]:
        while True:
            try:
                kind, value = self._queue.get(timeout=POLL)
            except Empty:
                if self._cancelled.is_set():
                    raise RuntimeError("the run stopped reading ahead") from None
                continue
            if kind in ("end", "error"):
                self.finished.set()  # all taken
            if kind == "error":
                raise value
            return kind, value

    def open(self) -> tuple[Pull, Chunks]:
        _, result = self._next()
        return result, self._chunks()

    def _chunks(self) -> Chunks:
        while True:
            kind, value = self._next()
            if kind == "end":
                return
            yield value


class Prefetcher:
    """At most `concurrency` sources read at once, started in the order they are added."""

    def __init__(self, concurrency: int, chunk: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pull")
        self._cancelled = threading.Event()
        self._chunk = chunk

    def add(self, start: Callable[[], Pull]) -> Prefetched:
        queue: Queue[tuple[str, Any]] = Queue(maxsize=AHEAD)
        prefetched = Prefetched(queue, self._cancelled)
        self._executor.submit(self._read, start, queue, prefetched.finished)
        return prefetched

    def _read(self, start: Callable[[], Pull], queue: Queue[tuple[str, Any]], finished: threading.Event) -> None:
        try:
            result = start()
            records = result.records  # taken before the Pull is handed over
            if not self._put(queue, ("pull", result), finished):
                return
            for chunk in batched(records, self._chunk):
                if not self._put(queue, ("records", chunk), finished):
                    return
            self._put(queue, ("end", None), finished)
        except BaseException as error:  # noqa: BLE001 - handed to the run's thread, which raises it
            self._put(queue, ("error", error), finished)
        while not finished.wait(POLL):  # the thread is the next source's only when the run is done with this one
            if self._cancelled.is_set():
                return

    def _put(self, queue: Queue[tuple[str, Any]], item: tuple[str, Any], finished: threading.Event) -> bool:
        while not self._cancelled.is_set() and not finished.is_set():
            try:
                queue.put(item, timeout=POLL)
                return True
            except Full:
                continue
        return False

    def close(self) -> None:
        """Stop reading ahead and wait for the threads: one still reading ends after its
        current request, so nothing reads on behalf of a run that has moved on."""
        self._cancelled.set()
        self._executor.shutdown(wait=True, cancel_futures=True)
