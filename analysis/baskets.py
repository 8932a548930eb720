"""Price baskets as data: which goods a basket index covers and with what weight.

Parsing is pure; reading the basket file (``basket.yaml``) is the caller's job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

BASKETS_FILE = Path(__file__).with_name("basket.yaml")


class BasketError(ValueError):
    """A basket file that cannot be used; the message says which basket and why."""


class Basket(BaseModel):
    """A named basket: relative weight per catalogue product code."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1)
    name: str = Field(min_length=1)
    weights: dict[str, float] = Field(min_length=1)

    @model_validator(mode="after")
    def _positive_weights(self) -> Basket:
        bad = sorted(code for code, weight in self.weights.items() if not weight > 0)
        if bad:
            raise ValueError(f"basket {self.code}: weights must be positive ({', '.join(bad)})")
        return self


def parse_baskets(document: Any) -> dict[str, Basket]:
    """Validate a basket document (``{"baskets": [...]}``) into baskets by code."""
    if not isinstance(document, dict) or not isinstance(document.get("baskets"), list):
        raise BasketError("basket file must hold a mapping with a list under 'baskets'")
    try:
        baskets = [Basket.model_validate(record) for record in document["baskets"]]
    except ValidationError as exc:
        raise BasketError(str(exc)) from exc
    codes = [basket.code for basket in baskets]
    duplicated = sorted({code for code in codes if codes.count(code) > 1})
    if duplicated:
        raise BasketError(f"basket codes used twice: {', '.join(duplicated)}")
    return {basket.code: basket for basket in baskets}
