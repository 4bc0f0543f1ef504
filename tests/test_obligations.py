"""The worked examples of the Labour Deal Act's individual right to training."""

from datetime import date

import pytest

from connector.reports.obligations import (
    entitlement_days,
    hours_per_day,
    months_begun,
    size_band_days,
)


@pytest.mark.parametrize("workforce, expected", [(25, 5), (20, 5), (19.6, 1), (15, 1), (10, 1), (9.9, 0), (8, 0), (None, None)])
def test_size_bands(workforce, expected):
    assert size_band_days(workforce) == expected


def test_sector_agreement_overrides_the_band():
    assert size_band_days(8, override=2) == 2
    assert size_band_days(None, override=4) == 4


def test_full_time_full_year_in_a_company_of_25_has_5_days():
    assert entitlement_days(size_band_days(25), 1.0, months_begun(2027, date(2015, 1, 1), None)) == 5


def test_four_fifths_from_10_may_has_2_67_days():
    months = months_begun(2026, date(2026, 5, 10), None)
    assert months == 8  # May counts whole: the month was begun
    assert round(entitlement_days(size_band_days(25), 0.8, months), 2) == 2.67


def test_15_workers_give_1_day_and_8_workers_none():
    assert entitlement_days(size_band_days(15), 1.0, 12) == 1
    assert entitlement_days(size_band_days(8), 1.0, 12) == 0


@pytest.mark.parametrize("start, end, expected", [
    (None, None, 12), (date(2026, 12, 31), None, 1), (None, date(2026, 1, 1), 1), (date(2026, 3, 15), date(2026, 4, 2), 2),
    (date(2027, 1, 1), None, 0), (None, date(2025, 12, 31), 0), (date(2020, 1, 1), date(2026, 8, 31), 8),
])
def test_months_begun(start, end, expected):
    assert months_begun(2026, start, end) == expected


def test_hours_per_day_defaults_to_weekly_hours_over_five():
    assert hours_per_day(None, 30.4, 0.8) == pytest.approx(6.08)
    assert hours_per_day(None, None, 0.5) == pytest.approx(3.8)
    assert hours_per_day(7.6, 30.4, 0.8) == 7.6


def test_unused_days_carry_over_within_the_period_and_the_average_runs_over_it():
    from connector.reports.obligations import training_account

    # Full-time at a 25-worker employer: 5 days a year. 2 days in 2024, none in 2025, 9 in 2026.
    account = training_account({2024: (5, 2), 2025: (5, 0), 2026: (5, 9)}, until=2026)
    assert [(r.year, r.carried_in, r.available, r.balance) for r in account] == [(2024, 0, 5, 3), (2025, 3, 8, 8), (2026, 8, 13, 4)]
    last = account[-1]
    assert (last.period_entitlement, last.period_followed, round(last.period_average, 2)) == (15, 11, 3.67)


def test_more_than_available_is_no_credit_and_nothing_carries_past_the_period():
    from connector.reports.obligations import training_account

    account = training_account({2027: (5, 12), 2028: (5, 1), 2029: (5, 0)}, until=2029)
    by_year = {r.year: r for r in account}
    assert by_year[2027].balance == -7 and by_year[2028].carried_in == 0  # a surplus is not a credit
    assert by_year[2028].balance == 4 and by_year[2029].carried_in == 0  # the period ends with 2028
    assert by_year[2024].entitlement == 0 and by_year[2026].followed == 0  # years without data count as nothing


def test_part_year_hire_in_the_account():
    from connector.reports.obligations import entitlement_days, months_begun, training_account

    # 0.8 FTE from 10 May 2026 at a 25-worker employer: 2.67 days in 2026, 4 in 2027; 1 day followed in 2026.
    entitled_2026 = entitlement_days(5, 0.8, months_begun(2026, date(2026, 5, 10), None))
    account = training_account({2026: (entitled_2026, 1.0), 2027: (entitlement_days(5, 0.8, 12), 0.0)}, until=2027)
    assert round(account[-1].carried_in, 2) == 1.67 and round(account[-1].available, 2) == 5.67
