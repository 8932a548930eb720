"""Gouging rules as data: the model a rule file is validated against.

A rule file (YAML, see ``gouging_rules.yaml``) holds declared emergencies and one record per rule:
the detector it feeds (``kind``), covered goods, reference window, threshold, severity bands and the
legal citation. Parsing is pure; reading the file is the caller's job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

RULES_FILE = Path(__file__).with_name("gouging_rules.yaml")

RuleKind = Literal[
    "emergency_rise",
    "average_rise",
    "markup_ratio",
    "peer_outlier",
    "market_surge",
    "complaint_spike",
    "supply_shortage",
]
Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")

#: Kinds that only apply while an emergency is declared.
EMERGENCY_KINDS = frozenset({"emergency_rise", "average_rise", "markup_ratio"})


class RuleError(ValueError):
    """A rule file that cannot be used; the message names the rule and the field."""


class Emergency(BaseModel):
    """A declared emergency (epidemic, disaster) during which the emergency rules apply."""

    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    region: str = ""
    start: dt.date
    end: dt.date | None = None
    citation: str = ""

    @model_validator(mode="after")
    def _end_after_start(self) -> Emergency:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"emergency {self.id}: end {self.end} is before start {self.start}")
        return self

    def covers(self, day: dt.date) -> bool:
        return day >= self.start and (self.end is None or day <= self.end)

    def overlaps(self, first: dt.date, last: dt.date) -> bool:
        """Whether the emergency is in force on any day of ``first``..``last``."""
        return self.start <= last and (self.end is None or self.end >= first)


class SeverityBands(BaseModel):
    """Lower bounds of ``breach`` (how far past the threshold, in the rule's units) for each severity.

    A breach below ``medium`` is ``low``; at or above ``critical`` it is ``critical``.
    """

    model_config = ConfigDict(extra="forbid")

    medium: float
    high: float
    critical: float

    @model_validator(mode="after")
    def _ascending(self) -> SeverityBands:
        if not 0 <= self.medium <= self.high <= self.critical:
            raise ValueError("severity bands must satisfy 0 <= medium <= high <= critical")
        return self


class Rule(BaseModel):
    """One gouging rule.

    ``threshold`` is a fraction for price rules (0.10 = a 10% rise), a robust z for ``peer_outlier``,
    a Poisson tail probability for ``complaint_spike`` and a share of sellers for ``supply_shortage``.
    ``params`` holds the detector's extra knobs (documented in the rule file next to each rule).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$", max_length=60)
    kind: RuleKind
    title: str
    citation: str = ""
    enabled: bool = True
    emergency: str | None = None
    categories: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    reference_days: int = Field(default=28, ge=1, le=365)
    threshold: float
    min_days: int = Field(default=1, ge=1)
    severity: SeverityBands
    params: dict[str, Any] = Field(default_factory=dict)

    @property
    def covers_all_goods(self) -> bool:
        return not self.categories and not self.products


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    emergencies: list[Emergency] = Field(default_factory=list)
    rules: list[Rule]

    @model_validator(mode="after")
    def _consistent(self) -> RuleSet:
        ids = [rule.id for rule in self.rules]
        duplicates = sorted({rule_id for rule_id in ids if ids.count(rule_id) > 1})
        if duplicates:
            raise ValueError(f"duplicate rule ids: {', '.join(duplicates)}")
        known = {emergency.id for emergency in self.emergencies}
        for rule in self.rules:
            if rule.kind in EMERGENCY_KINDS and rule.emergency is None:
                raise ValueError(f"rule {rule.id}: kind {rule.kind} needs an emergency")
            if rule.emergency is not None and rule.emergency not in known:
                raise ValueError(f"rule {rule.id}: unknown emergency {rule.emergency!r}")
        return self

    def emergency(self, emergency_id: str) -> Emergency:
        return next(e for e in self.emergencies if e.id == emergency_id)

    @property
    def enabled_rules(self) -> list[Rule]:
        return [rule for rule in self.rules if rule.enabled]


def parse_rules(document: Mapping[str, Any]) -> RuleSet:
    """Validate a parsed rule document; raise :class:`RuleError` with every problem found."""
    try:
        return RuleSet.model_validate(document)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'document'}: {error['msg']}"
            for error in exc.errors()
        )
        raise RuleError(f"invalid rule file: {problems}") from exc


def covered_product_ids(rule: Rule, catalogue: Iterable[tuple[int, str, str, str, str]]) -> frozenset[int]:
    """Product ids a rule covers.

    Parameters
    ----------
    rule : Rule
    catalogue : iterable of (product_id, product_code, product_name, category_code, category_name)
        Goods and categories may be named in the rule file by code or by Chinese name.
    """
    wanted_products = set(rule.products)
    wanted_categories = set(rule.categories)
    return frozenset(
        product_id
        for product_id, code, name, category_code, category_name in catalogue
        if rule.covers_all_goods
        or code in wanted_products
        or name in wanted_products
        or category_code in wanted_categories
        or category_name in wanted_categories
    )
