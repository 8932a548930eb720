"""Provisional goods (待归类): every real price is stored, even under a name no catalogue good claims.

A name the matcher cannot place becomes a good of its own with ``status = "provisional"``, in the
category its source gives (or 待归类), with a standard unit inferred from how it is priced. Its prices are
stored, charted and judged from the first day; staff later merge it into the catalogued good it really
is (:func:`merge_provisional`), which moves its history and its names there, and can undo that
(:func:`undo_merge`). A merge records the observation days it touched, for the index and detectors to
recompute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from core import audit
from core.catalogue import ProductMatcher, Suggestion, category_for_source_name, normalise_name
from core.models import (
    Category,
    PriceDailyAggregate,
    PriceObservation,
    Product,
    ProductAlias,
    ProductMerge,
    utcnow,
)
from core.prices import _insert, add_to_daily_aggregates, price_natural_key
from core.units import normalise_price, pack_unit_in_name

CATALOGUED = "catalogued"
PROVISIONAL = "provisional"
MERGED = "merged"
UNCLASSIFIED_CODE = "unclassified"
UNCLASSIFIED_NAME = "待归类"
MAX_NAME = 60
# Code words of the packs a good may be sold by (菠菜（份） is spinach-per-portion), ASCII as codes are.
PACK_CODES = {
    "份": "portion",
    "袋": "bag",
    "盒": "box",
    "包": "pack",
    "把": "bunch",
    "个": "each",
    "束": "bunch",
}


class MergeError(ValueError):
    """A merge or its undo cannot be done (wrong goods, nothing to undo); the message says why in Chinese."""


def provisional_code(name: str) -> str:
    """A stable code for a provisional good: the same name gets the same code on every database."""
    return "provisional-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]


def clean_source_name(raw_name: str) -> str:
    """The name a provisional good is shown by: the source's own, with its spacing tidied."""
    return " ".join(raw_name.split())[:MAX_NAME]


class GoodsResolver:
    """Finds the good of a source's name: a catalogued one, an existing provisional one, or a new one.

    New provisional goods are inserted with ``ON CONFLICT DO NOTHING`` on their code, so two crawlers
    meeting a new name at once end up with the same good. The caller commits.
    """

    def __init__(self, session: Session, matcher: ProductMatcher | None = None) -> None:
        self.session = session
        self.matcher = matcher or ProductMatcher.from_session(session)
        self._created: dict[str, Product] = {}
        self._categories: dict[str, Category] = {}
        self._packs: dict[tuple[int, str], Product] = {}
        self.provisional_created = 0
        #: Goods this resolver inserted: provisional ones and pack forms (the caller commits them).
        self.goods_created = 0
        #: Ids of the provisional goods this resolver has handed out.
        self.provisional_ids: set[int] = set()

    def match(self, raw_name: str) -> Product | None:
        product = self.matcher.match(raw_name)
        if product is not None:
            return product
        return self._created.get(normalise_name(raw_name))

    def resolve(
        self,
        raw_name: str,
        *,
        unit: str,
        spec: str | None = None,
        category: str | Sequence[str | None] | None = None,
    ) -> Product:
        """The good for ``raw_name``; a provisional one is created when nothing matches.

        ``category`` is the source's category name for the row, or several, the most specific first
        (Xinfadi's ``prodPcat`` before its ``prodCat``); the first the catalogue knows is used.

        Raises :class:`core.units.UnitError` for a new name priced in a unit no standard unit follows from.
        """
        product = self.match(raw_name)
        pack = pack_unit_in_name(raw_name, spec)
        if product is None:
            standard_unit = "piece" if pack else normalise_price(1, unit, spec).standard_unit
            product = self._provision(raw_name, standard_unit, category)
        elif pack is not None and product.standard_unit != "piece":
            product = self.pack_form(product, pack)
        if product.status == PROVISIONAL:
            self.provisional_ids.add(product.id)
        return product

    def pack_form(self, good: Product, pack: str) -> Product:
        """``good`` sold by the ``pack`` (份, 袋, 盒 …) of unknown weight: a good of its own, priced per pack.

        A portion of spinach (CUMCM 菠菜(份)) cannot be put per 500 g, and mixing its price into 菠菜's
        series would corrupt it; so it is the good 菠菜（份） (code ``spinach-per-portion``), in the same
        category and of the same status, standard unit ``piece``. Created on first use, idempotently.
        """
        key = (good.id, pack)
        if key not in self._packs:
            code = f"{good.code}-per-{PACK_CODES.get(pack) or pack.encode().hex()}"[:60]
            name = f"{good.name}（{pack}）"[:MAX_NAME]
            self.session.execute(
                _insert(self.session, Product)
                .values(
                    code=code,
                    name=name,
                    category_id=good.category_id,
                    standard_unit="piece",
                    essential=False,
                    status=good.status,
                )
                .on_conflict_do_nothing()
            )
            found = self.session.scalar(select(Product).where(Product.code == code))
            if found is None:  # the name is taken by another good (a staff rename): use that one
                found = self.session.scalar(select(Product).where(Product.name == name))
            assert found is not None
            self._packs[key] = found
            self.goods_created += 1
        return self._packs[key]

    def _category(self, source_category: str | Sequence[str | None] | None) -> Category:
        names = [source_category] if isinstance(source_category, str) else list(source_category or ())
        key = "\x1f".join(name or "" for name in names)
        if key not in self._categories:
            found = None
            for name in names:
                code = category_for_source_name(name)
                found = self.session.scalar(
                    select(Category).where(
                        Category.code == code if code else Category.name == (name or "").strip()
                    )
                )
                if found is not None:
                    break
            self._categories[key] = found or self._unclassified()
        return self._categories[key]

    def _unclassified(self) -> Category:
        found = self.session.scalar(select(Category).where(Category.code == UNCLASSIFIED_CODE))
        if found is None:
            self.session.execute(
                _insert(self.session, Category)
                .values(code=UNCLASSIFIED_CODE, name=UNCLASSIFIED_NAME)
                .on_conflict_do_nothing()
            )
            found = self.session.scalar(select(Category).where(Category.code == UNCLASSIFIED_CODE))
        assert found is not None
        return found

    def _provision(
        self, raw_name: str, standard_unit: str, source_category: str | Sequence[str | None] | None
    ) -> Product:
        name = clean_source_name(raw_name)
        code = provisional_code(name)
        category = self._category(source_category)
        self.session.execute(
            _insert(self.session, Product)
            .values(
                code=code,
                name=name,
                category_id=category.id,
                standard_unit=standard_unit,
                essential=False,
                status=PROVISIONAL,
            )
            .on_conflict_do_nothing()
        )
        product = self.session.scalar(select(Product).where(Product.code == code))
        if product is None:  # the name belongs to a good the matcher does not know by it (renamed)
            product = self.session.scalar(select(Product).where(Product.name == name))
        assert product is not None
        for alias in {name, raw_name.strip()[:80]}:
            self.session.execute(
                _insert(self.session, ProductAlias)
                .values(product_id=product.id, alias=alias)
                .on_conflict_do_nothing()
            )
        self._created[normalise_name(raw_name)] = product
        self._created[normalise_name(name)] = product
        self.provisional_created += 1
        self.goods_created += 1
        return product


# --- review and merge --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvisionalGood:
    """A provisional good as staff review it: how much history it has, and goods it may really be."""

    product: Product
    observations: int
    first_day: dt.date | None
    last_day: dt.date | None
    aliases: list[str]
    suggestions: list[Suggestion]


Suggester = Callable[[str, int], list[Suggestion]]


def catalogued_suggester(session: Session) -> Suggester:
    """The matcher's ranked suggestions for a name, catalogued goods only (a merge target must be one)."""
    matcher = ProductMatcher.from_session(session)

    def suggest(name: str, limit: int) -> list[Suggestion]:
        found = matcher.suggest(name, limit + 5)
        return [item for item in found if item.product.status == CATALOGUED][:limit]

    return suggest


def review_provisional(
    session: Session, *, limit: int = 100, suggest: Suggester | None = None
) -> list[ProvisionalGood]:
    """Provisional goods, most observations first, each with suggestions for the good it may be."""
    counts = (
        select(
            PriceObservation.product_id,
            func.count().label("rows"),
            func.min(PriceObservation.observed_date).label("first"),
            func.max(PriceObservation.observed_date).label("last"),
        )
        .group_by(PriceObservation.product_id)
        .subquery()
    )
    statement = (
        select(Product, counts.c.rows, counts.c.first, counts.c.last)
        .outerjoin(counts, counts.c.product_id == Product.id)
        .where(Product.status == PROVISIONAL)
        .options(selectinload(Product.category), selectinload(Product.aliases))
        .order_by(func.coalesce(counts.c.rows, 0).desc(), Product.name)
        .limit(limit)
    )
    suggester = suggest or catalogued_suggester(session)
    return [
        ProvisionalGood(
            product=product,
            observations=rows or 0,
            first_day=first,
            last_day=last,
            aliases=sorted(alias.alias for alias in product.aliases),
            suggestions=suggester(product.name, 3),
        )
        for product, rows, first, last in session.execute(statement)
    ]


def find_good(session: Session, reference: str) -> Product:
    """A good by code, name or id; :class:`MergeError` when there is none."""
    reference = reference.strip()
    conditions = [Product.code == reference, Product.name == reference]
    if reference.isascii() and reference.isdigit() and len(reference) <= 9:
        conditions.append(Product.id == int(reference))
    for condition in conditions:
        product = session.scalar(select(Product).where(condition).options(selectinload(Product.category)))
        if product is not None:
            return product
    raise MergeError(f"未知商品：{reference}")


def _rekey(session: Session, provisional: Product, target: Product, rows: list[PriceObservation]) -> int:
    """File ``rows`` under ``target`` with their natural keys recomputed; returns how many moved.

    A row whose new key is taken (the same quote stored under both names) moves with its old key: it
    is kept, and a re-import of either quote finds the key of the one already filed under the good.
    """
    taken = set(
        session.scalars(select(PriceObservation.natural_key).where(PriceObservation.product_id == target.id))
    )
    for row in rows:
        key = price_natural_key(
            row.source,
            row.merchant.name if row.merchant else None,
            target.id,
            row.region,
            row.observed_at,
            origin=row.origin,
            spec=row.spec,
            package=row.package,
            source_name=row.source_name,
            source_record_id=row.source_record_id,
        )
        if key not in taken:
            taken.add(key)
            row.natural_key = key
        row.merged_from_id = provisional.id if target.status != PROVISIONAL else None
        row.product_id = target.id
    session.flush()
    return len(rows)


def _recount_days(session: Session, product_ids: list[int], days: list[dt.date]) -> None:
    """Rebuild the daily aggregates of these goods on these days from their observations (after a move)."""
    if not days:
        return
    session.execute(
        delete(PriceDailyAggregate).where(
            PriceDailyAggregate.product_id.in_(product_ids), PriceDailyAggregate.observed_date.in_(days)
        )
    )
    columns = (
        PriceObservation.product_id,
        PriceObservation.price_type,
        PriceObservation.region,
        PriceObservation.observed_date,
        PriceObservation.unit_price,
    )
    rows = session.execute(
        select(*columns).where(
            PriceObservation.product_id.in_(product_ids), PriceObservation.observed_date.in_(days)
        )
    )
    add_to_daily_aggregates(session, [row._asdict() for row in rows])


def _unit_compatible(provisional: Product, target: Product) -> None:
    if provisional.standard_unit != target.standard_unit:
        raise MergeError(
            f"单位不同：{provisional.name} 按 {provisional.standard_unit} 计价，{target.name} 按"
            f" {target.standard_unit} 计价，不能合并 (standard units differ)"
        )


def merge_provisional(session: Session, provisional: Product, target: Product, *, actor: str) -> ProductMerge:
    """Move a provisional good's prices and names into ``target``; audited. The caller commits."""
    if provisional.status != PROVISIONAL:
        raise MergeError(f"{provisional.name} 不是待归类商品 (not a provisional good)")
    if target.status != CATALOGUED:
        raise MergeError(f"{target.name} 不是已收录商品，只能合并到已收录商品 (target must be catalogued)")
    _unit_compatible(provisional, target)
    rows = list(
        session.scalars(
            select(PriceObservation)
            .where(PriceObservation.product_id == provisional.id)
            .options(selectinload(PriceObservation.merchant))
        )
    )
    touched = sorted({row.observed_date for row in rows})
    days = [day.isoformat() for day in touched]
    moved = _rekey(session, provisional, target, rows)
    _recount_days(session, [provisional.id, target.id], touched)
    aliases = list(session.scalars(select(ProductAlias).where(ProductAlias.product_id == provisional.id)))
    for alias in aliases:
        alias.product_id = target.id
    provisional.status = MERGED
    merge = ProductMerge(
        provisional_id=provisional.id,
        product_id=target.id,
        aliases=sorted(alias.alias for alias in aliases),
        observations=moved,
        days=days,
        merged_by=actor,
    )
    session.add(merge)
    session.flush()
    audit.record(
        session,
        actor,
        "product.merge",
        "product",
        provisional.id,
        before={"name": provisional.name, "status": PROVISIONAL},
        after={
            "merged_into": target.code,
            "aliases": merge.aliases,
            "observations": moved,
            "days": len(days),
            "first_day": days[0] if days else None,
            "last_day": days[-1] if days else None,
        },
    )
    return merge


def undo_merge(session: Session, provisional: Product, *, actor: str) -> ProductMerge:
    """Restore a merged provisional good: its prices and names go back to it; audited."""
    merge = session.scalar(
        select(ProductMerge)
        .where(ProductMerge.provisional_id == provisional.id, ProductMerge.undone_at.is_(None))
        .order_by(ProductMerge.id.desc())
        .limit(1)
    )
    if merge is None or provisional.status != MERGED:
        raise MergeError(f"{provisional.name} 没有可撤销的合并 (no merge to undo)")
    rows = list(
        session.scalars(
            select(PriceObservation)
            .where(
                PriceObservation.merged_from_id == provisional.id,
                PriceObservation.product_id == merge.product_id,
            )
            .options(selectinload(PriceObservation.merchant))
        )
    )
    provisional.status = PROVISIONAL
    _rekey(session, provisional, provisional, rows)
    _recount_days(session, [provisional.id, merge.product_id], sorted({row.observed_date for row in rows}))
    session.execute(
        update(ProductAlias)
        .where(ProductAlias.product_id == merge.product_id, ProductAlias.alias.in_(merge.aliases))
        .values(product_id=provisional.id)
    )
    merge.undone_at = utcnow()
    merge.undone_by = actor
    audit.record(
        session,
        actor,
        "product.unmerge",
        "product",
        provisional.id,
        before={"merged_into_id": merge.product_id, "status": MERGED},
        after={"status": PROVISIONAL, "observations": len(rows), "aliases": merge.aliases},
    )
    session.flush()
    return merge
