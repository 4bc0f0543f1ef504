"""Turning a wall-clock date and time in a time zone into one instant, for the two hours a
year where that is not obvious.

In Europe/Brussels the last Sunday of March has no 02:00-03:00 (clocks jump to 03:00), and
the last Sunday of October has it twice (summer time, then winter time). The rule:
- a time that does not exist is an error (`NonexistentLocalTime`): silently moving it
  would invite people at a time nobody typed;
- a time that exists twice is taken as its first occurrence (summer time), and the caller
  is told (`Instant.ambiguous`) so it can warn, naming what it was about.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo


class NonexistentLocalTime(ValueError):
    """A wall-clock time the zone skips (the spring-forward hour)."""


@dataclass(frozen=True)
class Instant:
    moment: datetime  # aware, in the zone it was read in
    ambiguous: bool = False  # the wall time exists twice; the first occurrence was taken


def local_instant(wall: datetime, zone: ZoneInfo) -> Instant:
    """`wall` (naive, or already aware: then returned as it is) as an instant in `zone`.

    Raises NonexistentLocalTime for a time the zone skips."""
    if wall.tzinfo is not None:
        return Instant(wall)
    first = wall.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        raise NonexistentLocalTime(f"{wall:%d/%m/%Y %H:%M} does not exist in {zone.key} (the clocks jump forward that night)")
    second = wall.replace(tzinfo=zone, fold=1)
    return Instant(first, ambiguous=first.utcoffset() != second.utcoffset())
