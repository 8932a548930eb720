"""Timestamps in API answers: the database keeps naive UTC, clients get an explicit ``Z``.

A bare ``2026-03-01T08:00:00`` would be read as Beijing time by most clients, eight hours off, and
is not an RFC 3339 ``date-time`` as the OpenAPI schema promises. Response models declare
``UtcDateTime`` instead of ``datetime``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


UtcDateTime = Annotated[dt.datetime, AfterValidator(_as_utc)]


def _iso_date_only(value: object) -> object:
    """A date is written YYYY-MM-DD: a bare number (``created_to=0``) is not read as days since 1970."""
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        raise ValueError("日期格式应为 YYYY-MM-DD (date must be YYYY-MM-DD)")
    return value


IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
