"""What people read: Chinese names from the display table, no internal steps in public, pages for errors."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.main import create_app
from core.config import Settings
from core.db import session_factory
from tests.api.test_complaints import TEXT, Staff

INTERNAL_NOTE = "内部备注：复核后改派药店协会"


def _file(client: TestClient, channel: str | None = None) -> dict[str, Any]:
    params = {"channel": channel} if channel else {}
    response = client.post("/api/complaints", json={"text": TEXT, "district": "南岗区"}, params=params)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_tracking_view_hides_corrections_and_staff_notes_and_names_industry_and_association(
    client: TestClient, engine: Engine
) -> None:
    with session_factory(engine)() as session:
        staff = Staff(client, session)
        created = _file(client, channel="web_form")
        corrected = client.patch(
            f"/api/complaints/{created['id']}/classification",
            json={"industry": "pharmacy", "note": INTERNAL_NOTE},
            headers=staff["xiehui"],
        )
        assert corrected.status_code == 200
        detail = corrected.json()
        assert detail["channel"] == "web_form" and detail["channel_name"] == "网页表单"
        assert detail["industry_name"] == "药品零售"
        assert detail["timeline"][-1]["action_name"] == "更正分类"

    tracked = client.get(f"/api/complaints/track/{created['tracking_code']}").json()
    assert INTERNAL_NOTE not in str(tracked)
    assert [step["action"] for step in tracked["timeline"]] == ["received"]
    assert tracked["timeline"][0]["note"] == "投诉已登记（渠道：网页表单）"
    assert tracked["industry"] == "pharmacy" and tracked["industry_name"] == "药品零售"
    assert tracked["association_name"] == "yaodian协会"


def test_api_channel_is_the_default_and_unknown_channels_are_refused(client: TestClient) -> None:
    created = _file(client)
    tracked = client.get(f"/api/complaints/track/{created['tracking_code']}").json()
    assert tracked["timeline"][0]["note"] == "投诉已登记（渠道：接口提交）"
    refused = client.post("/api/complaints", json={"text": TEXT}, params={"channel": "import"})
    assert refused.status_code == 422


def test_steps_offered_follow_the_role(client: TestClient, engine: Engine) -> None:
    with session_factory(engine)() as session:
        staff = Staff(client, session)
        created = _file(client)
        url = f"/api/complaints/{created['id']}"
        assert client.get(url, headers=staff["xiehui"]).json()["allowed_steps"] == ["accepted", "rejected"]
        # The supermarket association mediates but may not accept: nothing to offer it yet.
        assert client.get(url, headers=staff["chaoshi"]).json()["allowed_steps"] == []
        client.post(f"{url}/transitions", json={"to_status": "accepted"}, headers=staff["xiehui"])
        assert client.get(url, headers=staff["chaoshi"]).json()["allowed_steps"] == ["mediating"]


def test_unknown_page_is_a_chinese_html_page_for_browsers_and_json_for_the_api(client: TestClient) -> None:
    page = client.get("/no-such-page", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "页面不存在" in page.text and "返回首页" in page.text
    api = client.get("/api/no-such-thing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"
    plain = client.get("/no-such-page")
    assert plain.status_code == 404 and plain.json()["error"]["code"] == "not_found"


def test_api_docs_load_their_assets_from_this_server(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    script = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    css = client.get("/static/vendor/swagger-ui/swagger-ui.css")
    assert css.status_code == 200 and css.headers["cache-control"] == "public, max-age=604800"
    assert client.get("/static/vendor/swagger-ui/..%2F..%2F__init__.py").status_code == 404
    assert client.get("/redoc", follow_redirects=False).headers["location"] == "/docs"


def test_alert_period_filter_refuses_a_reversed_range(client: TestClient) -> None:
    response = client.get("/api/alerts", params={"since": "2026-03-01", "until": "2026-02-01"})
    assert response.status_code == 422
    assert "起始日期晚于结束日期" in response.json()["error"]["message"]


def test_server_error_is_a_chinese_page_for_browsers_and_json_for_the_api(settings: Settings) -> None:
    app = create_app(settings)

    def fail() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/broken-page", fail)
    app.add_api_route("/api/broken", fail)
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/broken-page", headers={"Accept": "text/html"})
        assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
        assert "服务器出错了" in page.text and "boom" not in page.text
        api = client.get("/api/broken", headers={"Accept": "text/html"})
        assert api.status_code == 500 and api.json()["error"]["code"] == "internal_error"
