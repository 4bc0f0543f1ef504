"""Sources: the systems we read from. One file per kind, each a subclass of Source.

A source only fetches: it yields remote records as the system gives them (a dict per
record, with where it was found). The engine applies the mapping, validates, stores and
counts, so every adapter gets clear errors, change detection and deletion handling for free.
Sources import `store`, `leerbewijs`, `plumbing` and `core`; never a sink or the engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from connector.core.config import SourceConfig
from connector.core.mapping import EntityMapping
from connector.plumbing.adapters import load_adapter
from connector.plumbing.runtime import Runtime


@dataclass(frozen=True)
class RemoteRecord:
    raw: dict[str, Any]
    location: str  # how a person finds the record again: "medewerkers.csv row 7", "id 4711"
    deleted: bool = False  # incremental sources announce deletions instead of omitting records
    # A record that could not be read at all (an undecodable line): reported, and since
    # nobody knows whose it was, nothing is marked removed after this pull.
    problem: str | None = None


@dataclass
class Pull:
    """What one entity's pull yields. `complete` means every live record is listed, so a
    record that is absent is gone; `cursor` is stored only after the pull succeeds."""

    records: Iterator[RemoteRecord]
    complete: bool = True  # read after the records are consumed: a source may change its mind (a resync)
    cursor: str | None = None
    partial: bool = False  # records hold only changed fields: merge them into the last known version
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # shown in the summary once the records are consumed
    # Columns the mapping reads that this export lacks, each with the message naming it: a
    # column the previous export had is a renamed header, not news, and stops the pull.
    absent_columns: list[tuple[tuple[str, ...], str]] = field(default_factory=list)
    # An incremental pull that can still list every live record's id (cheaply: ids only): called
    # after the records are consumed; a stored record whose id it does not list was deleted at
    # the source (under the same removal guard as a complete pull).
    live_ids: Callable[[], Iterable[str]] | None = None


@dataclass(frozen=True)
class SourceContext:
    base_dir: Path
    as_of: datetime
    runtime: Runtime


# Change tracking asks the server for what changed since the last run; re-reading an hour
# of overlap costs a few unchanged records (which change detection ignores) and absorbs
# clock skew between us and the server.
CHANGE_OVERLAP = timedelta(hours=1)


def since_cursor(as_of: datetime, layout: str = "%Y-%m-%dT%H:%M:%SZ") -> str:
    """The cursor to store for the next incremental run: this run's start, minus the overlap, in UTC."""
    return (as_of - CHANGE_OVERLAP).astimezone(UTC).strftime(layout)


class Source(ABC):
    kind: ClassVar[str]
    # Pulls partial records merged into the last raw version (a delta feed): retention must
    # keep that raw payload (connector/store/retention.py).
    merges_raw: ClassVar[bool] = False

    def __init__(self, config: SourceConfig, context: SourceContext) -> None:
        self.config = config
        self.context = context

    def problems(self) -> list[str]:
        """Configuration problems found without contacting the system."""
        return []

    @abstractmethod
    def pull(self, entity: EntityMapping, cursor: str | None) -> Pull: ...


def source_class(kind: str) -> type[Source]:
    """The adapter for a kind lives in connector/sources/<kind>.py and names itself SOURCE."""
    return load_adapter(__name__, kind, "SOURCE", "source")
