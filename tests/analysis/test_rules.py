"""Rule files: the shipped one loads with the real thresholds; broken ones are refused clearly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analysis.rules import RULES_FILE, RuleError, covered_product_ids, parse_rules
from jobs.detection import read_rules


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
        ({"kind": "price_magic"}, "rules.0.kind"),
        ({"threshold": "high"}, "rules.0.threshold"),
        ({"kind": "emergency_rise"}, "needs an emergency"),
        ({"kind": "emergency_rise", "emergency": "flood"}, "unknown emergency 'flood'"),
        ({"severity": {"medium": 0.5, "high": 0.2, "critical": 0.3}}, "medium <= high <= critical"),
        ({"typo_field": 1}, "rules.0.typo_field"),
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
