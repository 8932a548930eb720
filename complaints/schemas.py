"""What a new complaint may contain, validated once for every channel (API, web form, bulk import)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator
from pydantic.json_schema import JsonDict

from complaints.classification import INDUSTRIES, NATURES
from core.text import OPTIONAL_TEXT_PATTERN, optional_text, required_text, visible_text_pattern

MAX_TEXT_LENGTH = 5000
MIN_VISIBLE_TEXT = 5
# Blank (none) or something visible: the schema says what the validators below enforce.
OPTIONAL_TEXT: JsonDict = {"pattern": OPTIONAL_TEXT_PATTERN}


def _text_only(value: object) -> object:
    """Text fields take text; numbers, objects, lists and booleans are refused, never read as empty.

    An importer reads a number cell (a phone number in a spreadsheet) as its digits before this.
    """
    if value is not None and not isinstance(value, str):
        raise ValueError(f"应为文本，而不是 {type(value).__name__} (expected text)")
    return value


class ComplaintBase(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    title: str | None = Field(default=None, max_length=200, json_schema_extra=OPTIONAL_TEXT)
    text: str = Field(
        min_length=MIN_VISIBLE_TEXT,
        max_length=MAX_TEXT_LENGTH,
        description=f"投诉内容，至少 {MIN_VISIBLE_TEXT} 个可见字符",
        json_schema_extra={"pattern": visible_text_pattern(MIN_VISIBLE_TEXT)},
    )
    demands: str | None = Field(
        default=None, max_length=2000, description="诉求", json_schema_extra=OPTIONAL_TEXT
    )
    merchant_name: str | None = Field(default=None, max_length=120, json_schema_extra=OPTIONAL_TEXT)
    merchant_credit_code: str | None = Field(
        default=None,
        pattern=r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
        description="统一社会信用代码 (18 characters)",
    )
    product_category: str | None = Field(default=None, max_length=40, json_schema_extra=OPTIONAL_TEXT)
    district: str | None = Field(default=None, max_length=40, json_schema_extra=OPTIONAL_TEXT)
    # The schema says number with cents (a Decimal's default schema would also admit any string).
    amount: (
        Annotated[
            Decimal,
            WithJsonSchema({"type": "number", "minimum": 0, "maximum": 999999999999.99, "multipleOf": 0.01}),
        ]
        | None
    ) = Field(default=None, ge=0, le=Decimal("999999999999.99"), decimal_places=2)
    nature: Annotated[str, WithJsonSchema(NATURES.json_schema())] | None = Field(
        default=None, description="投诉性质；留空则自动分类"
    )
    industry: Annotated[str, WithJsonSchema(INDUSTRIES.json_schema())] | None = Field(
        default=None, description="行业代码；留空则自动分类"
    )

    @field_validator("text", mode="before")
    @classmethod
    def _clean_text(cls, value: object) -> object:
        return required_text(_text_only(value), MIN_VISIBLE_TEXT)

    @field_validator(
        "title",
        "demands",
        "merchant_name",
        "merchant_credit_code",
        "product_category",
        "district",
        "nature",
        "industry",
        mode="before",
    )
    @classmethod
    def _optional_text(cls, value: object) -> object:
        return optional_text(_text_only(value))

    @field_validator("nature")
    @classmethod
    def _known_nature(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = NATURES.normalize(value)
        if code is None:
            raise ValueError(f"未知的投诉性质：{value}（可选：{'、'.join(NATURES.names.values())}）")
        return code

    @field_validator("industry")
    @classmethod
    def _known_industry(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = INDUSTRIES.normalize(value)
        if code is None:
            raise ValueError(f"未知的行业：{value}（可选：{'、'.join(INDUSTRIES.codes)}）")
        return code


class ComplaintCreate(ComplaintBase):
    """A complaint as filed by a consumer; name and contact are personal data."""

    consumer_name: str | None = Field(default=None, max_length=60, json_schema_extra=OPTIONAL_TEXT)
    contact: str | None = Field(
        default=None, max_length=120, description="电话或邮箱", json_schema_extra=OPTIONAL_TEXT
    )

    @field_validator("consumer_name", "contact", mode="before")
    @classmethod
    def _optional_personal(cls, value: object) -> object:
        return optional_text(_text_only(value))
