"""Complaint-triggered price checks: complaints naming a shop the crawlers know lead to one polite crawl of
its page (a fixture shop on 127.0.0.1) and the price it shows now, linked to every such complaint."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from analysis.rules import SEVERITIES
from core.catalogue import seed_catalogue
from core.config import Settings
from core.db import session_factory
from core.models import Alert, CrawlRun, PriceCheck, PriceObservation, Product
from core.prices import get_or_create_merchant
from jobs.detection import run_detection
from jobs.price_checks import complained_unit_price, read_complained_price
from jobs.scheduler import execute_job
from sample_city.seeding import load_sample_city
from tests.crawlers.fixture_site import FixtureSite, serve
from tests.utils.alerts import staff_headers
from tests.utils.auth import make_association

SHOP = "鲜丰超市(南岗店)"
PAGE = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>鲜鸡蛋 500g</title>
<script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "Product", "name": "鲜鸡蛋 500g",
  "offers": {{"@type": "Offer", "price": "9.00", "priceCurrency": "CNY",
             "availability": "https://schema.org/InStock",
             "seller": {{"@type": "Organization", "name": "{SHOP}"}}}}}}
</script></head><body><h1>鲜鸡蛋 500g</h1></body></html>""".encode()


def _observation(
    session: Session, merchant: str, product: Product, day: dt.date, price: float, url: str | None
) -> None:
    shop = get_or_create_merchant(session, merchant)
    session.add(
        PriceObservation(
            natural_key=f"{merchant}-{day}",
            source="product_pages",
            merchant_id=shop.id,
            product_id=product.id,
            region="",
            observed_at=dt.datetime.combine(day, dt.time()),
            observed_date=day,
            price=Decimal(str(price)),
            raw_unit="500g",
            unit_price=price,
            standard_unit="500g",
            url=url,
            spider="product_page" if url else None,
        )
    )


@pytest.mark.parametrize(
    ("text", "standard_unit", "price"),
    [
        ("鸡蛋一斤卖9元", "500g", 9.0),
        ("9.5元/斤", "500g", 9.5),
        ("每公斤20元", "500g", 10.0),
        ("鸡蛋12块一斤", "500g", 12.0),
        ("大米5元/500克", "500g", 5.0),
        ("口罩一只卖30元", "piece", 30.0),
        ("口罩30元一个", "piece", 30.0),
        ("面包每袋要8元", "piece", 8.0),
        ("矿泉水2元/瓶", "piece", 2.0),
        ("酱油15元一盒", "piece", 15.0),
        ("散装白酒每升卖40元", "L", 40.0),
        ("鲜奶6元/500毫升", "L", 12.0),
        ("花生油一升20块", "L", 20.0),
        ("涨价了", "500g", None),
    ],
)
def test_complained_unit_price(text: str, standard_unit: str, price: float | None) -> None:
    assert complained_unit_price(text, standard_unit) == price


def test_a_complained_price_in_a_unit_that_cannot_convert_says_so() -> None:
    stated = read_complained_price("鸡蛋2元一个，太贵", "500g")
    assert stated is not None and stated.unit_price is None
    assert stated.note == "投诉所述价格 2元/个 无法换算为元/500克，未作比较"


def test_ten_complaints_about_a_known_shop_lead_to_one_crawl_and_a_linked_price(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    with serve(FixtureSite(pages={"/item/egg.html": (200, "text/html; charset=utf-8", PAGE)})) as site:
        with session_factory(engine)() as session:
            seed_catalogue(session)
            eggs = session.scalars(select(Product).where(Product.code == "eggs")).one()
            _observation(session, SHOP, eggs, today - dt.timedelta(days=5), 6.0, f"{site.url}/item/egg.html")
            _observation(session, "邻家便利", eggs, today, 5.0, None)
            _observation(session, "好又多超市", eggs, today, 5.2, None)
            session.commit()
            consumer = make_association(session, "xiaoxie", [], consumer=True)
            headers = staff_headers(session, settings, "xiehui", "consumer_staff", consumer)
        filed = [
            client.post(
                "/api/complaints", json={"text": f"{SHOP}的鸡蛋一斤卖9元，比别家贵很多（第{n}位顾客）"}
            ).json()
            for n in range(10)
        ]
        assert execute_job("price_checks", settings, engine, owner="host:1:test") == "ok"
        pages = [request for request in site.requests if request[1] == "/item/egg.html"]
        assert len(pages) == 1

        with session_factory(engine)() as session:
            checks = session.scalars(select(PriceCheck).order_by(PriceCheck.complaint_id)).all()
            assert [check.complaint_id for check in checks] == [item["id"] for item in filed]
            assert {(c.status, c.shown_price, c.complained_price, c.market_median) for c in checks} == {
                ("done", 9.0, 9.0, 5.2)
            }
            assert session.scalar(select(func.count()).select_from(CrawlRun)) == 1

        # A later complaint about the same shop and good reuses the fresh result: no second crawl.
        late = client.post(
            "/api/complaints", json={"text": "鸡蛋太贵了，一斤9元", "merchant_name": SHOP}
        ).json()
        assert execute_job("price_checks", settings, engine, owner="host:1:test") == "ok"
        assert len([request for request in site.requests if request[1] == "/item/egg.html"]) == 1

    shown = client.get(f"/api/complaints/{late['id']}", headers=headers).json()
    assert shown["price_check"]["status"] == "done"
    assert (shown["price_check"]["shown_price"], shown["price_check"]["market_median"]) == (9.0, 5.2)


PHARMACY = "康民大药房(道里店)"
MASK_PAGE = f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>医用外科口罩</title>
<script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "Product", "name": "医用外科口罩 10只/袋",
  "offers": {{"@type": "Offer", "price": "25.00", "priceCurrency": "CNY",
             "availability": "https://schema.org/InStock",
             "seller": {{"@type": "Organization", "name": "{PHARMACY}"}}}}}}
</script></head><body><h1>医用外科口罩 10只/袋</h1></body></html>""".encode()


def test_a_per_piece_good_is_checked_and_compared_per_piece(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    """口罩 are priced per piece: the shop's 25 元 bag of 10 and the complaint's "一只卖3元" meet as 元/件."""
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    with serve(FixtureSite(pages={"/item/mask.html": (200, "text/html; charset=utf-8", MASK_PAGE)})) as site:
        with session_factory(engine)() as session:
            seed_catalogue(session)
            masks = session.scalars(select(Product).where(Product.code == "surgical_mask")).one()
            assert masks.standard_unit == "piece"
            _observation(
                session, PHARMACY, masks, today - dt.timedelta(days=3), 2.0, f"{site.url}/item/mask.html"
            )
            _observation(session, "惠民药店", masks, today, 1.0, None)
            session.commit()
        filed = client.post(
            "/api/complaints", json={"text": f"{PHARMACY}的外科口罩一只卖3元，哄抬价格"}
        ).json()
        assert execute_job("price_checks", settings, engine, owner="host:1:test") == "ok"
    with session_factory(engine)() as session:
        check = session.scalars(select(PriceCheck).where(PriceCheck.complaint_id == filed["id"])).one()
        assert (check.status, check.complained_price, check.shown_price) == ("done", 3.0, 2.5), check.note
        assert check.market_median == 1.75


def test_a_complaint_without_a_known_page_says_why_no_check_ran(
    client: TestClient, engine: Engine, settings: Settings
) -> None:
    with session_factory(engine)() as session:
        seed_catalogue(session)
        get_or_create_merchant(session, SHOP)
        session.commit()
        consumer = make_association(session, "xiaoxie", [], consumer=True)
        headers = staff_headers(session, settings, "xiehui", "consumer_staff", consumer)
    no_site = client.post("/api/complaints", json={"text": "鸡蛋一斤卖9元太贵", "merchant_name": SHOP}).json()
    client.post("/api/complaints", json={"text": "服务态度差", "merchant_name": "不存在的店"})
    unknown = client.post(
        "/api/complaints", json={"text": "口罩一只卖30元，哄抬价格", "merchant_name": "路边小药摊"}
    ).json()
    assert execute_job("price_checks", settings, engine, owner="host:1:test") == "ok"
    assert execute_job("price_checks", settings, engine, owner="host:1:test") == "ok"
    with session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(PriceCheck)) == 2
        assert session.scalar(select(func.count()).select_from(CrawlRun)) == 0

    shown = client.get(f"/api/complaints/{no_site['id']}", headers=headers).json()["price_check"]
    assert shown["status"] == "no_site" and shown["checked_at"] is not None
    assert "没有可采集的商品页" in shown["note"] and "sites.yaml" in shown["note"]
    assert (shown["complained_price"], shown["standard_unit"]) == (9.0, "500g")
    shown = client.get(f"/api/complaints/{unknown['id']}", headers=headers).json()["price_check"]
    assert shown["status"] == "unknown_merchant" and "“路边小药摊”不在经营者名录中" in shown["note"]
    assert (shown["complained_price"], shown["standard_unit"]) == (30.0, "piece")


def test_detection_raises_severity_when_a_linked_complaint_has_a_confirmed_price(
    engine: Engine, settings: Settings
) -> None:
    with session_factory(engine)() as session:
        load_sample_city(session, end=dt.date(2026, 6, 30), days=40, complaints=120)
        run_detection(session, settings)
        alert = next(
            alert
            for alert in session.scalars(
                select(Alert).where(Alert.merchant_id.is_not(None)).order_by(Alert.id)
            )
            if alert.evidence.get("complaints") and alert.severity != "critical"
        )
        before, complaint_id = alert.severity, alert.evidence["complaints"][0]
        session.add(
            PriceCheck(
                complaint_id=complaint_id,
                merchant_id=alert.merchant_id,
                product_id=alert.product_id,
                site="fixture",
                check_key="fixture:1:1",
                status="done",
                checked_at=dt.datetime(2026, 6, 30, 2),
                shown_price=9.0,
                market_median=5.0,
            )
        )
        session.commit()
        run_detection(session, settings)
        session.refresh(alert)
        assert SEVERITIES.index(alert.severity) == SEVERITIES.index(before) + 1
        assert alert.evidence["confirmed_prices"][0]["complaint"] == complaint_id
