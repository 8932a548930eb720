"""The catalogue of livelihood goods: a category tree, the goods, and the names sources use for them.

The catalogue itself is data (``catalogue.yaml``); seeding it is idempotent so every start, demo and test
can call :func:`seed_catalogue`. Matching a source's name onto a good lives in :mod:`core.matching` (and is
re-exported here): by alias or readable rules, never by loose similarity — a wrong match would silently
corrupt a price series.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.matching import MatchResult, ProductMatcher, Suggestion, normalise_name
from core.models import Category, Product, ProductAlias
from core.units import STANDARD_UNITS

__all__ = [
    "CATALOGUE_FILE",
    "CategorySpec",
    "MatchResult",
    "ProductMatcher",
    "ProductSpec",
    "Suggestion",
    "catalogue_products",
    "category_for_source_name",
    "load_catalogue",
    "normalise_name",
    "seed_catalogue",
]

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    unit: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class CategorySpec:
    """One node of the category tree; ``parent`` is the parent's code (None at the top)."""

    code: str
    name: str
    products: tuple[ProductSpec, ...]
    parent: str | None = None
    coicop: str | None = None
    source_names: tuple[str, ...] = ()


def _walk(nodes: list[dict[str, Any]], parent: str | None) -> Iterator[CategorySpec]:
    for node in nodes:
        yield CategorySpec(
            code=node["code"],
            name=node["name"],
            parent=parent,
            coicop=node.get("coicop"),
            source_names=tuple(node.get("source_names") or ()),
            products=tuple(
                ProductSpec(
                    code=product["code"],
                    name=product["name"],
                    unit=product["unit"],
                    aliases=tuple(product.get("aliases") or ()),
                )
                for product in node.get("products") or ()
            ),
        )
        yield from _walk(node.get("children") or [], node["code"])


@cache
def load_catalogue(path: Path = CATALOGUE_FILE) -> tuple[CategorySpec, ...]:
    """Read and check the catalogue file, parents before children.

    Checks: unique category and good codes, known units, every name (good or alias) used by one good only,
    every source category name claimed by one category only.
    """
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    categories = tuple(_walk(raw["categories"], None))
    seen_categories: set[str] = set()
    seen_sources: set[str] = set()
    for category in categories:
        if category.code in seen_categories:
            raise ValueError(f"catalogue: duplicate category code {category.code!r}")
        seen_categories.add(category.code)
        for source_name in category.source_names:
            if source_name in seen_sources:
                raise ValueError(f"catalogue: source category {source_name!r} is claimed by two categories")
            seen_sources.add(source_name)
    seen_names: set[str] = set()
    seen_codes: set[str] = set()
    for product in (p for c in categories for p in c.products):
        if product.unit not in STANDARD_UNITS:
            raise ValueError(f"catalogue: {product.code} has unknown unit {product.unit!r}")
        if product.code in seen_codes:
            raise ValueError(f"catalogue: duplicate code {product.code!r}")
        seen_codes.add(product.code)
        for name in (product.name, *product.aliases):
            if name in seen_names:
                raise ValueError(f"catalogue: name {name!r} is used by two goods")
            seen_names.add(name)
    return categories


def catalogue_products(path: Path = CATALOGUE_FILE) -> dict[str, Product]:
    """Every catalogue name (good and alias) → an unsaved :class:`Product` with its category: a matcher
    without a database (benchmarks, ``catalogue map`` before a database exists, tests)."""
    names: dict[str, Product] = {}
    for spec in load_catalogue(path):
        category = Category(code=spec.code, name=spec.name, coicop=spec.coicop)
        for good in spec.products:
            product = Product(code=good.code, name=good.name, standard_unit=good.unit, category=category)
            names.update(dict.fromkeys((good.name, *good.aliases), product))
    return names


@cache
def _source_categories() -> dict[str, str]:
    found: dict[str, str] = {}
    for category in load_catalogue():
        for name in (category.name, *category.source_names):
            found.setdefault(normalise_name(name), category.code)
    return found


def category_for_source_name(name: str | None) -> str | None:
    """The catalogue category code a source's own category name stands for, or None.

    Xinfadi's ``prodCat`` (蔬菜, 肉禽蛋 …) and ``prodPcat`` (水菜, 猪肉类 …), CUMCM's 分类名称 (花叶类,
    食用菌 …) and our own category names are known. A name that means different things at different places
    (Xinfadi's 其他类 is used under both 水果 and 水产) maps to None: try the more specific name first,
    then the broader one.
    """
    if not name or not name.strip():
        return None
    return _source_categories().get(normalise_name(name))


def seed_catalogue(session: Session) -> int:
    """Add missing categories, goods and aliases; return how many rows were added. The caller commits.

    Existing rows are left alone (staff may have renamed or re-mapped them), so re-running is a no-op;
    only a category's missing parent link or COICOP code is filled in (databases seeded before the tree).
    """
    added = 0
    categories = {c.code: c for c in session.scalars(select(Category))}
    products = {p.code: p for p in session.scalars(select(Product))}
    taken_aliases = set(session.scalars(select(ProductAlias.alias)))
    for category_spec in load_catalogue():
        parent = categories.get(category_spec.parent) if category_spec.parent else None
        category = categories.get(category_spec.code)
        if category is None:
            category = Category(
                code=category_spec.code, name=category_spec.name, parent=parent, coicop=category_spec.coicop
            )
            session.add(category)
            categories[category_spec.code] = category
            added += 1
        else:
            if category.parent_id is None and category.parent is None and parent is not None:
                category.parent = parent
            if category.coicop is None and category_spec.coicop is not None:
                category.coicop = category_spec.coicop
        for spec in category_spec.products:
            product = products.get(spec.code)
            if product is None:
                product = Product(code=spec.code, name=spec.name, category=category, standard_unit=spec.unit)
                session.add(product)
                products[spec.code] = product
                added += 1
            for alias in (spec.name, *spec.aliases):
                if alias not in taken_aliases:
                    session.add(ProductAlias(product=product, alias=alias))
                    taken_aliases.add(alias)
                    added += 1
    session.flush()
    return added
