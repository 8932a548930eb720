"""Repeated public reads answered before routing: the same answer, and still current after writes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from core.config import Settings
from core.models import Product
from tests.utils.prices import SERIES, seed_pork_series

ROOT = Path(__file__).resolve().parents[2]
#: Headers a repeated answer must carry exactly as the route's first answer did.
SAME_HEADERS = (
    "etag",
    "last-modified",
    "cache-control",
    "content-type",
    "content-length",
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
)


@pytest.fixture
def pork(engine: object, session: Session) -> Product:
    return seed_pork_series(session)


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/prices/series", SERIES),
        ("/api/prices/index", {"category": "meat_poultry_egg", "from": "2024-03-04", "to": "2024-03-06"}),
        ("/api/prices/index", {"basket": "livelihood"}),
        ("/api/products", {"category": "meat_poultry_egg"}),
        ("/api/products/categories", {}),
    ],
)
def test_a_repeated_read_is_the_routes_answer_byte_for_byte(
    client: TestClient, pork: Product, path: str, params: dict[str, str]
) -> None:
    first = client.get(path, params=params)
    repeated = [client.get(path, params=params) for _ in range(3)]

    assert first.status_code == 200, first.text
    for again in repeated:
        assert again.status_code == 200
        assert again.content == first.content
        assert {name: again.headers.get(name) for name in SAME_HEADERS} == {
            name: first.headers.get(name) for name in SAME_HEADERS
        }
    revalidated = client.get(path, params=params, headers={"If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""


def test_a_repeated_refusal_is_refused_again(client: TestClient, pork: Product) -> None:
    for _ in range(3):
        response = client.get("/api/prices/series", params={"product": "pork", "from": "yesterday"})
        assert response.status_code == 422
        assert "etag" not in response.headers


def _store_pork_in_another_process(db_url: str) -> None:
    """One more 猪肉 price, stored by a separate Python process (as an import or another worker would)."""
    script = f"""
import datetime as dt
from sqlalchemy import select
from core.db import make_engine, session_factory
from core.models import Product
from core.prices import PriceInput, store_observations
with session_factory(make_engine({db_url!r}))() as session:
    pork = session.scalars(select(Product).where(Product.code == "pork")).one()
    store_observations(session, [PriceInput(
        source="test_market", product_id=pork.id, observed_at=dt.datetime(2024, 3, 4, 10), price=15.0,
        raw_unit="斤", unit_price=15.0, standard_unit=pork.standard_unit, merchant="大润发", region="哈尔滨",
    )])
    session.commit()
"""
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=os.environ, check=True)


def test_prices_stored_by_another_process_reach_repeated_reads(
    client: TestClient, pork: Product, db_url: str
) -> None:
    first = client.get("/api/prices/series", params=SERIES)
    assert client.get("/api/prices/series", params=SERIES).content == first.content

    _store_pork_in_another_process(db_url)

    # No commit in this process tells the worker: it asks the data version again within its refresh
    # interval (half a second); the loop only bounds the wait.
    deadline = time.monotonic() + 30
    again = client.get("/api/prices/series", params=SERIES)
    while again.headers["etag"] == first.headers["etag"] and time.monotonic() < deadline:
        time.sleep(0.1)
        again = client.get("/api/prices/series", params=SERIES)
    assert again.headers["etag"] != first.headers["etag"]
    assert again.json()["data"][0]["count"] == 2


def test_a_rewritten_basket_file_changes_the_repeated_index(
    client: TestClient, pork: Product, settings: Settings
) -> None:
    baskets = settings.data_dir / "basket.yaml"
    basket = "baskets:\n  - {{code: staples, name: {name}, weights: {{pork: 1}}}}\n"
    baskets.write_text(basket.format(name="猪肉篮子"), encoding="utf-8")
    params = {"basket": "staples"}
    assert client.get("/api/prices/index", params=params).json()["name"] == "猪肉篮子"
    assert client.get("/api/prices/index", params=params).json()["name"] == "猪肉篮子"

    written = baskets.stat().st_mtime_ns
    baskets.write_text(basket.format(name="肉类篮子"), encoding="utf-8")
    os.utime(baskets, ns=(written + 1_000_000_000, written + 1_000_000_000))  # a distinct stamp

    assert client.get("/api/prices/index", params=params).json()["name"] == "肉类篮子"
