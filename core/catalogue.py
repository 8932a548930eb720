"""The catalogue of livelihood goods and the matcher that maps a source's product name onto it.

The catalogue itself is data (``catalogue.yaml``); seeding it is idempotent so every start, demo and test
can call :func:`seed_catalogue`. Matching is exact or by a conservative normalisation, never fuzzy: an
unmatched name is recorded for a person to map, a wrong match would silently corrupt price series.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.models import Category, Product, ProductAlias, UnmappedItem
from core.units import STANDARD_UNITS

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")

# Words that grade, package or locate a good without changing what it is.
GRADE_WORDS = (
    "精品",
    "精选",
    "优质",
    "优级",
    "特级",
    "一级",
    "二级",
    "三级",
    "特价",
    "新鲜",
    "本地",
    "外地",
    "散装",
    "袋装",
    "盒装",
    "有机",
    "绿色",
    "特惠",
    "促销",
)
BRACKETED = re.compile(r"[(\[【（「<《].*?[)\]】）」>》]")
GRADE_PATTERN = re.compile("|".join(sorted(GRADE_WORDS, key=len, reverse=True)))
SEPARATORS = re.compile(r"[\s·•,，、/\\_\-—]+")


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    unit: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    products: tuple[ProductSpec, ...]


@cache
def load_catalogue(path: Path = CATALOGUE_FILE) -> tuple[CategorySpec, ...]:
    """Read and check the catalogue file: unique codes and names, known units, each alias used once."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    categories = tuple(
        CategorySpec(
            code=category["code"],
            name=category["name"],
            products=tuple(
                ProductSpec(
                    code=product["code"],
                    name=product["name"],
                    unit=product["unit"],
                    aliases=tuple(product.get("aliases") or ()),
                )
                for product in category["products"]
            ),
        )
        for category in raw["categories"]
    )
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


def seed_catalogue(session: Session) -> int:
    """Add missing categories, goods and aliases; return how many rows were added. The caller commits.

    Existing rows are left alone (staff may have renamed or re-mapped them), so re-running is a no-op.
    """
    added = 0
    categories = {c.code: c for c in session.scalars(select(Category))}
    products = {p.code: p for p in session.scalars(select(Product))}
    taken_aliases = set(session.scalars(select(ProductAlias.alias)))
    for category_spec in load_catalogue():
        category = categories.get(category_spec.code)
        if category is None:
            category = Category(code=category_spec.code, name=category_spec.name)
            session.add(category)
            added += 1
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


def normalise_name(raw_name: str) -> str:
    """Strip what varies between sources but not between goods: width, spaces, brackets, grade words.

    "  精品 大白菜（1）" and "大白菜" normalise alike; "鸡蛋" and "鸡肉" stay different.
    """
    name = unicodedata.normalize("NFKC", raw_name).strip()
    name = BRACKETED.sub("", name)
    name = GRADE_PATTERN.sub("", name)
    name = SEPARATORS.sub("", name)
    return name.upper()


class ProductMatcher:
    """Maps raw product names to catalogue goods: exact alias first, then normalised alias."""

    def __init__(self, aliases: dict[str, Product]) -> None:
        self._exact = dict(aliases)
        self._normalised: dict[str, Product | None] = {}
        for alias, product in aliases.items():
            key = normalise_name(alias)
            if not key:
                continue
            known = self._normalised.get(key, product)
            # Two goods whose aliases normalise alike: refuse to guess between them.
            self._normalised[key] = product if known is product else None

    @classmethod
    def from_session(cls, session: Session) -> ProductMatcher:
        rows = session.scalars(select(ProductAlias).options(selectinload(ProductAlias.product)))
        aliases = {row.alias: row.product for row in rows}
        for product in session.scalars(select(Product)):
            aliases.setdefault(product.name, product)
        # Names staff have mapped from the unmapped list count as aliases too.
        resolved = session.execute(
            select(UnmappedItem.raw_name, Product).join(
                Product, Product.id == UnmappedItem.resolved_product_id
            )
        )
        for raw_name, product in resolved:
            aliases.setdefault(raw_name, product)
        return cls(aliases)

    def match(self, raw_name: str) -> Product | None:
        if not raw_name or not raw_name.strip():
            return None
        exact = self._exact.get(raw_name.strip())
        if exact is not None:
            return exact
        return self._normalised.get(normalise_name(raw_name))
