"""The price-follow endpoints' request and response models."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.price_follows import DEFAULT_THRESHOLD_PERCENT

# An ASCII address with a dotted domain (what SMTP without SMTPUTF8 delivers; no header can be smuggled
# in). In the schema, so generated clients know it too.
ASCII_EMAIL_PATTERN = r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"
PRINTABLE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
REQUESTED_MESSAGE = (
    "请查收确认邮件：点击邮件里的链接确认后才会开始提醒（如未收到，请检查垃圾邮件或稍后重试）。"
)


class PriceFollowCreate(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    email: str = Field(max_length=254, pattern=ASCII_EMAIL_PATTERN, description="接收提醒的邮箱")
    product: str = Field(min_length=1, max_length=100, description="商品代码、中文名或编号")
    region: str = Field(
        default="",
        max_length=60,
        pattern=PRINTABLE_PATTERN,
        description="地区（城市或区县，按价格数据）；留空为全部地区",
    )
    price_type: Literal["retail", "wholesale"] = "retail"
    threshold_percent: float = Field(
        default=DEFAULT_THRESHOLD_PERCENT, ge=1, le=100, description="中位价变动超过该百分比时提醒"
    )


class PriceFollowRequested(BaseModel):
    status: Literal["pending_confirmation"] = "pending_confirmation"
    message: str = REQUESTED_MESSAGE


class PriceFollowPublic(BaseModel):
    """A follow as its own link shows it: never the address."""

    status: Literal["pending", "confirmed", "unsubscribed"]
    product_code: str
    product_name: str
    region: str
    price_type: str
    threshold_percent: float
    baseline_median: float | None = Field(description="上次提醒（或确认时）的中位价，元/标准单位")
    baseline_date: dt.date | None
