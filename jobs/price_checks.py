"""Complaint-triggered price checks: a complaint about a seller and a good leads to a look at its shop page.

A cycle (the scheduler's ``price_checks`` job, every ``schedule_price_check_seconds``):

1. ``request_price_checks``: recent complaints that name a merchant and a good (the form's fields, or
   names recognised in the text) get a ``price_checks`` row. When the crawlers know the seller's product
   page (an earlier ``product_page`` observation of that seller and good, or a ``sites.yaml`` record of
   that merchant) it is ``pending``, and complaints naming the same seller and good share one
   ``check_key``; otherwise the row says why no check can run (``no_site``: a registered merchant
   without a page the crawlers know; ``unknown_merchant``: the named merchant is not in the register).
   The price the complaint states is read in any unit the catalogue normalises (斤, kg, 个, 只, 瓶, 升 …,
   :mod:`core.units`) and converted to the good's standard unit.
2. ``run_due_checks``: each pending key is crawled once — at most ``MAX_CRAWLS_PER_SITE`` crawls per site
   per cycle, none while the same key was crawled within ``RECHECK_MINUTES`` (its result is reused),
   through the polite ``product_page`` spider (robots.txt, the site's delay) — and every complaint of
   the key gets the price shown now, the price it complained about and the market median that day.

Detection reads ``done`` checks whose shown price stands above the market median as a confirmed price
and raises the severity of an alert they are linked to by one level.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import china_date
from core.config import Settings
from core.display_names import price_unit_name
from core.models import (
    Complaint,
    CrawlRun,
    Merchant,
    PriceCheck,
    PriceObservation,
    Product,
    ProductAlias,
    utcnow,
)
from core.units import COUNT_UNITS, GRAMS_PER_UNIT, LITRES_PER_UNIT, UnitError, normalise_price
from crawlers.sites import load_sites, site_for

log = logging.getLogger(__name__)

#: Complaints filed this long ago or less are considered for a check.
LOOKBACK = dt.timedelta(days=2)
#: A key crawled this recently is not crawled again; its result is linked to new complaints.
RECHECK_MINUTES = 60
MAX_CRAWLS_PER_SITE = 1

_UNITS = "|".join(
    sorted(
        (re.escape(unit) for unit in [*GRAMS_PER_UNIT, *LITRES_PER_UNIT, *COUNT_UNITS]), key=len, reverse=True
    )
)
_MONEY = r"(?:元|块)(?:钱)?"
# "6.4元一斤", "6.4元/斤", "30元一只", "12元/500毫升", "一斤6.4元", "每瓶卖15元", "每升要8块".
_PRICE_PER_UNIT = re.compile(
    rf"(?P<price>\d+(?:\.\d+)?)\s*{_MONEY}\s*(?:/|一|每|1)\s*(?P<unit>(?:\d+(?:\.\d+)?\s*)?(?:{_UNITS}))"
    rf"|(?:一|每|1)\s*(?P<unit2>{_UNITS})\s*(?:卖|要|收|是)?\s*(?P<price2>\d+(?:\.\d+)?)\s*{_MONEY}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ComplainedPrice:
    """The price a complaint states: per the good's standard unit when it converts, else why not."""

    unit_price: float | None
    note: str | None = None


def read_complained_price(text: str, standard_unit: str = "500g") -> ComplainedPrice | None:
    """The price per standard unit a complaint states ("鸡蛋一斤卖9元" -> 9.0 元/500g, "口罩30元一只" ->
    30.0 元/piece), or None when it states none [元 per ``standard_unit``]."""
    match = _PRICE_PER_UNIT.search(text or "")
    if match is None:
        return None
    price = float(match.group("price") or match.group("price2"))
    unit = (match.group("unit") or match.group("unit2")).replace(" ", "")
    try:
        normalised = normalise_price(price, f"元/{unit}", standard_unit=standard_unit)
    except UnitError:
        return ComplainedPrice(
            None, f"投诉所述价格 {price:g}元/{unit} 无法换算为{price_unit_name(standard_unit)}，未作比较"
        )
    return ComplainedPrice(round(normalised.unit_price, 4))


def complained_unit_price(text: str, standard_unit: str = "500g") -> float | None:
    """:func:`read_complained_price`'s price alone [元 per ``standard_unit``]."""
    stated = read_complained_price(text, standard_unit)
    return stated.unit_price if stated else None


@dataclass(frozen=True)
class KnownPage:
    site: str
    urls: tuple[str, ...]


def _site_name(url: str) -> str:
    site = site_for(url, load_sites())
    return site.name if site is not None and "*" not in site.domains else urlsplit(url).hostname or url


def known_page(session: Session, merchant: Merchant, product_id: int) -> KnownPage | None:
    """Where the crawlers can see this seller's price of this good: a page they fetched before, or the
    product pages of the merchant's record in ``sites.yaml``."""
    url = session.scalar(
        select(PriceObservation.url)
        .where(
            PriceObservation.merchant_id == merchant.id,
            PriceObservation.product_id == product_id,
            PriceObservation.spider == "product_page",
            PriceObservation.url.is_not(None),
        )
        .order_by(PriceObservation.fetched_at.desc())
        .limit(1)
    )
    if url:
        return KnownPage(_site_name(url), (url,))
    for site in load_sites().values():
        if site.merchant == merchant.name and site.product_urls:
            return KnownPage(site.name, site.product_urls)
    return None


def _names(session: Session) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Merchant and product names (aliases too), longest first, for recognising them in a text."""
    merchants = [(name, mid) for mid, name in session.execute(select(Merchant.id, Merchant.name))]
    products = [(name, pid) for pid, name in session.execute(select(Product.id, Product.name))]
    products += [
        (alias, pid) for pid, alias in session.execute(select(ProductAlias.product_id, ProductAlias.alias))
    ]
    by_length: Callable[[tuple[str, int]], int] = lambda pair: -len(pair[0])  # noqa: E731
    return sorted(merchants, key=by_length), sorted(products, key=by_length)


def _recognised(text: str, names: Sequence[tuple[str, int]]) -> int | None:
    return next((identifier for name, identifier in names if len(name) >= 2 and name in text), None)


NO_SITE_NOTE = (
    "该经营者没有可采集的商品页（crawlers/sites.yaml 中没有它的记录，也从未采集过它这件商品的页面），"
    "未能核查现价"
)
UNKNOWN_MERCHANT_NOTE = "投诉所写的经营者“{name}”不在经营者名录中，无法确定其网店或商品页，未能核查现价"


def request_price_checks(session: Session, *, now: dt.datetime | None = None) -> int:
    """Add a check for each recent complaint naming a seller and a good; commits.

    ``pending`` when the seller's page is known, else a finished row saying why no check can run.
    """
    now = now or utcnow()
    checked = select(PriceCheck.complaint_id)
    complaints = session.scalars(
        select(Complaint).where(Complaint.created_at >= now - LOOKBACK, Complaint.id.not_in(checked))
    ).all()
    if not complaints:
        return 0
    merchant_names, product_names = _names(session)
    added = 0
    for complaint in complaints:
        text = " ".join(filter(None, (complaint.title, complaint.text, complaint.merchant_name)))
        merchant_id = complaint.merchant_id or _recognised(complaint.merchant_name or text, merchant_names)
        product_id = complaint.product_id or _recognised(text, product_names)
        merchant = session.get(Merchant, merchant_id) if merchant_id else None
        product = session.get(Product, product_id) if product_id else None
        if product is None or (merchant is None and not (complaint.merchant_name or "").strip()):
            continue
        stated = read_complained_price(complaint.text, product.standard_unit) or ComplainedPrice(None)
        check = PriceCheck(
            complaint_id=complaint.id,
            merchant_id=merchant.id if merchant else None,
            product_id=product.id,
            requested_at=now,
            complained_price=stated.unit_price,
            note=stated.note,
        )
        page = known_page(session, merchant, product.id) if merchant else None
        if page is not None:
            check.site, check.status = page.site, "pending"
            check.check_key = f"{page.site}:{check.merchant_id}:{product.id}"
        else:
            reason = (
                NO_SITE_NOTE
                if merchant
                else UNKNOWN_MERCHANT_NOTE.format(name=(complaint.merchant_name or "").strip()[:60])
            )
            check.site, check.status = "", "no_site" if merchant else "unknown_merchant"
            check.check_key = f"{check.status}:{complaint.id}"
            check.checked_at = now
            check.note = "；".join(filter(None, (reason, stated.note)))
        session.add(check)
        added += 1
    session.commit()
    return added


Crawl = Callable[[list[str], Settings, dict[str, str]], list[int]]


def _latest_result(session: Session, check: PriceCheck, since: dt.datetime) -> PriceObservation | None:
    """The seller's price of the good as crawled today (China's day): a re-crawl the same day adds none."""
    today = china_date(since)
    return session.scalar(
        select(PriceObservation)
        .where(
            PriceObservation.merchant_id == check.merchant_id,
            PriceObservation.product_id == check.product_id,
            PriceObservation.price_type == "retail",
            PriceObservation.observed_date >= today - dt.timedelta(days=1),
        )
        .order_by(PriceObservation.fetched_at.desc(), PriceObservation.id.desc())
        .limit(1)
    )


def _market_median(session: Session, observation: PriceObservation) -> float | None:
    prices = session.scalars(
        select(PriceObservation.unit_price).where(
            PriceObservation.product_id == observation.product_id,
            PriceObservation.observed_date == observation.observed_date,
            PriceObservation.price_type == "retail",
        )
    ).all()
    return round(statistics.median(prices), 4) if prices else None


def _recently_crawled(session: Session, key: str, now: dt.datetime) -> PriceCheck | None:
    return session.scalar(
        select(PriceCheck)
        .where(
            PriceCheck.check_key == key,
            PriceCheck.status.in_(("done", "no_price")),
            PriceCheck.checked_at >= now - dt.timedelta(minutes=RECHECK_MINUTES),
        )
        .order_by(PriceCheck.checked_at.desc())
        .limit(1)
    )


def run_due_checks(
    session: Session, settings: Settings, crawl: Crawl, *, now: dt.datetime | None = None
) -> dict[str, int]:
    """Crawl each pending key once (per-site limit); link the result to each complaint of the key."""
    now = now or utcnow()
    pending = session.scalars(
        select(PriceCheck).where(PriceCheck.status == "pending").order_by(PriceCheck.id)
    ).all()
    by_key: dict[str, list[PriceCheck]] = defaultdict(list)
    for check in pending:
        by_key[check.check_key].append(check)
    crawls_per_site: dict[str, int] = defaultdict(int)
    stats = {"pending": len(pending), "crawls": 0, "linked": 0, "deferred": 0}
    for key, checks in by_key.items():
        first = checks[0]
        earlier = _recently_crawled(session, key, now)
        run_id = earlier.crawl_run_id if earlier else None
        if earlier is None:
            if crawls_per_site[first.site] >= MAX_CRAWLS_PER_SITE:
                stats["deferred"] += len(checks)
                continue
            merchant = session.get(Merchant, first.merchant_id)
            page = known_page(session, merchant, first.product_id) if merchant else None
            if page is None:
                _finish(checks, status="failed", now=now, note="商品页已不在采集范围内")
                session.commit()
                continue
            crawls_per_site[first.site] += 1
            stats["crawls"] += 1
            run_ids = crawl(["product_pages"], settings, {"urls": ",".join(page.urls)})
            run_id = run_ids[0] if run_ids else None
            session.expire_all()
        run = session.get(CrawlRun, run_id) if run_id else None
        observation = _latest_result(session, first, now)
        if observation is None:
            note = f"采集未得到价格（{run.status if run else '未运行'}）"
            _finish(checks, status="no_price", now=now, note=note, run_id=run_id)
        else:
            median = _market_median(session, observation)
            for check in checks:
                check.observation_id = observation.id
                check.shown_price = observation.unit_price
                check.market_median = median
            _finish(checks, status="done", now=now, run_id=run_id)
            stats["linked"] += len(checks)
        session.commit()
    return stats


def _finish(
    checks: list[PriceCheck],
    *,
    status: str,
    now: dt.datetime,
    note: str | None = None,
    run_id: int | None = None,
) -> None:
    for check in checks:
        check.status = status
        check.checked_at = now
        check.note = "；".join(filter(None, (note, check.note)))
        check.crawl_run_id = run_id


def confirmed_prices(session: Session) -> dict[int, PriceCheck]:
    """Checks that back their complaint, by complaint id: the seller showed a price above that day's
    market median."""
    rows = session.scalars(
        select(PriceCheck).where(
            PriceCheck.status == "done",
            PriceCheck.market_median.is_not(None),
            PriceCheck.shown_price > PriceCheck.market_median,
        )
    )
    return {check.complaint_id: check for check in rows}
