"""Reading money amounts as sources print them: "2,879.20", "￥12.5", "3元5角", "8分", "2879.2".

Amounts become ``Decimal`` so "2879.2" and "2879.20" compare equal and nothing is lost to binary floats.
A thousands separator is only accepted in groups of three ("1,5" is ambiguous and refused).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

NOT_A_PRICE = frozenset({"", "-", "--", "—", "／", "/", "暂无", "面议", "无", "null", "none", "nan"})
CURRENCY_NOISE = re.compile(r"^(?:人民币|RMB|CNY)|[¥￥\s]", re.IGNORECASE)
THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
PLAIN = re.compile(r"^\d+(?:\.\d+)?$")
YUAN_JIAO_FEN = re.compile(
    r"^(?:(?P<yuan>\d+(?:\.\d+)?)(?:元|块))?(?:(?P<jiao>\d)(?:角|毛))?(?:(?P<fen>\d)分)?(?:钱)?$"
)


class MoneyError(ValueError):
    """Text that is not a readable amount of money."""


def parse_money(value: object) -> Decimal | None:
    """The amount in 元, ``None`` when the source says there is no price; raises :class:`MoneyError`."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise MoneyError(f"价格不是数字：{value!r} (not a number)")
    if isinstance(value, int | float | Decimal):
        return _finite(Decimal(str(value)), value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if text.lower() in NOT_A_PRICE:
        return None
    text = CURRENCY_NOISE.sub("", text)
    bare = text.removesuffix("元")
    if THOUSANDS.match(bare):
        bare = bare.replace(",", "")
    if PLAIN.match(bare):
        return Decimal(bare)
    match = YUAN_JIAO_FEN.match(text)
    if match and any(match.group(part) for part in ("yuan", "jiao", "fen")):
        yuan = Decimal(match.group("yuan") or 0)
        jiao = Decimal(match.group("jiao") or 0) / 10
        fen = Decimal(match.group("fen") or 0) / 100
        return yuan + jiao + fen
    raise MoneyError(f"无法识别的价格：{value!r} (unreadable amount)")


def _finite(amount: Decimal, original: object) -> Decimal:
    if not amount.is_finite():
        raise MoneyError(f"价格不是有效数字：{original!r} (not a finite number)")
    return amount
