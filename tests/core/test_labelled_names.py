"""The matcher on a hand-labelled list of real source names: never wrong on a trap, rarely wrong at all."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.catalogue import ProductMatcher, catalogue_products, load_catalogue

LABELLED_NAMES = Path(__file__).with_name("data") / "labelled_names.yaml"


def labelled_names() -> list[dict[str, object]]:
    return list(yaml.safe_load(LABELLED_NAMES.read_text(encoding="utf-8"))["names"])


@pytest.fixture(scope="module")
def matcher() -> ProductMatcher:
    return ProductMatcher(catalogue_products())


def test_the_list_is_big_enough_and_names_real_goods() -> None:
    names = labelled_names()
    assert len(names) >= 100
    assert sum(bool(entry.get("trap")) for entry in names) >= 20
    codes = {product.code for category in load_catalogue() for product in category.products}
    assert {entry["good"] for entry in names if entry["good"]} <= codes


def test_traps_are_never_matched_to_their_whole(matcher: ProductMatcher) -> None:
    wrong = {
        entry["name"]: getattr(matcher.match(str(entry["name"])), "code", None)
        for entry in labelled_names()
        if entry.get("trap") and getattr(matcher.match(str(entry["name"])), "code", None) != entry["good"]
    }
    assert wrong == {}


def test_overall_agreement_is_at_least_95_percent(matcher: ProductMatcher) -> None:
    names = labelled_names()
    right = sum(getattr(matcher.match(str(e["name"])), "code", None) == e["good"] for e in names)
    assert right / len(names) >= 0.95
