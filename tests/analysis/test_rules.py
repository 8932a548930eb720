"""Rule files: the shipped one loads with the real thresholds; broken ones are refused clearly."""

from __future__ import annotations

import datetime as dt
import inspect
from pathlib import Path
from typing import get_args

import pytest

from analysis import detectors
from analysis.gouging import RULE_KINDS
from analysis.rules import (
    PARAMS_BY_KIND,
    RULES_FILE,
    MarketSurgeParams,
    PeerOutlierParams,
    RuleError,
    RuleKind,
    covered_product_ids,
    parse_rules,
)
from jobs.detection_reads import read_rules


def test_shipped_rules_carry_the_real_thresholds() -> None:
    ruleset = read_rules(RULES_FILE)
    rules = {rule.id: rule for rule in ruleset.rules}

    assert (rules["emergency_rise_hainan"].threshold, rules["emergency_rise_ca396"].threshold) == (0.0, 0.10)
    assert (rules["average_rise_pa"].reference_days, rules["average_rise_pa"].threshold) == (7, 0.20)
    assert (rules["average_rise_al"].reference_days, rules["average_rise_al"].threshold) == (30, 0.25)
    assert [rules[f"markup_ratio_{place}"].threshold for place in ("hainan", "dandong", "jining")] == [
        0.15,
        0.30,
        0.35,
    ]
    assert rules["markup_ratio_jining"].categories == ["粮油", "蔬菜"]
    assert {rule.kind for rule in ruleset.rules} == {
        "emergency_rise",
        "average_rise",
        "markup_ratio",
        "peer_outlier",
        "market_surge",
        "complaint_spike",
        "supply_shortage",
    }
    assert all(rule.citation for rule in ruleset.rules)
    emergency = ruleset.emergency("covid19_heilongjiang_2020")
    assert emergency.start == dt.date(2020, 1, 25) and emergency.end == dt.date(2020, 3, 4)  # level I
    assert emergency.covers(dt.date(2020, 2, 1)) and not emergency.covers(dt.date(2021, 1, 1))
    assert emergency.overlaps(dt.date(2019, 12, 1), dt.date(2020, 1, 25))
    assert not emergency.overlaps(dt.date(2020, 3, 26), dt.date(2020, 6, 30))


def _document(**rule: object) -> dict[str, object]:
    base = {
        "id": "surge",
        "kind": "market_surge",
        "title": "t",
        "threshold": 0.15,
        "severity": {"medium": 0.1, "high": 0.2, "critical": 0.3},
    }
    return {"rules": [{**base, **rule}]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "price_magic"}, "rule surge, kind"),
        ({"threshold": "high"}, "rule surge, threshold"),
        ({"kind": "emergency_rise"}, "needs an emergency"),
        ({"kind": "emergency_rise", "emergency": "flood"}, "unknown emergency 'flood'"),
        ({"severity": {"medium": 0.5, "high": 0.2, "critical": 0.3}}, "medium <= high <= critical"),
        ({"typo_field": 1}, "rule surge, typo_field"),
        (
            {"params": {"min_peer": 3}},
            "rule surge, params: unknown parameter.s. min_peer for kind market_surge",
        ),
        ({"params": {"min_z": "big"}}, "rule surge, params: min_z: Input should be a valid number"),
        (
            {"kind": "supply_shortage", "params": {"min_share": 2}},
            "min_share: Input should be less than or equal to 1",
        ),
    ],
)
def test_parse_rules_refuses_bad_rules_with_the_reason(change: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(_document(**change))


def test_read_rules_refuses_a_file_that_is_not_a_rule_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")

    with pytest.raises(RuleError, match="must hold a mapping"):
        read_rules(path)
    with pytest.raises(RuleError, match="cannot read"):
        read_rules(tmp_path / "missing.yaml")


def test_covered_product_ids_by_category_or_product_code_or_name() -> None:
    catalogue = [
        (1, "rice", "大米", "grain_oil", "粮油"),
        (2, "cabbage", "大白菜", "vegetables", "蔬菜"),
        (3, "mask", "医用口罩", "epidemic", "防疫用品"),
    ]
    ruleset = parse_rules(_document(categories=["粮油"], products=["医用口罩"]))

    assert covered_product_ids(ruleset.rules[0], catalogue) == {1, 3}
    assert covered_product_ids(parse_rules(_document()).rules[0], catalogue) == {1, 2, 3}


def test_a_misspelt_parameter_in_a_rule_file_names_the_file_the_line_and_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "gouging_rules.yaml"
    text = RULES_FILE.read_text(encoding="utf-8").replace("params: {min_peers: 5,", "params: {min_peer: 5,")
    path.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.strip() == "- id: peer_outlier")

    with pytest.raises(RuleError) as error:
        read_rules(path)

    assert str(error.value) == (
        f"invalid rule file {path}: line {line}, rule peer_outlier, params: unknown parameter(s) min_peer"
        " for kind peer_outlier (allowed: min_peers, min_premium, move_allowance, lag_days)"
    )


def test_parameters_are_typed_per_kind_with_their_defaults_when_left_out() -> None:
    rules = {rule.id: rule for rule in read_rules(RULES_FILE).rules}
    assert rules["peer_outlier"].params == PeerOutlierParams(min_peers=5, min_premium=0.25, lag_days=2)
    assert rules["market_surge"].params == MarketSurgeParams(min_z=3.0, lag_days=2)

    bare = parse_rules(_document()).rules[0].params
    assert bare == MarketSurgeParams() and bare.min_peers == 3 and bare.min_z == 4.0
    average = parse_rules(
        {
            "emergencies": [{"id": "e", "name": "e", "start": "2020-01-25"}],
            "rules": [{**_document()["rules"][0], "kind": "average_rise", "emergency": "e"}],  # type: ignore[index]
        }
    )
    assert average.rules[0].params.inclusive is True  # type: ignore[attr-defined]


def test_every_kind_has_one_detector_and_one_parameters_model() -> None:
    kinds = set(get_args(RuleKind))
    assert set(RULE_KINDS) == set(PARAMS_BY_KIND) == kinds
    assert all(RULE_KINDS[kind].params is PARAMS_BY_KIND[kind] for kind in kinds)


@pytest.mark.parametrize(
    ("detector", "kind"),
    [
        (detectors.detect_peer_outliers, "peer_outlier"),
        (detectors.detect_market_surges, "market_surge"),
        (detectors.detect_emergency_rises, "emergency_rise"),
        (detectors.detect_markup_violations, "markup_ratio"),
        (detectors.detect_complaint_spikes, "complaint_spike"),
        (detectors.detect_supply_shortages, "supply_shortage"),
    ],
)
def test_detector_defaults_are_the_parameter_models_defaults(detector: object, kind: str) -> None:
    defaults = PARAMS_BY_KIND[kind]()
    signature = inspect.signature(detector)  # type: ignore[arg-type]
    for name, value in defaults.model_dump().items():
        assert signature.parameters[name].default == value, name
