"""Schema pieces the subscription and watch bodies share: delivery addresses and the channels needing them.

Written as JSON Schema patterns and ``if``/``then`` clauses the validators below agree with, so clients
(and schemathesis) learn the rules from the OpenAPI schema.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator
from pydantic.json_schema import JsonDict

from alerts.channels import im
from alerts.subscriptions import parse_quiet_hours
from core.text import WHITESPACE_CLASS, stripped_length_pattern

Channel = Literal["inbox", "webhook", "email", "im"]
# A webhook's signing secret as a body may give it: 16 characters besides surrounding spaces, or none.
WebhookSecret = Annotated[
    str | None,
    Field(
        min_length=16,
        max_length=120,
        description="留空则自动生成",
        json_schema_extra={"pattern": stripped_length_pattern(16)},
    ),
]

# Not "@" and not whitespace (as str.strip reads it), spelled for the schema's pattern and the check alike.
_ADDRESS_PART = f"[^@{WHITESPACE_CLASS[1:-1]}]+"
EMAIL_PATTERN = f"^{WHITESPACE_CLASS}*{_ADDRESS_PART}@{_ADDRESS_PART}\\.{_ADDRESS_PART}{WHITESPACE_CLASS}*$"
EMAIL = re.compile(EMAIL_PATTERN)


def channel_needs(channel: str, field: str, present: JsonDict) -> JsonDict:
    """``if`` the channels include ``channel`` ``then`` ``field`` is given (and matches ``present``)."""
    return {
        "if": {"required": ["channels"], "properties": {"channels": {"contains": {"const": channel}}}},
        "then": {"required": [field], "properties": {field: present}},
    }


CHANNEL_ADDRESSES: list[JsonDict] = [
    channel_needs("webhook", "webhook_url", {"type": "string"}),
    channel_needs("email", "email", {"type": "string"}),
    channel_needs("im", "apprise_urls", {"minItems": 1}),
]


class DeliveryAddressChecks(BaseModel):
    """The checks of the delivery addresses a subscription or watch body carries (each model declares the
    fields itself, with ``str_strip_whitespace``, so the values arrive stripped)."""

    @field_validator("webhook_url", check_fields=False)
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("Webhook 地址必须是 http(s):// 开头的完整地址")
        return value

    @field_validator("email", check_fields=False)
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError("邮箱地址格式不正确")
        return value or None

    @field_validator("apprise_urls", check_fields=False)
    @classmethod
    def _apprise(cls, values: list[str]) -> list[str]:
        for value in values:
            if not im.is_supported(value):
                raise ValueError(f"不支持的即时通讯机器人地址：{im.redact(value)}")
        return list(dict.fromkeys(values))

    @field_validator("quiet_hours", check_fields=False)
    @classmethod
    def _quiet_hours(cls, value: str | None) -> str | None:
        if value:
            parse_quiet_hours(value)
            return value
        return None


def require_channel_addresses(
    channels: Sequence[str], webhook_url: str | None, email: str | None, apprise_urls: Sequence[str]
) -> None:
    """Each chosen channel has its address (what ``CHANNEL_ADDRESSES`` tells clients)."""
    if "webhook" in channels and not webhook_url:
        raise ValueError("选择 Webhook 渠道时必须填写 webhook_url")
    if "email" in channels and not email:
        raise ValueError("选择邮件渠道时必须填写 email")
    if "im" in channels and not apprise_urls:
        raise ValueError("选择即时通讯渠道时必须填写 apprise_urls")
