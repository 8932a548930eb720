"""Public price views: a good's price series and the price indices, for charts and dashboards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Literal

import pandas as pd
from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from analysis.aggregates import Frequency, price_aggregates
from analysis.baskets import Basket
from api.public_reads import PublicReadsDep
from api.schemas.prices import (
    IndexPoint,
    MerchantRef,
    PriceIndexPublic,
    PricePoint,
    PriceSeriesPublic,
    PriceType,
)
from api.schemas.products import product_public
from core.models import Category, Merchant, Product
from core.price_reads import latest_price_date, read_daily_prices, read_observations
from jobs.index_series import DEFAULT_METHOD, IndexSpec, Method, published_index
from web.baskets import baskets_stamp, read_baskets
from web.deps import SettingsDep

router = APIRouter(prefix="/prices", tags=["prices"])

#: Longest window one request may ask for, so a chart never scans the whole table.
MAX_WINDOW_DAYS = 3 * 366
SERIES_DEFAULT_DAYS = 90
INDEX_DEFAULT_DAYS = 365
#: Ids longer than this are no ids (and would overflow an INTEGER column).
MAX_ID_DIGITS = 9
#: Text parameters: no control characters (PostgreSQL refuses NUL), a sane length.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f]*$"


def _not_found(message: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, message)


def _invalid(message: str) -> HTTPException:
    return HTTPException(422, message)


def find_product(session: Session, reference: str) -> Product:
    """A good by code, Chinese name or id."""
    conditions = [Product.code == reference, Product.name == reference]
    if reference.isascii() and reference.isdigit() and len(reference) <= MAX_ID_DIGITS:
        conditions.append(Product.id == int(reference))
    product = session.scalar(
        select(Product).where(or_(*conditions)).options(selectinload(Product.category)).limit(1)
    )
    if product is None:
        raise _not_found(f"未知商品：{reference}")
    return product


def resolve_window(
    start: dt.date | None, end: dt.date | None, latest: dt.date | None, default_days: int
) -> tuple[dt.date, dt.date]:
    """The requested window, defaulting to the last ``default_days`` up to the newest price."""
    if end is None:
        end = max(latest or dt.date.today(), start or dt.date.min)
    if start is None:
        start = end - dt.timedelta(days=default_days - 1) if end.toordinal() > default_days else dt.date.min
    if start > end:
        raise _invalid(f"起始日期 {start} 晚于结束日期 {end}")
    if (end - start).days + 1 > MAX_WINDOW_DAYS:
        raise _invalid(f"查询区间过长：最多 {MAX_WINDOW_DAYS} 天")
    return start, end


@router.get("/series", response_model=PriceSeriesPublic)
async def price_series(
    request: Request,
    reads: PublicReadsDep,
    product: str = Query(
        ...,
        min_length=1,
        max_length=100,
        pattern=TEXT_PATTERN,
        description="product code, Chinese name or id",
    ),
    region: str | None = Query(
        None,
        max_length=100,
        pattern=TEXT_PATTERN,
        description="region (city or district) as stored with the prices",
    ),
    merchant: int | None = Query(
        None, ge=1, le=2**31 - 1, description="merchant id: one seller's prices only"
    ),
    start: dt.date | None = Query(None, alias="from", description="first day (YYYY-MM-DD)"),
    end: dt.date | None = Query(None, alias="to", description="last day (YYYY-MM-DD)"),
    frequency: Frequency = Query("day"),
    price_type: PriceType = Query("retail"),
    origin: str | None = Query(
        None, max_length=60, pattern=TEXT_PATTERN, description="variant: where the good comes from (冀, 云南)"
    ),
    spec: str | None = Query(
        None, max_length=80, pattern=TEXT_PATTERN, description="variant: spec or grade as quoted (大, 精品)"
    ),
) -> Response:
    """Low, average, high and median unit price of a good per day, week or month.

    Over all variants (origins, specs) of the good unless ``origin`` or ``spec`` picks some.
    """
    key = ("series", product, region, merchant, start, end, frequency, price_type, origin, spec)
    return await reads.respond(
        request,
        key,
        lambda session: compute_series(
            session,
            product=product,
            region=region,
            merchant=merchant,
            start=start,
            end=end,
            frequency=frequency,
            price_type=price_type,
            origin=origin,
            spec=spec,
        ),
    )


def compute_series(
    session: Session,
    *,
    product: str,
    region: str | None,
    merchant: int | None,
    start: dt.date | None,
    end: dt.date | None,
    frequency: Frequency,
    price_type: PriceType,
    origin: str | None = None,
    spec: str | None = None,
) -> PriceSeriesPublic:
    good = find_product(session, product)
    seller = session.get(Merchant, merchant) if merchant is not None else None
    if merchant is not None and seller is None:
        raise _not_found(f"未知经营者：{merchant}")
    latest = latest_price_date(session, product_ids=[good.id], price_type=price_type, region=region)
    start, end = resolve_window(start, end, latest, SERIES_DEFAULT_DAYS)
    if merchant is None and origin is None and spec is None:
        rows = read_daily_prices(
            session, product_id=good.id, start=start, end=end, price_type=price_type, region=region
        )
    else:
        rows = read_observations(
            session,
            product_ids=[good.id],
            start=start,
            end=end,
            price_type=price_type,
            region=region,
            merchant_id=merchant,
            origin=origin,
            spec=spec,
        )
    aggregates = price_aggregates(rows, by=(), frequency=frequency)
    points = [
        PricePoint(
            period=row.period.date(),
            low=round(row.low, 4),
            avg=round(row.avg, 4),
            high=round(row.high, 4),
            median=round(row.median, 4),
            count=row.count,
        )
        for row in aggregates.itertuples(index=False)
    ]
    return PriceSeriesPublic(
        product=product_public(good),
        region=region,
        merchant=MerchantRef(id=seller.id, name=seller.name) if seller else None,
        price_type=price_type,
        frequency=frequency,
        start=start,
        end=end,
        data=points,
        count=len(points),
    )


def default_basket(baskets: dict[str, Basket]) -> str:
    """The standard basket: the first one of the basket file (the shipped file's is ``livelihood``)."""
    if not baskets:
        raise _not_found("未配置价格篮子 (no basket configured)")
    return next(iter(baskets))


@dataclass(frozen=True)
class IndexSubject:
    """What an index request is about: a basket (with weights) or a category, and its goods."""

    kind: Literal["basket", "category"]
    code: str
    name: str
    product_codes: dict[int, str]
    weights: dict[str, float] | None = None


def find_index_subject(
    session: Session, baskets: dict[str, Basket], *, basket: str | None, category: str | None
) -> IndexSubject:
    if basket is not None and category is not None:
        raise _invalid("basket（价格篮子）与 category（商品类别）只能指定其一")
    if category is None:
        chosen = baskets.get(basket) if basket is not None else None  # the route resolved the default
        if chosen is None:
            raise _not_found(f"未知的价格篮子：{basket}")
        goods = session.execute(
            select(Product.id, Product.code).where(Product.code.in_(list(chosen.weights)))
        )
        return IndexSubject(
            "basket",
            chosen.code,
            chosen.name,
            {product_id: code for product_id, code in goods},
            chosen.weights,
        )
    found = session.scalar(select(Category).where(Category.code == category))
    if found is None:
        raise _not_found(f"未知的商品类别：{category}")
    goods = session.execute(
        select(Product.id, Product.code)
        .join(Product.category)
        .where(or_(Category.id == found.id, Category.parent_id == found.id))
    )
    return IndexSubject("category", found.code, found.name, {product_id: code for product_id, code in goods})


@router.get("/index", response_model=PriceIndexPublic)
async def price_index(
    request: Request,
    reads: PublicReadsDep,
    settings: SettingsDep,
    basket: str | None = Query(
        None, min_length=1, max_length=100, pattern=TEXT_PATTERN, description="basket code, e.g. livelihood"
    ),
    category: str | None = Query(
        None, min_length=1, max_length=100, pattern=TEXT_PATTERN, description="category code, e.g. vegetables"
    ),
    city: str | None = Query(
        None,
        max_length=100,
        pattern=TEXT_PATTERN,
        description="region (city or district) as stored; all when empty",
    ),
    start: dt.date | None = Query(None, alias="from", description="first day (YYYY-MM-DD)"),
    end: dt.date | None = Query(None, alias="to", description="last day (YYYY-MM-DD)"),
    price_type: PriceType = Query("retail"),
    method: Method = Query(DEFAULT_METHOD, description="geks_jevons (published default) or chained_jevons"),
) -> Response:
    """The published index of a category, or of a basket of goods with configured weights.

    Neither given: the standard basket (the first of the basket file); both given: 422.

    One series per index, region, price type and method, computed over all history with a fixed
    base: any window is a slice of it, never rebased. GEKS-Jevons over a rolling 395-day window with a
    mean splice by default; the chained daily Jevons on request.
    """
    # Stamped before reading: a file written meanwhile makes the repeated answer fail its guard.
    by_basket = category is None
    guard = (partial(baskets_stamp, settings), baskets_stamp(settings)) if by_basket else None
    baskets = read_baskets(settings) if by_basket else {}
    if by_basket and basket is None:
        basket = default_basket(baskets)

    def compute(session: Session) -> PriceIndexPublic:
        subject = find_index_subject(session, baskets, basket=basket, category=category)
        latest = latest_price_date(
            session, product_ids=subject.product_codes, price_type=price_type, region=city
        )
        window = resolve_window(start, end, latest, INDEX_DEFAULT_DAYS)
        return compute_index(
            session,
            subject,
            city=city,
            start=window[0],
            end=window[1],
            price_type=price_type,
            method=method,
        )

    chosen = baskets.get(basket) if basket is not None else None
    weights = tuple(sorted(chosen.weights.items())) if chosen else None
    key = ("index", basket, chosen and chosen.name, weights, category, city, start, end, price_type, method)
    return await reads.respond(request, key, compute, guard)


def compute_index(
    session: Session,
    subject: IndexSubject,
    *,
    city: str | None,
    start: dt.date,
    end: dt.date,
    price_type: PriceType,
    method: Method = DEFAULT_METHOD,
) -> PriceIndexPublic:
    spec = IndexSpec(
        kind=subject.kind,
        code=subject.code,
        product_codes=subject.product_codes,
        weights=subject.weights,
        region=city,
        price_type=price_type,
        method=method,
    )
    published = published_index(session, spec, start=start, end=end)
    opened = published.provisional_from
    points = [
        IndexPoint(
            date=day.date(),
            index=None if pd.isna(value) else round(float(value), 4),
            matched=int(matched),
            priced=int(priced),
            provisional=opened is not None and day.date() >= opened,
        )
        for day, value, matched, priced in zip(
            published.values["date"],
            published.values["index"],
            published.values["matched"],
            published.values["priced"],
            strict=True,
        )
    ]
    return PriceIndexPublic(
        kind=subject.kind,
        code=subject.code,
        name=subject.name,
        city=city,
        price_type=price_type,
        method=published.method,
        window=published.window_days,
        splice=published.splice,
        base_period=published.base_date,
        base_date=published.base_date,
        provisional_from=opened,
        start=start,
        end=end,
        data=points,
        count=len(points),
    )
