from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawlers.money import MoneyError, parse_money


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("2879.2", Decimal("2879.2")),
        ("2879.20", Decimal("2879.2")),  # same amount, however many zeros are printed
        ("2,879.20", Decimal("2879.20")),
        ("1,234,567", Decimal("1234567")),
        ("￥12.5", Decimal("12.5")),
        ("¥ 12.50", Decimal("12.5")),
        ("人民币8元", Decimal("8")),
        ("12.5元", Decimal("12.5")),
        ("3元5角", Decimal("3.5")),
        ("3元5角2分", Decimal("3.52")),
        ("5角", Decimal("0.5")),
        ("8分", Decimal("0.08")),
        ("2块5毛", Decimal("2.5")),
        ("１２．５", Decimal("12.5")),  # full-width digits
        (" 0.95 ", Decimal("0.95")),
        (7, Decimal("7")),
        (0.1, Decimal("0.1")),
    ],
)
def test_amounts(text: object, amount: Decimal) -> None:
    assert parse_money(text) == amount


@pytest.mark.parametrize("text", [None, "", "-", "--", "暂无", "面议"])
def test_no_price(text: object) -> None:
    assert parse_money(text) is None


@pytest.mark.parametrize(
    "text", ["abc", "1,5", "12,34.5", "-3", "1e5", "一", "3元5", float("nan"), True, "12.5.3"]
)
def test_garbage_is_refused(text: object) -> None:
    with pytest.raises(MoneyError):
        parse_money(text)


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999999.99"), places=2))
def test_any_printed_amount_reads_back(amount: Decimal) -> None:
    for printed in (
        f"{amount:,.2f}",
        f"{amount:.2f}",
        f"{amount:.4f}",
        f"￥{amount:,.2f}",
        f"{amount:.2f}元",
    ):
        assert parse_money(printed) == amount
