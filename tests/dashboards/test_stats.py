"""The public complaint statistics: aggregated counts only, hot words that identify no one."""

from __future__ import annotations

from importlib import resources

from fastapi.testclient import TestClient

from dashboards.stats import hot_words


def test_hot_words_need_enough_complaints_and_drop_numbers() -> None:
    texts = [f"充电宝在家里漏电起火，联系电话1380013800{i}" for i in range(5)] + ["空调安装收费很贵"]
    words = {word.label: word.count for word in hot_words(texts)}
    assert words["漏电"] == 5
    assert "空调" not in words
    assert not any(character.isdigit() for word in words for character in word)


def test_complaint_stats_counts_by_nature_industry_and_month(client: TestClient) -> None:
    for number in range(6):
        response = client.post(
            "/api/complaints",
            json={
                "text": f"超市的鸡蛋标价与结算价格不一致，多收了钱，我的电话是1390000000{number}",
                "consumer_name": f"张{number}",
            },
        )
        assert response.status_code == 201
    assert client.get("/api/stats/complaints", params={"months": 3}).json()["total"] == 6
    client.post("/api/complaints", json={"text": "超市鸡蛋过期还在卖"})
    stats = client.get("/api/stats/complaints", params={"months": 3}).json()
    assert stats["total"] == 7
    assert sum(count["count"] for count in stats["by_nature"]) == 7
    assert sum(count["count"] for count in stats["by_month"]) == 7
    assert len(stats["by_month"]) == 3
    shown = str(stats)
    assert "张" not in shown and "1390000000" not in shown
    assert any(word["label"] == "鸡蛋" for word in stats["hot_words"])


def test_complaint_stats_rejects_a_bad_window(client: TestClient) -> None:
    response = client.get("/api/stats/complaints", params={"months": 0})
    assert response.status_code == 422
    assert response.json()["error"]["code"]


def test_plotly_is_served_from_the_installed_wheel_and_static_stays_inside(client: TestClient) -> None:
    shipped = (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()
    bundle = client.get("/static/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert bundle.status_code == 200
    assert bundle.headers["content-encoding"] == "gzip"
    assert int(bundle.headers["content-length"]) < len(shipped) / 2
    assert bundle.content == shipped
    plain = client.get("/static/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == shipped
    css = client.get("/static/site.css")
    assert css.status_code == 200 and css.headers["cache-control"] == "public, max-age=3600"
    # StaticFiles revalidates: the same ETag back is a 304 without the body.
    again = client.get("/static/site.css", headers={"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert client.get("/static/..%2Fpages.py").status_code == 404
    assert client.get("/static/").status_code == 404  # no directory listings
    assert client.get("/static/missing.js").status_code == 404


def test_pages_are_chinese_html_with_a_script_nonce_free_csp(client: TestClient) -> None:
    response = client.get("/prices")
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert client.get("/staff/complaints/abc").status_code == 404
