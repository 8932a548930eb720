import datetime as dt

from core.clock import (
    china_date,
    china_day_end,
    china_day_start,
    china_today,
    from_china,
    in_china,
    naive_utc,
    utcnow,
)


def test_a_china_day_runs_from_16_00_utc_the_day_before() -> None:
    day = dt.date(2026, 3, 5)
    assert china_day_start(day) == dt.datetime(2026, 3, 4, 16, 0)
    assert china_day_end(day) == dt.datetime(2026, 3, 5, 16, 0)


def test_china_date_of_a_naive_utc_timestamp_turns_at_16_00_utc() -> None:
    assert china_date(dt.datetime(2026, 3, 4, 15, 59)) == dt.date(2026, 3, 4)
    assert china_date(dt.datetime(2026, 3, 4, 16, 0)) == dt.date(2026, 3, 5)
    assert china_date(dt.datetime(2026, 3, 4, 16, 0, tzinfo=dt.UTC)) == dt.date(2026, 3, 5)


def test_wall_clock_times_round_trip_through_naive_utc() -> None:
    moment = from_china(dt.date(2026, 3, 5), dt.time(9, 30))
    assert moment == dt.datetime(2026, 3, 5, 1, 30)
    assert in_china(moment).strftime("%Y-%m-%d %H:%M") == "2026-03-05 09:30"
    assert naive_utc(in_china(moment)) == moment


def test_now_is_naive_utc_and_today_is_the_china_date_of_now() -> None:
    now = utcnow()
    assert now.tzinfo is None
    assert abs(dt.datetime.now(dt.UTC).replace(tzinfo=None) - now) < dt.timedelta(seconds=5)
    assert china_today() in {china_date(now), china_date(utcnow())}
