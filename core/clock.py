"""China time and the naive-UTC "now": the one place both are defined.

Timestamps are stored as naive UTC (SQLite and PostgreSQL keep them alike); calendar days (deadlines,
daily prices, "today", month buckets) are days in China. China has kept UTC+8 without daylight saving
since 1991, so a China day is always 24 hours and ``CHINA_OFFSET`` serves vectorised (pandas) arithmetic.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")
CHINA_OFFSET = dt.timedelta(hours=8)


def utcnow() -> dt.datetime:
    """Now as naive UTC, the form every stored timestamp takes."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def naive_utc(moment: dt.datetime) -> dt.datetime:
    """An aware timestamp as the naive UTC stored; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def in_china(moment: dt.datetime) -> dt.datetime:
    """A naive-UTC (or aware) timestamp as an aware China wall-clock time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(CHINA)


def china_date(moment: dt.datetime) -> dt.date:
    """The calendar date in China of a naive-UTC (or aware) timestamp."""
    return in_china(moment).date()


def china_today() -> dt.date:
    return dt.datetime.now(CHINA).date()


def china_day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of a China calendar day, as naive UTC."""
    return naive_utc(dt.datetime.combine(day, dt.time(), CHINA))


def china_day_end(day: dt.date) -> dt.datetime:
    """Midnight at the end of a China calendar day (exclusive bound), as naive UTC."""
    return china_day_start(day + dt.timedelta(days=1))


def from_china(day: dt.date, clock: dt.time) -> dt.datetime:
    """A China wall-clock time on a China day, as naive UTC."""
    return naive_utc(dt.datetime.combine(day, clock, CHINA))
