"""Timestamps in API answers: the database keeps naive UTC, clients get an explicit ``Z``.

A bare ``2026-03-01T08:00:00`` would be read as Beijing time by most clients, eight hours off, and
is not an RFC 3339 ``date-time`` as the OpenAPI schema promises. Response models declare
``UtcDateTime`` instead of ``datetime``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator


def _as_utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


UtcDateTime = Annotated[dt.datetime, AfterValidator(_as_utc)]
