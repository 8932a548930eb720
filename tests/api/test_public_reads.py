"""Public price reads: cached by data version, validated with ETag/Last-Modified, 304 on revalidation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from core.models import Product
from core.prices import store_observations
from tests.utils.prices import DAY, SERIES, pork_price, seed_pork_series


@pytest.fixture
def pork(engine: object, session: Session) -> Product:
    return seed_pork_series(session)


def test_series_carries_validators_and_answers_304_on_revalidation(client: TestClient, pork: Product) -> None:
    first = client.get("/api/prices/series", params=SERIES)
    assert first.status_code == 200
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert first.headers["cache-control"] == "public, max-age=300"

    by_etag = client.get("/api/prices/series", params=SERIES, headers={"If-None-Match": etag})
    by_date = client.get("/api/prices/series", params=SERIES, headers={"If-Modified-Since": modified})
    by_weak_list = client.get(
        "/api/prices/series", params=SERIES, headers={"If-None-Match": f'"other", W/{etag}'}
    )

    for revalidated in (by_etag, by_date, by_weak_list):
        assert revalidated.status_code == 304
        assert revalidated.content == b""
        assert revalidated.headers["etag"] == etag
    stale_date = client.get(
        "/api/prices/series", params=SERIES, headers={"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}
    )
    assert stale_date.status_code == 200 and stale_date.json() == first.json()


def test_new_prices_change_the_answer_and_its_etag(
    client: TestClient, session: Session, pork: Product
) -> None:
    first = client.get("/api/prices/series", params=SERIES)
    assert [point["count"] for point in first.json()["data"]] == [1, 1, 1]

    store_observations(session, [pork_price(pork, "大润发", DAY, 15.0)])
    session.commit()
    again = client.get("/api/prices/series", params=SERIES, headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 200
    assert again.headers["etag"] != first.headers["etag"]
    assert again.json()["data"][0] == {
        "period": "2024-03-04",
        "low": 13.0,
        "avg": 14.0,
        "high": 15.0,
        "median": 14.0,
        "count": 2,
    }


def test_index_answers_304_on_revalidation(client: TestClient, pork: Product) -> None:
    params = {"category": "meat_poultry_egg", "from": "2024-03-04", "to": "2024-03-06"}
    first = client.get("/api/prices/index", params=params)
    assert first.status_code == 200, first.text
    again = client.get("/api/prices/index", params=params, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_refusals_are_not_cached(client: TestClient, session: Session, pork: Product) -> None:
    for _ in range(2):
        response = client.get("/api/prices/series", params={"product": "龙肝凤髓"})
        assert response.status_code == 404
        assert "etag" not in response.headers
