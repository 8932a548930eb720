"""Deadlines skip weekends and public holidays and count the weekend days worked in exchange."""

from __future__ import annotations

import datetime as dt

import pytest

from complaints.working_days import add_working_days, is_working_day, working_days_between

D = dt.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2024, 10, 1), False),  # National Day
        (D(2024, 10, 12), True),  # Saturday worked in exchange
        (D(2026, 2, 17), False),  # Spring Festival, a Tuesday
        (D(2026, 2, 14), True),  # Saturday worked before the Spring Festival
        (D(2026, 11, 28), False),  # ordinary Saturday
        (D(2026, 11, 30), True),  # ordinary Monday
        (D(2030, 10, 1), True),  # beyond the data: a Tuesday is a working day
    ],
)
def test_is_working_day(day: dt.date, working: bool) -> None:
    assert is_working_day(day) is working


def test_seven_working_days_over_an_ordinary_week() -> None:
    assert add_working_days(D(2026, 11, 27), 7) == D(2026, 12, 8)  # Friday -> the Tuesday after next


def test_national_day_break_is_skipped_and_exchange_saturday_counted() -> None:
    # 2024-09-30 Mon; 10-01..10-07 off; 10-12 (Sat) is a working day.
    assert add_working_days(D(2024, 9, 30), 1) == D(2024, 10, 8)
    assert add_working_days(D(2024, 9, 30), 5) == D(2024, 10, 12)


def test_spring_festival_2026() -> None:
    # Friday 2026-02-13; 02-14 (Sat) worked, 02-15..02-23 off.
    assert add_working_days(D(2026, 2, 13), 2) == D(2026, 2, 24)


def test_forty_five_working_days_round_trip() -> None:
    start = D(2025, 9, 1)
    deadline = add_working_days(start, 45)
    assert working_days_between(start, deadline) == 45
    assert working_days_between(deadline, start) == -45
    assert (deadline - start).days > 45 * 7 // 5  # the National Day break is in between


def test_zero_and_negative_counts() -> None:
    assert add_working_days(D(2026, 1, 1), 0) == D(2026, 1, 1)
    with pytest.raises(ValueError):
        add_working_days(D(2026, 1, 1), -1)
