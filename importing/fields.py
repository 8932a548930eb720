"""Reading the values of an imported row: dates, money, text; each failure says why in Chinese and English."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from core.clock import utcnow
from importing.readers import BadRow

MAX_KEPT_PROBLEMS = 1000
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
)
EARLIEST = dt.datetime(2000, 1, 1)
LATEST_YEAR = 9998
MONEY_NOISE = re.compile(r"[,，\s¥￥元]|^RMB", re.IGNORECASE)


class FieldError(ValueError):
    """One value of a row is missing or unreadable; the row is rejected with this reason."""


@dataclass
class ImportSummary:
    """What an import did; ``problems`` keeps the first rejected rows with their reasons."""

    read: int = 0
    imported: int = 0
    skipped: int = 0
    rejected: int = 0
    provisional: int = 0  # rows filed under provisional goods (待归类): stored, awaiting review
    unindexed: int = 0  # stored but not in the search index (unreachable): `reindex --check --repair`
    problems: list[BadRow] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.problems) < MAX_KEPT_PROBLEMS:
            self.problems.append(BadRow(line, reason))

    def as_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "imported": self.imported,
            "skipped": self.skipped,
            "rejected": self.rejected,
            "provisional": self.provisional,
        }


def text_value(row: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = row.get(name)
    text = "" if value is None else str(value).strip()
    if not text:
        if required:
            raise FieldError(f"缺少必填字段 {name} (missing {name})")
        return None
    return text


def parse_datetime(
    value: Any, name: str, *, naive_zone: dt.tzinfo | None = None, now: dt.datetime | None = None
) -> dt.datetime:
    """A date or date-time (ISO 8601, 2026/3/1, 20260301, 2026年3月1日) as naive UTC.

    Times without a zone are taken in ``naive_zone`` when given (China time for complaints people wrote
    down), else as they are.
    """
    text = str(value).strip()
    parsed: dt.datetime | None = None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        for date_format in DATE_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, date_format)
                break
            except ValueError:
                continue
    if parsed is None:
        raise FieldError(f"{name} 日期无法识别：“{text}” (bad date {text!r}, expected YYYY-MM-DD)")
    if not EARLIEST.year <= parsed.year <= LATEST_YEAR:
        # before converting: 0001-01-01 in China time is before the first representable moment
        raise FieldError(f"{name} 日期超出范围：{text} (date out of range)")
    if parsed.tzinfo is None and naive_zone is not None:
        parsed = parsed.replace(tzinfo=naive_zone)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    latest = (now or utcnow()) + dt.timedelta(days=1)
    if not EARLIEST <= parsed <= latest:
        raise FieldError(f"{name} 日期超出范围：{text} (date out of range)")
    return parsed


def parse_money(value: Any, name: str) -> Decimal:
    """A non-negative amount in 元; tolerates ¥, 元 and thousands separators."""
    text = MONEY_NOISE.sub("", str(value).strip())
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise FieldError(f"{name} 不是数字：“{value}” (not a number)") from exc
    if not amount.is_finite() or math.isnan(float(amount)):
        raise FieldError(f"{name} 不是有效数字：“{value}” (not a finite number)")
    if amount < 0:
        raise FieldError(f"{name} 不能为负数：{value} (negative {name})")
    return amount


def optional_money(row: dict[str, Any], name: str) -> Decimal | None:
    text = text_value(row, name)
    return None if text is None else parse_money(text, name)
