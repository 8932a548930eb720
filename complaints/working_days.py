"""Working-day calendar for complaint deadlines (7 working days to accept, 45 to mediate).

Chinese public holidays and the weekend days worked in exchange (调休) are data
(``resources/cn_holidays.yaml``); outside the years it covers, weekends are the only days off.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources

import yaml


@lru_cache(maxsize=1)
def _holiday_table() -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """(days off on weekdays or weekends inside a break, weekend days that are working days)."""
    raw = yaml.safe_load(
        resources.files("complaints").joinpath("resources/cn_holidays.yaml").read_text("utf-8")
    )
    days_off: set[dt.date] = set()
    days_worked: set[dt.date] = set()
    for year in raw.values():
        for start, end, _name in year["breaks"]:
            days_off.update(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
        days_worked.update(year["workdays"])
    return frozenset(days_off), frozenset(days_worked)


def is_working_day(day: dt.date) -> bool:
    days_off, days_worked = _holiday_table()
    if day in days_worked:
        return True
    return day.weekday() < 5 and day not in days_off


def add_working_days(start: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``start`` (``start`` itself is not counted)."""
    if count < 0:
        raise ValueError("count must not be negative")
    day = start
    remaining = count
    while remaining:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when ``end`` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(is_working_day(start + dt.timedelta(days=i)) for i in range(1, (end - start).days + 1))
