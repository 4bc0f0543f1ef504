"""Suggested dates for a proposal: the 20-minute online intro call and the exchange days.

Days are taken, earliest first, from the question's wished period (without one: from
`lead_days` after the run's date, `horizon_days` long), on the weekdays both the place hosts
and the coach is available, never on a Belgian public holiday (the `holidays` package), and
only when switcher and coach are free: free/busy from their calendars where one can be read
(`Calendars`, e.g. Microsoft Graph getSchedule), otherwise working hours alone. The intro call
lies at least `intro_days_before` days before the first exchange day, on a working day. Two
proposals of one run never give the same person the same day. All times are local
(the partner's time zone).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Protocol
from zoneinfo import ZoneInfo

import holidays

from connector.core.config import MatchingConfig

Interval = tuple[datetime, datetime]  # aware start and end


class Calendars(Protocol):
    """Who is busy when: e-mail -> busy intervals within [start, end); unknown people left out."""

    def busy(self, emails: list[str], start: datetime, end: datetime) -> Mapping[str, list[Interval]]: ...


class NoCalendars:
    """No calendar can be read: working hours alone decide."""

    def busy(self, emails: list[str], start: datetime, end: datetime) -> Mapping[str, list[Interval]]:
        return {}


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    hours: float | None = None


@dataclass(frozen=True)
class Plan:
    """Suggested sessions of one proposal; `days` empty when the period holds no free days."""

    intro: Slot | None
    days: tuple[Slot, ...]
    calendars_read: bool  # free/busy was known for switcher and coach


@dataclass
class Planner:
    """Suggests dates for one run, remembering the days it already gave each person."""

    settings: MatchingConfig
    zone: ZoneInfo
    as_of: date
    calendars: Calendars = field(default_factory=NoCalendars)
    booked: dict[str, set[date]] = field(default_factory=dict)
    _busy: dict[str, list[Interval]] = field(default_factory=dict)
    _known: set[str] = field(default_factory=set)

    def load(self, emails: Iterable[str], start: date, end: date) -> None:
        """Read free/busy of everyone at once for [start, end] (one request per batch, not per proposal)."""
        wanted = sorted({e.casefold() for e in emails if e})
        if not wanted:
            return
        found = self.calendars.busy(wanted, self._at(start, time(0)), self._at(end + timedelta(days=1), time(0)))
        for email, intervals in found.items():
            self._busy[email.casefold()] = list(intervals)
            self._known.add(email.casefold())

    def window(self, period: tuple[date, date] | None) -> tuple[date, date]:
        """The days a proposal may use: the wished period, never before tomorrow's intro call allows."""
        earliest = self.as_of + timedelta(days=self.settings.intro_days_before + 1)
        if period is None:
            start = self.as_of + timedelta(days=max(self.settings.lead_days, self.settings.intro_days_before + 1))
            return start, start + timedelta(days=self.settings.horizon_days)
        return max(period[0], earliest), period[1]

    def plan(self, people: list[str | None], weekdays: frozenset[int], period: tuple[date, date] | None) -> Plan:
        """Intro call and exchange days for the people (switcher's and coach's e-mails)."""
        emails = [p.casefold() for p in people if p]
        first, last = self.window(period)
        count = math.ceil(self.settings.exchange_hours / self.settings.hours_per_day - 1e-9)
        days: list[date] = []
        day = first
        while day <= last and len(days) < count:
            if day.weekday() in weekdays and not is_holiday(day) and self._free_day(emails, day):
                days.append(day)
            day += timedelta(days=1)
        calendars_read = bool(emails) and all(e in self._known for e in emails)
        if len(days) < count:
            return Plan(None, (), calendars_read)
        intro = self._intro(emails, days[0])
        for person in emails:
            self.booked.setdefault(person, set()).update(days)
        return Plan(intro, tuple(self._day_slot(d, i, count) for i, d in enumerate(days)), calendars_read)

    # -- helpers ------------------------------------------------------------------------------

    def _at(self, day: date, moment: time) -> datetime:
        return datetime.combine(day, moment, tzinfo=self.zone)

    def _day_slot(self, day: date, index: int, count: int) -> Slot:
        settings = self.settings
        hours = settings.hours_per_day if index < count - 1 else settings.exchange_hours - settings.hours_per_day * (count - 1)
        start = self._at(day, time.fromisoformat(settings.day_start))
        pause = 0.5 if hours > 6 else 0.0  # a break is due after six hours of work
        return Slot(start, start + timedelta(hours=hours + pause), round(hours, 2))

    def _free_day(self, emails: list[str], day: date) -> bool:
        slot = self._day_slot(day, 0, 2)
        return all(day not in self.booked.get(e, ()) and not self._overlaps(e, slot.start, slot.end) for e in emails)

    def _intro(self, emails: list[str], first_day: date) -> Slot | None:
        """The latest free working-day slot at intro_time at least intro_days_before before day 1."""
        length = timedelta(minutes=self.settings.intro_minutes)
        day = first_day - timedelta(days=self.settings.intro_days_before)
        while day > self.as_of:
            start = self._at(day, time.fromisoformat(self.settings.intro_time))
            if day.weekday() < 5 and not is_holiday(day) and not any(self._overlaps(e, start, start + length) for e in emails):
                return Slot(start, start + length)
            day -= timedelta(days=1)
        return None

    def _overlaps(self, email: str, start: datetime, end: datetime) -> bool:
        return any(b_start < end and start < b_end for b_start, b_end in self._busy.get(email, ()))


@cache
def _belgian(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("BE", years=year)


def is_holiday(day: date) -> bool:
    """A Belgian (national) public holiday."""
    return day in _belgian(day.year)
