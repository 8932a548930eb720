"""Limits, headers, CSRF and bad input against the real app: each refusal a clear 4xx in one JSON shape."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.csrf import CSRF_COOKIE, CsrfProtected, csrf_token
from api.main import create_app
from api.rate_limits import MAX_TRACKED_CLIENTS, RateLimiter
from core.config import Settings
from core.models import Complaint
from tests.utils.auth import login_headers, make_association, make_user

COMPLAINT = {"text": "超市鸡蛋标价8元一斤，结账时收了12元，多收钱。", "district": "南岗区"}


def _assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    assert "Traceback" not in response.text
    if code:
        assert body["error"]["code"] == code
    return dict(body["error"])


def _client(settings: Settings, **changes: Any) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=changes)), raise_server_exceptions=False)


@pytest.fixture
def small_client(settings: Settings) -> Iterator[TestClient]:
    with _client(settings, max_request_bytes=2_000) as client:
        yield client


def _complaints(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Complaint)) or 0


def test_oversized_body_is_413_and_nothing_stored(small_client: TestClient, session: Session) -> None:
    payload = {**COMPLAINT, "text": "多收钱" * 1_000}
    error = _assert_error(small_client.post("/api/complaints", json=payload), 413, "payload_too_large")
    assert "2000" in error["message"]
    assert _complaints(session) == 0


def test_streamed_oversized_body_without_length_is_413(small_client: TestClient, session: Session) -> None:
    body = json.dumps({**COMPLAINT, "text": "多收钱" * 1_000}).encode()

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 500):
            yield body[start : start + 500]

    response = small_client.post(
        "/api/complaints", content=chunks(), headers={"Content-Type": "application/json"}
    )
    _assert_error(response, 413, "payload_too_large")
    assert _complaints(session) == 0


def test_body_within_limit_passes(small_client: TestClient) -> None:
    assert small_client.post("/api/complaints", json=COMPLAINT).status_code == 201


def test_anonymous_clients_are_rate_limited_with_retry_after(settings: Settings) -> None:
    with _client(settings, rate_limit_per_minute=3) as client:
        answers = [client.get("/api/complaints/track/TS-NOPE").status_code for _ in range(4)]
        limited = client.get("/api/complaints/track/TS-NOPE")

        assert answers == [404, 404, 404, 429]
        _assert_error(limited, 429, "rate_limited")
        assert 1 <= int(limited.headers["Retry-After"]) <= 20
        assert client.get("/api/health").status_code == 200


def test_token_bucket_refills_at_the_configured_rate() -> None:
    limiter = RateLimiter()
    assert [limiter.take("10.0.0.1", "public", 2, now=0.0) for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("10.0.0.1", "public", 2, now=0.0) == pytest.approx(30.0)
    assert limiter.take("10.0.0.2", "public", 2, now=0.0) == 0.0
    assert limiter.take("10.0.0.1", "public", 2, now=29.0) > 0
    assert limiter.take("10.0.0.1", "public", 2, now=31.0) == 0.0


def test_token_buckets_forget_idle_clients_first() -> None:
    limiter = RateLimiter()
    limiter.take("busy", "public", 1, now=100.0)
    for number in range(MAX_TRACKED_CLIENTS - 1):
        limiter.take(f"idle-{number}", "public", 1, now=0.0)
    limiter.take("newcomer", "public", 1, now=100.0)
    assert set(limiter.buckets) == {("busy", "public"), ("newcomer", "public")}
    assert limiter.take("busy", "public", 1, now=100.0) > 0


def test_staff_calls_have_their_own_larger_allowance(settings: Settings, session: Session) -> None:
    make_user(session, "xiehui", "consumer_staff")
    with _client(settings, rate_limit_per_minute=12) as client:
        headers = login_headers(client, "xiehui")
        for _ in range(12):
            client.get("/api/complaints/track/TS-NOPE")
        assert client.get("/api/complaints/track/TS-NOPE").status_code == 429
        assert client.get("/api/users/me", headers=headers).status_code == 200


def test_login_attempts_are_limited_tighter(settings: Settings) -> None:
    with _client(settings, rate_limit_per_minute=24) as client:
        answers = [
            client.post("/api/auth/token", data={"username": "x", "password": "guess"}).status_code
            for _ in range(3)
        ]
    assert answers == [401, 401, 429]


def test_api_responses_carry_security_headers(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "Strict-Transport-Security" not in response.headers


def _page_app(settings: Settings) -> FastAPI:
    """The real app plus one form page, built the way the dashboard pages are meant to use CSRF."""
    app = create_app(settings)

    @app.get("/complaint-form", response_class=HTMLResponse)
    def form_page(request: Request) -> str:
        nonce = request.state.csp_nonce
        return (
            f'<form method="post"><input name="csrf_token" value="{csrf_token(request)}">'
            f'<input name="text"></form><script nonce="{nonce}">1</script>'
        )

    @app.post("/complaint-form", response_class=HTMLResponse)
    def submit(_: CsrfProtected, text: str = Form(...)) -> str:
        return f"<p>收到 {len(text)} 字</p>"

    return app


@pytest.fixture
def pages(settings: Settings) -> Iterator[TestClient]:
    with TestClient(_page_app(settings)) as client:
        yield client


def _form_token(page: Any) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def test_pages_get_a_nonce_csp_and_a_strict_csrf_cookie(pages: TestClient) -> None:
    page = pages.get("/complaint-form")

    csp = page.headers["Content-Security-Policy"]
    nonce = re.search(r'<script nonce="([^"]+)">', page.text)
    assert nonce and f"'nonce-{nonce.group(1)}'" in csp
    assert (
        "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    )
    cookie = page.headers["set-cookie"]
    assert cookie.startswith(f"{CSRF_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert pages.cookies[CSRF_COOKIE] == _form_token(page)


def test_form_post_with_matching_token_passes(pages: TestClient) -> None:
    token = _form_token(pages.get("/complaint-form"))
    response = pages.post("/complaint-form", data={"csrf_token": token, "text": "多收钱"})
    assert response.status_code == 200 and "收到 3 字" in response.text
    header_variant = pages.post("/complaint-form", data={"text": "多收钱"}, headers={"X-CSRF-Token": token})
    assert header_variant.status_code == 200


def test_form_post_reuses_the_cookie_token_on_later_pages(pages: TestClient) -> None:
    first = _form_token(pages.get("/complaint-form"))
    second = pages.get("/complaint-form")
    assert _form_token(second) == first and "set-cookie" not in second.headers


@pytest.mark.parametrize(
    "forge",
    ["missing", "wrong-field", "no-cookie", "unsigned-pair"],
)
def test_form_post_without_valid_token_is_403(pages: TestClient, forge: str) -> None:
    token = _form_token(pages.get("/complaint-form"))
    data = {"text": "多收钱", "csrf_token": token}
    if forge == "missing":
        del data["csrf_token"]
    elif forge == "wrong-field":
        data["csrf_token"] = token[:-2] + "00"
    elif forge == "no-cookie":
        pages.cookies.clear()
    else:
        pages.cookies.set(CSRF_COOKIE, "attacker.chosen")
        data["csrf_token"] = "attacker.chosen"
    _assert_error(pages.post("/complaint-form", data=data), 403, "forbidden")


def test_cors_allows_only_configured_origins(settings: Settings) -> None:
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "Authorization"}
    with _client(settings, cors_origins=["https://xiaoxie.harbin.example"]) as client:
        allowed = client.options(
            "/api/complaints", headers={"Origin": "https://xiaoxie.harbin.example", **preflight}
        )
        refused = client.options("/api/complaints", headers={"Origin": "https://evil.example", **preflight})
        simple = client.get("/api/health", headers={"Origin": "https://xiaoxie.harbin.example"})

    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://xiaoxie.harbin.example"
    assert refused.status_code == 400 and "Access-Control-Allow-Origin" not in refused.headers
    assert simple.headers["Access-Control-Allow-Origin"] == "https://xiaoxie.harbin.example"


def test_no_cors_headers_without_configured_origins(client: TestClient) -> None:
    response = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_unexpected_errors_are_500_without_details(settings: Settings) -> None:
    app = create_app(settings)

    @app.get("/api/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/boom")
    error = _assert_error(response, 500, "internal_error")
    assert "hunter2" not in response.text and error["details"] is None


@pytest.fixture
def staff(client: TestClient, session: Session) -> dict[str, str]:
    make_association(session, "xiaoxie", [], consumer=True)
    make_user(session, "xiehui", "consumer_staff")
    return login_headers(client, "xiehui")


BAD_INPUT: dict[str, tuple[str, str, dict[str, Any], int]] = {
    "unknown-route": ("GET", "/api/nowhere", {}, 404),
    "wrong-method": ("DELETE", "/api/complaints", {}, 405),
    "malformed-json": (
        "POST",
        "/api/complaints",
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        422,
    ),
    "text-wrong-type": ("POST", "/api/complaints", {"json": {"text": 12345}}, 422),
    "amount-not-a-number": ("POST", "/api/complaints", {"json": {**COMPLAINT, "amount": "十二元"}}, 422),
    "negative-amount": ("POST", "/api/complaints", {"json": {**COMPLAINT, "amount": -5}}, 422),
    "body-not-an-object": ("POST", "/api/complaints", {"json": ["a", "list"]}, 422),
    "impossible-date": ("GET", "/api/complaints", {"params": {"created_from": "2026-02-30"}}, 422),
    "not-a-date": ("GET", "/api/complaints", {"params": {"created_from": "yesterday"}}, 422),
    "negative-page": ("GET", "/api/complaints", {"params": {"page": "-1"}}, 422),
    "huge-size": ("GET", "/api/complaints", {"params": {"size": "1e9"}}, 422),
    "impossible-datetime": ("GET", "/api/audit", {"params": {"since": "2026-13-01T00:00"}}, 422),
    "id-not-an-int": ("GET", "/api/complaints/abc", {}, 404),
    "huge-id": ("POST", "/api/users/99999999999999999999/disable", {}, 403),
    "id-past-64-bits": ("GET", "/api/complaints/99999999999999999999999", {}, 422),
    "nul-in-path": ("GET", "/api/complaints/track/TS-%00", {}, 400),
    "nul-in-query": ("GET", "/api/complaints", {"params": {"district": "南岗\x00区"}}, 400),
    "wrong-content-type": (
        "POST",
        "/api/complaints",
        {"content": b"text=x", "headers": {"Content-Type": "text/plain"}},
        422,
    ),
}


def test_bad_input_is_a_clear_4xx(client: TestClient, staff: dict[str, str], session: Session) -> None:
    for case, (method, path, kwargs, status) in BAD_INPUT.items():
        options = dict(kwargs)
        response = client.request(method, path, headers=staff | options.pop("headers", {}), **options)
        assert response.status_code == status, f"{case}: {response.status_code} {response.text}"
        _assert_error(response, status)
    assert _complaints(session) == 0


INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE complaints;--",
    '" OR 1=1 --',
    "南岗区' UNION SELECT password_hash FROM users--",
    'text:"口罩" OR NEAR(a b) AND *',
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "💥🔥 ^$ \\ %_",
]


def test_injection_strings_are_plain_data(
    client: TestClient, staff: dict[str, str], session: Session
) -> None:
    client.post("/api/complaints", json=COMPLAINT)
    for attack in INJECTIONS:
        filtered = client.get("/api/complaints", params={"district": attack, "nature": attack}, headers=staff)
        bad_status = client.get("/api/complaints", params={"status": attack}, headers=staff)
        tracked = client.get(f"/api/complaints/track/{attack}")
        audited = client.get("/api/audit", params={"actor": attack}, headers=staff)
        searched = client.get("/api/complaints/search", params={"q": attack}, headers=staff)

        assert filtered.status_code == 200 and filtered.json()["count"] == 0, attack
        assert bad_status.status_code == 422 and "received" in bad_status.text, attack
        assert tracked.status_code in (404, 422), attack
        assert audited.status_code == 200 and audited.json()["count"] == 0, attack
        assert searched.status_code == 200 and searched.json()["total"] <= 1, attack  # symbols alone: all
    assert _complaints(session) == 1


TRAVERSALS = [
    "../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "/etc/shadow",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "....//....//secret.csv",
    "报表\r\nSet-Cookie: session=stolen",
]


def test_export_file_names_cannot_traverse_or_inject_headers(
    client: TestClient, staff: dict[str, str]
) -> None:
    client.post("/api/complaints", json=COMPLAINT)
    for attack in TRAVERSALS:
        response = client.get(
            "/api/complaints/search/export", params={"q": "鸡蛋", "filename": attack}, headers=staff
        )
        assert response.status_code == 200, attack
        disposition = response.headers["Content-Disposition"]
        name = unquote(disposition.split("filename*=UTF-8''", 1)[1])
        assert name.endswith(".csv") and not name.startswith("."), attack
        assert not {"/", "\\", "\r", "\n"} & set(name) and ".." not in name, attack
        assert "set-cookie" not in {key.lower() for key in response.headers}, attack
    wrong_format = client.get("/api/complaints/search/export", params={"format": "../../x"}, headers=staff)
    _assert_error(wrong_format, 422)


def test_static_files_cannot_be_reached_outside_their_folder(client: TestClient) -> None:
    for attack in (
        "..%2f..%2fcore%2fconfig.py",
        "%2e%2e/%2e%2e/pyproject.toml",
        "%2e%2e%2f%2e%2e%2fREADME.md",
    ):
        response = client.get(f"/static/{attack}")
        assert response.status_code == 404, attack
        assert "FAIRMARKET_" not in response.text and "[project]" not in response.text, attack
