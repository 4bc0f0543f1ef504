"""The individual right to training (Labour Deal Act of 3 October 2022), as arithmetic.

- Base days per year from the organisation's size band: 5 days with 20 or more workers,
  1 day with 10 to 19, none below 10 (average declared to social security). A sector
  agreement may set another number: the organisation's `training_days` overrides the band.
- Pro rata: days = base x work-regime fraction x months begun in the year / 12; a month in
  which the employment runs for at least one day counts as a whole month.
- No official day-to-hours conversion exists: hours per day is configurable per
  organisation and defaults to the employee's weekly hours / 5 (38 x FTE / 5 when the
  weekly hours are unknown, 38 hours being the standard full-time week).
- The training account: unused days carry over to the next year within the period
  2024-2028, over which the target is an average; days followed beyond what is available
  are not carried as a debt or a credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

STANDARD_WEEK_HOURS = 38.0
PERIOD = (2024, 2028)  # the first period over which the yearly entitlement is an average


def size_band_days(average_workforce: float | None, override: float | None = None) -> float | None:
    if override is not None:
        return override
    if average_workforce is None:
        return None
    if average_workforce >= 20:
        return 5.0
    if average_workforce >= 10:
        return 1.0
    return 0.0


def months_begun(year: int, start: date | None, end: date | None) -> int:
    first = max(start or date(year, 1, 1), date(year, 1, 1))
    last = min(end or date(year, 12, 31), date(year, 12, 31))
    if last < first:
        return 0
    return last.month - first.month + 1


def entitlement_days(base_days: float, fte: float, months: int) -> float:
    return base_days * fte * months / 12


def hours_per_day(organisation_hours: float | None, weekly_hours: float | None, fte: float) -> float:
    if organisation_hours:
        return organisation_hours
    if weekly_hours:
        return weekly_hours / 5
    return STANDARD_WEEK_HOURS * fte / 5


@dataclass(frozen=True)
class AccountYear:
    """One year of an employee's training account, in days."""

    year: int
    entitlement: float
    followed: float
    carried_in: float
    available: float
    balance: float  # available - followed; what is still open this year
    period_entitlement: float  # since the start of the period, carry-over not counted twice
    period_followed: float

    @property
    def period_average(self) -> float:
        """Days followed per year so far in the period: the figure the target is an average of."""
        return self.period_followed / (self.year - PERIOD[0] + 1)


def training_account(per_year: dict[int, tuple[float, float]], until: int) -> list[AccountYear]:
    """The account from the start of the period until `until`; `per_year` gives each year's
    (entitlement, days followed). Unused days carry over within the period."""
    rows: list[AccountYear] = []
    carried = period_entitlement = period_followed = 0.0
    for year in range(PERIOD[0], until + 1):
        entitlement, followed = per_year.get(year, (0.0, 0.0))
        available = entitlement + carried
        period_entitlement += entitlement
        period_followed += followed
        rows.append(AccountYear(year, entitlement, followed, carried, available, available - followed, period_entitlement, period_followed))
        carried = max(0.0, available - followed) if year < PERIOD[1] else 0.0
    return rows
