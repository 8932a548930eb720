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

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

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
    """A rule file that cannot be used; the message names the file, the rule, its line and the field."""


class RuleParams(BaseModel):
    """A rule kind's extra knobs: each kind has its own model, the one home of its defaults.

    Unknown keys are refused, so a misspelt knob is an error instead of a silent default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


class EmergencyRiseParams(RuleParams):
    """``emergency_rise``: a rise over the seller's last price before the emergency."""

    inclusive: bool = False
    net_of_market: bool = True
    lag_days: int = Field(default=0, ge=0)


class AverageRiseParams(EmergencyRiseParams):
    """``average_rise``: a rise over the seller's mean price before the emergency; the threshold counts."""

    inclusive: bool = True


class MarkupRatioParams(RuleParams):
    reference: Literal["wholesale", "own_pre_event"] = "wholesale"
    lag_days: int = Field(default=0, ge=0)


class PeerOutlierParams(RuleParams):
    min_peers: int = Field(default=5, ge=1)
    min_premium: float = Field(default=0.25, ge=0)
    move_allowance: float = Field(default=1.0, ge=0)
    lag_days: int = Field(default=0, ge=0)


class MarketSurgeParams(RuleParams):
    min_peers: int = Field(default=3, ge=1)
    min_z: float = Field(default=4.0, ge=0)
    move_allowance: float = Field(default=1.0, ge=0)
    lag_days: int = Field(default=0, ge=0)


class ComplaintSpikeParams(RuleParams):
    window_days: int = Field(default=7, ge=1)
    min_count: int = Field(default=3, ge=1)


class SupplyShortageParams(RuleParams):
    min_sellers: int = Field(default=5, ge=1)
    min_share: float = Field(default=0.5, ge=0, le=1)


#: The parameters model of each rule kind (the detector of each kind: ``analysis.gouging.DETECTORS``).
PARAMS_BY_KIND: dict[str, type[RuleParams]] = {
    "emergency_rise": EmergencyRiseParams,
    "average_rise": AverageRiseParams,
    "markup_ratio": MarkupRatioParams,
    "peer_outlier": PeerOutlierParams,
    "market_surge": MarketSurgeParams,
    "complaint_spike": ComplaintSpikeParams,
    "supply_shortage": SupplyShortageParams,
}


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
    ``params`` holds the detector's extra knobs, validated against the kind's model in
    :data:`PARAMS_BY_KIND` (documented in the rule file next to each rule).
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
    params: RuleParams = Field(default_factory=RuleParams, validate_default=True)

    @field_validator("params", mode="before")
    @classmethod
    def _params_of_kind(cls, value: Any, info: ValidationInfo) -> RuleParams:
        model = PARAMS_BY_KIND.get(info.data.get("kind", ""))
        if model is None:  # the kind itself is wrong and reported
            return RuleParams()
        if isinstance(value, model):
            return value
        if type(value) is RuleParams:  # the default: no params given
            value = {}
        if not isinstance(value, Mapping):
            raise ValueError(f"params of kind {info.data['kind']} must be a mapping")
        unknown = sorted(str(key) for key in value if key not in model.model_fields)
        if unknown:
            raise ValueError(
                f"unknown parameter(s) {', '.join(unknown)} for kind {info.data['kind']}"
                f" (allowed: {', '.join(model.model_fields)})"
            )
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValueError(problems) from exc

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


def parse_rules(
    document: Mapping[str, Any], *, source: str = "", lines: Mapping[int, int] | None = None
) -> RuleSet:
    """Validate a parsed rule document; raise :class:`RuleError` with every problem found.

    ``source`` (the file name) and ``lines`` (rule index → line in the file) make the message point at
    the rule to fix.
    """
    try:
        return RuleSet.model_validate(document)
    except ValidationError as exc:
        raise RuleError(
            f"invalid rule file{' ' + source if source else ''}: "
            + "; ".join(_problem(error["loc"], error["msg"], document, lines or {}) for error in exc.errors())
        ) from exc


def _problem(
    loc: tuple[int | str, ...], message: str, document: Mapping[str, Any], lines: Mapping[int, int]
) -> str:
    where = ".".join(str(part) for part in loc) or "document"
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
        rules = document.get("rules")
        record = rules[loc[1]] if isinstance(rules, list) and loc[1] < len(rules) else None
        rule_id = record.get("id") if isinstance(record, Mapping) else None
        line = f"line {lines[loc[1]]}, " if loc[1] in lines else ""
        field = ".".join(str(part) for part in loc[2:]) or "rule"
        where = f"{line}rule {rule_id or '#' + str(loc[1] + 1)}, {field}"
    return f"{where}: {message.removeprefix('Value error, ')}"


def parse_rules_text(text: str, source: str) -> RuleSet:
    """Parse and validate the YAML text of a rule file named ``source``; errors name the file and line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"cannot read rule file {source}: {exc}") from exc
    if not isinstance(document, dict):
        raise RuleError(f"rule file {source} must hold a mapping with 'rules'")
    return parse_rules(document, source=source, lines=_rule_lines(node))


def _rule_lines(node: yaml.Node | None) -> dict[int, int]:
    """Rule index → 1-based line where the rule starts in the YAML file."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    for key, value in node.value:
        if key.value == "rules" and isinstance(value, yaml.SequenceNode):
            return {index: item.start_mark.line + 1 for index, item in enumerate(value.value)}
    return {}


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
