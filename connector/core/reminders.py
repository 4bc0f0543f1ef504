"""Evaluation reminders: the moments after an exchange at which switcher, coach and the
sending employer's HR look back (research on training journeys asks for one week, two
months and six months). Dates fall on working days: a weekend or Belgian public holiday
moves the moment to the next working day (the `holidays` package keeps the calendar)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

OFFSET = re.compile(r"^(\d{1,3})([dwm])$")


@dataclass(frozen=True)
class Offset:
    amount: int
    unit: str  # d, w, m

    @classmethod
    def parse(cls, text: str) -> Offset:
        match = OFFSET.match(text.strip())
        if match is None:
            raise ValueError(f"'{text}' is not an offset like 1w, 2m or 10d")
        return cls(int(match.group(1)), match.group(2))

    @property
    def code(self) -> str:
        return f"{self.amount}{self.unit.upper()}"

    def after(self, day: date) -> date:
        if self.unit == "d":
            return day + timedelta(days=self.amount)
        if self.unit == "w":
            return day + timedelta(weeks=self.amount)
        month_index = day.month - 1 + self.amount
        year, month = day.year + month_index // 12, month_index % 12 + 1
        return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_working_day(day: date, country: str = "BE") -> date:
    public = holidays.country_holidays(country, years=[day.year, day.year + 1])
    while day.weekday() >= 5 or day in public:
        day += timedelta(days=1)
    return day


def reminder_moments(last_day: date, offsets: list[Offset], at: time, minutes: int, zone: ZoneInfo) -> list[tuple[Offset, datetime, datetime]]:
    moments = []
    for offset in offsets:
        day = next_working_day(offset.after(last_day))
        start = datetime.combine(day, at, tzinfo=zone)
        moments.append((offset, start, start + timedelta(minutes=minutes)))
    return moments
