"""Role × endpoint matrix: every route of the app, called as every role, answers as declared below.

``MATRIX`` declares, for each route, the status each role gets. A route without an entry fails
``test_every_route_declares_who_may_call_it``, so a new endpoint cannot ship without saying who may
call it. Requests that change state act on a fresh record per call, so each role meets the same
starting point. Association A (supermarkets) owns the records; B (pharmacies) must never see them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.messages import alert_payload
from alerts.price_follows import sign_token
from api.main import create_app
from core.accounts import create_api_key
from core.config import Settings
from core.models import (
    Alert,
    Association,
    Category,
    ClassificationProposal,
    Complaint,
    CrawlRun,
    Delivery,
    PriceFollow,
    Product,
    Subscription,
    User,
)
from search.backends.base import SearchBackend
from search.service import get_search_backend, index_complaints
from tests.utils.auth import login_headers, make_association, make_user

ROLES = ("public", "staff_a", "staff_b", "consumer", "admin")

EVIDENCE = {
    "rule": {"title": "紧急状态期间涨价", "citation": "CA PC §396"},
    "reference": {"value": 3.2, "window": {"from": "2026-01-14", "to": "2026-01-20"}},
    "current": 5.6,
    "change": 0.75,
    "threshold": 0.1,
    "unit": "元/500g",
}


@dataclass(frozen=True)
class Access:
    """The status each role gets from one route."""

    public: int
    staff_a: int
    staff_b: int
    consumer: int
    admin: int

    def status_for(self, role: str) -> int:
        return int(getattr(self, role))


ANYONE = Access(200, 200, 200, 200, 200)
STAFF = Access(401, 200, 200, 200, 200)
CONSUMER_STAFF = Access(401, 403, 403, 200, 200)
ADMIN_ONLY = Access(401, 403, 403, 403, 200)
A_AND_CONSUMER_ASSOCIATION = Access(401, 200, 404, 200, 200)
"""Records of association A: its own staff and the consumer association; B gets a 404, not a hint."""
A_AND_CONSUMER_ASSOCIATION_ACT = Access(401, 200, 403, 200, 200)
"""Steps on A's public records (an alert): B may read them like anyone, so it is refused, not misled."""


_counter = itertools.count(1)


@dataclass
class World:
    """Two trade associations, the consumer association, one user per role, and records owned by A."""

    session: Session
    search: SearchBackend
    secret: str
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    association_a: Association | None = None
    association_b: Association | None = None

    @property
    def a_id(self) -> int:
        assert self.association_a is not None
        return self.association_a.id

    def add(self, record: Any) -> int:
        self.session.add(record)
        self.session.commit()
        return int(record.id)

    def complaint_of_a(self) -> int:
        """A complaint routed to A, indexed for search like a filed one."""
        number = next(_counter)
        complaint_id = self.add(
            Complaint(
                tracking_code=f"TS-MATRIX{number:04d}",
                text="超市鸡蛋标价8元一斤，结账时收了12元，多收钱。",
                nature="价格",
                industry="supermarket",
                association_id=self.a_id,
                status="received",
            )
        )
        assert index_complaints(self.session, [complaint_id], backend=self.search)
        return complaint_id

    def proposal_for_a(self) -> int:
        """A pending proposal (by A's staff) to move a complaint of A to the pharmacies."""
        return self.add(
            ClassificationProposal(
                complaint_id=self.complaint_of_a(),
                association_id=self.a_id,
                proposed_by="staff_a",
                industry="pharmacy",
                status="pending",
            )
        )

    def alert_of_a(self) -> int:
        return self.add(
            Alert(
                episode_key=f"matrix-{next(_counter)}",
                rule_id="emergency_rise",
                kind="price_rise",
                industry="supermarket",
                start_date=dt.date(2026, 1, 21),
                end_date=dt.date(2026, 1, 23),
                severity="high",
                evidence=EVIDENCE,
            )
        )

    def inbox_item_of_a(self) -> int:
        alert = self.session.get(Alert, self.alert_of_a())
        assert alert is not None
        return self.add(
            Delivery(
                dedupe_key=f"matrix-{next(_counter)}",
                alert_id=alert.id,
                association_id=self.a_id,
                channel="inbox",
                status="sent",
                payload=alert_payload(alert),
            )
        )

    def subscription_of_a(self) -> int:
        return self.add(
            Subscription(
                association_id=self.a_id, name="超市价格预警", industries=["supermarket"], channels=["inbox"]
            )
        )

    def crawl_run(self) -> int:
        return self.add(CrawlRun(spider="xinfadi", source="xinfadi", status="ok", pages=3, items_stored=120))

    def price_follow_token(self, purpose: Literal["confirm", "unsubscribe"]) -> str:
        """The link token of a fresh unconfirmed public follow of 大白菜 (anyone holding it may use it)."""
        cabbage = self.session.scalars(select(Product).where(Product.code == "cabbage")).one()
        follow = PriceFollow(
            product_id=cabbage.id, email=f"reader{next(_counter)}@example.cn", nonce=f"{next(_counter):032d}"
        )
        self.add(follow)
        return sign_token(self.secret, follow, purpose)

    def user(self) -> int:
        return self.add(
            User(
                username=f"matrix{next(_counter)}",
                role="consumer_staff",
                password_hash="!no-login",
            )
        )


Request = Callable[[World], dict[str, Any]]


def plain(**request: Any) -> Request:
    return lambda _world: dict(request)


def no_input(_world: World) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Route:
    access: Access
    request: Request = no_input


PAGE = Route(ANYONE)
"""An HTML shell: it holds no data and reads the JSON API with the visitor's own token; anyone may load it."""

MATRIX: dict[str, Route] = {
    "GET /": PAGE,
    "GET /prices": PAGE,
    "GET /price-index": PAGE,
    "GET /complaint-stats": PAGE,
    "GET /complaints/new": PAGE,
    "GET /track": PAGE,
    "GET /staff": Route(Access(307, 307, 307, 307, 307), plain(follow_redirects=False)),
    "GET /staff/login": PAGE,
    "GET /staff/complaints": PAGE,
    "GET /staff/complaints/{complaint_id:int}": Route(
        ANYONE, lambda w: {"path": {"complaint_id": w.complaint_of_a()}}
    ),
    "GET /staff/routed": PAGE,
    "GET /staff/provisional-goods": PAGE,
    "GET /staff/watches": PAGE,
    "GET /staff/alerts": PAGE,
    "GET /staff/crawls": PAGE,
    "GET /staff/jobs": PAGE,
    "GET /staff/inbox": PAGE,
    "GET /staff/subscriptions": PAGE,
    "GET /alerts": PAGE,
    "GET /merchants": PAGE,
    "GET /merchants/{merchant_id:int}": Route(ANYONE, plain(path={"merchant_id": 1})),
    "GET /api/merchants": Route(ANYONE),
    "GET /api/merchants/{merchant_id:int}": Route(
        Access(404, 404, 404, 404, 404), plain(path={"merchant_id": 987654})
    ),
    "GET /static/vendor/plotly.min.js": PAGE,
    "GET /api/stats/complaints": Route(ANYONE),
    "GET /openapi.json": Route(ANYONE),
    "GET /docs": Route(ANYONE),
    "GET /docs/oauth2-redirect": Route(ANYONE),
    "GET /redoc": Route(ANYONE),
    "GET /api/health": Route(ANYONE),
    "POST /api/auth/token": Route(
        Access(401, 401, 401, 401, 401), plain(data={"username": "nobody", "password": "wrong password"})
    ),
    "GET /api/users/me": Route(STAFF),
    "GET /api/users": Route(ADMIN_ONLY),
    "POST /api/users": Route(
        Access(401, 403, 403, 403, 201),
        lambda _w: {
            "json": {
                "username": f"new{next(_counter)}",
                "password": "a long passphrase",
                "role": "consumer_staff",
            }
        },
    ),
    "POST /api/users/{user_id}/disable": Route(ADMIN_ONLY, lambda w: {"path": {"user_id": w.user()}}),
    "POST /api/users/{user_id}/enable": Route(ADMIN_ONLY, lambda w: {"path": {"user_id": w.user()}}),
    "GET /api/audit": Route(CONSUMER_STAFF),
    "POST /api/complaints": Route(
        Access(201, 201, 201, 201, 201), plain(json={"text": "药店口罩一只卖30元，明显哄抬价格。"})
    ),
    "GET /api/complaints/track/{code}": Route(
        ANYONE, lambda w: {"path": {"code": w.session.get_one(Complaint, w.complaint_of_a()).tracking_code}}
    ),
    "GET /api/complaints": Route(STAFF),
    "GET /api/complaints/search": Route(STAFF, plain(params={"q": "鸡蛋 多收钱"})),
    "GET /api/complaints/search/export": Route(STAFF, plain(params={"q": "鸡蛋", "format": "csv"})),
    "GET /api/complaints/{complaint_id:int}": Route(
        A_AND_CONSUMER_ASSOCIATION, lambda w: {"path": {"complaint_id": w.complaint_of_a()}}
    ),
    "POST /api/complaints/{complaint_id:int}/transitions": Route(
        Access(401, 403, 404, 200, 200),  # accepting is the consumer association's call
        lambda w: {"path": {"complaint_id": w.complaint_of_a()}, "json": {"to_status": "accepted"}},
    ),
    "PATCH /api/complaints/{complaint_id:int}/classification": Route(
        CONSUMER_STAFF,  # trade associations propose instead
        lambda w: {"path": {"complaint_id": w.complaint_of_a()}, "json": {"nature": "价格"}},
    ),
    "POST /api/complaints/{complaint_id:int}/classification-proposals": Route(
        Access(401, 201, 404, 201, 201),
        lambda w: {"path": {"complaint_id": w.complaint_of_a()}, "json": {"industry": "pharmacy"}},
    ),
    "GET /api/complaints/classification-proposals": Route(CONSUMER_STAFF),
    "POST /api/complaints/classification-proposals/{proposal_id:int}/accept": Route(
        CONSUMER_STAFF, lambda w: {"path": {"proposal_id": w.proposal_for_a()}}
    ),
    "POST /api/complaints/classification-proposals/{proposal_id:int}/refuse": Route(
        CONSUMER_STAFF, lambda w: {"path": {"proposal_id": w.proposal_for_a()}}
    ),
    "POST /api/price-follows": Route(
        Access(202, 202, 202, 202, 202),
        lambda _w: {"json": {"email": f"reader{next(_counter)}@example.cn", "product": "cabbage"}},
    ),
    "POST /api/price-follows/confirm": Route(
        ANYONE, lambda w: {"params": {"token": w.price_follow_token("confirm")}}
    ),
    "POST /api/price-follows/unsubscribe": Route(
        ANYONE, lambda w: {"params": {"token": w.price_follow_token("unsubscribe")}}
    ),
    "GET /price-follows/confirm": Route(
        ANYONE, lambda w: {"params": {"token": w.price_follow_token("confirm")}}
    ),
    "GET /price-follows/unsubscribe": Route(
        ANYONE, lambda w: {"params": {"token": w.price_follow_token("unsubscribe")}}
    ),
    "GET /api/products": Route(ANYONE),
    "GET /api/products/categories": Route(ANYONE),
    "GET /api/prices/series": Route(ANYONE, plain(params={"product": "cabbage"})),
    "GET /api/prices/index": Route(ANYONE, plain(params={"category": "vegetables"})),
    "GET /api/alerts": Route(ANYONE),
    "GET /api/alerts/{alert_id:int}": Route(ANYONE, lambda w: {"path": {"alert_id": w.alert_of_a()}}),
    "POST /api/alerts/{alert_id:int}/acknowledge": Route(
        A_AND_CONSUMER_ASSOCIATION_ACT, lambda w: {"path": {"alert_id": w.alert_of_a()}}
    ),
    "POST /api/alerts/{alert_id:int}/confirm": Route(
        A_AND_CONSUMER_ASSOCIATION_ACT, lambda w: {"path": {"alert_id": w.alert_of_a()}}
    ),
    "POST /api/alerts/{alert_id:int}/dismiss": Route(
        A_AND_CONSUMER_ASSOCIATION_ACT,
        lambda w: {"path": {"alert_id": w.alert_of_a()}, "json": {"reason": "批发价同步上涨，属市场行情"}},
    ),
    "GET /api/alerts/{alert_id:int}/deliveries": Route(
        A_AND_CONSUMER_ASSOCIATION_ACT, lambda w: {"path": {"alert_id": w.alert_of_a()}}
    ),
    "GET /api/alerts/{alert_id:int}/evidence-pack": Route(
        A_AND_CONSUMER_ASSOCIATION_ACT, lambda w: {"path": {"alert_id": w.alert_of_a()}}
    ),
    "GET /api/inbox": Route(STAFF),
    "GET /api/watches": Route(STAFF),
    "POST /api/watches": Route(
        Access(401, 201, 201, 201, 201),
        plain(json={"name": "鸡蛋投诉", "kind": "search", "query": "鸡蛋", "filters": {"nature": ["价格"]}}),
    ),
    "GET /api/watches/{watch_id:int}": Route(
        Access(401, 404, 404, 404, 404), plain(path={"watch_id": 999999})
    ),
    "DELETE /api/watches/{watch_id:int}": Route(
        Access(401, 404, 404, 404, 404), plain(path={"watch_id": 999999})
    ),
    "GET /api/provisional-goods": Route(CONSUMER_STAFF),
    "POST /api/provisional-goods/{code}/merge": Route(
        Access(401, 403, 403, 404, 404), plain(path={"code": "no-such-good"}, json={"into": "pork"})
    ),
    "POST /api/provisional-goods/{code}/unmerge": Route(
        Access(401, 403, 403, 404, 404), plain(path={"code": "no-such-good"})
    ),
    "GET /api/jobs": Route(STAFF),
    "GET /api/crawls": Route(STAFF),
    "GET /api/crawls/{run_id}": Route(STAFF, lambda w: {"path": {"run_id": w.crawl_run()}}),
    "POST /api/inbox/{item_id:int}/read": Route(
        Access(401, 200, 404, 404, 404), lambda w: {"path": {"item_id": w.inbox_item_of_a()}}
    ),
    "GET /api/subscriptions": Route(STAFF),
    "POST /api/subscriptions": Route(
        Access(401, 201, 403, 201, 201),
        lambda w: {
            "json": {
                "name": f"超市预警{next(_counter)}",
                "association_id": w.a_id,
                "industries": ["supermarket"],
                "channels": ["inbox"],
            }
        },
    ),
    "GET /api/subscriptions/{subscription_id:int}": Route(
        A_AND_CONSUMER_ASSOCIATION, lambda w: {"path": {"subscription_id": w.subscription_of_a()}}
    ),
    "PATCH /api/subscriptions/{subscription_id:int}": Route(
        A_AND_CONSUMER_ASSOCIATION,
        lambda w: {"path": {"subscription_id": w.subscription_of_a()}, "json": {"min_severity": "high"}},
    ),
    "POST /api/subscriptions/{subscription_id:int}/rotate-secret": Route(
        A_AND_CONSUMER_ASSOCIATION, lambda w: {"path": {"subscription_id": w.subscription_of_a()}}
    ),
    "POST /api/subscriptions/{subscription_id:int}/test": Route(
        A_AND_CONSUMER_ASSOCIATION, lambda w: {"path": {"subscription_id": w.subscription_of_a()}}
    ),
    "DELETE /api/subscriptions/{subscription_id:int}": Route(
        Access(401, 204, 404, 204, 204), lambda w: {"path": {"subscription_id": w.subscription_of_a()}}
    ),
}


def app_routes(app: FastAPI) -> set[str]:
    """Every method and path the app serves (HEAD and OPTIONS come with GET and CORS)."""
    return {
        f"{method} {route.path}"
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


@pytest.fixture
def world(settings: Settings) -> Iterator[tuple[TestClient, World]]:
    app = create_app(settings.model_copy(update={"rate_limit_per_minute": 0}))
    with TestClient(app) as client:
        session: Session = app.state.sessions()
        world = World(
            session=session,
            search=get_search_backend(app.state.settings, app.state.engine),
            secret=app.state.settings.secret_key,
        )
        world.association_a = make_association(session, "chaoshi", ["supermarket"])
        world.association_b = make_association(session, "yaodian", ["pharmacy"])
        consumer_association = make_association(session, "xiaoxie", [], consumer=True)
        make_user(session, "staff_a", "association_staff", association=world.association_a)
        make_user(session, "staff_b", "association_staff", association=world.association_b)
        make_user(session, "consumer", "consumer_staff", association=consumer_association)
        make_user(session, "admin", "admin")
        # The app seeds the catalogue when it starts; an older database may lack it.
        if session.scalar(select(Product).where(Product.code == "cabbage")) is None:
            vegetables = session.scalar(select(Category).where(Category.code == "vegetables"))
            vegetables = vegetables or Category(code="vegetables", name="蔬菜")
            session.add(Product(code="cabbage", name="大白菜", category=vegetables, standard_unit="500g"))
            session.commit()
        world.headers = {"public": {}} | {role: login_headers(client, role) for role in ROLES[1:]}
        yield client, world
        session.close()


def _url(template: str, values: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda match: str(values[match.group(1)]), template)


def test_every_route_declares_who_may_call_it(settings: Settings) -> None:
    served = app_routes(create_app(settings, migrate=False))
    undeclared = sorted(served - set(MATRIX))
    stale = sorted(set(MATRIX) - served)
    assert not undeclared, f"routes without an entry in MATRIX (declare who may call them): {undeclared}"
    assert not stale, f"MATRIX entries for routes that no longer exist: {stale}"


def test_every_role_gets_the_declared_answer(world: tuple[TestClient, World]) -> None:
    client, state = world
    wrong: list[str] = []
    for key, route in MATRIX.items():
        method, template = key.split(" ", 1)
        for role in ROLES:
            request = route.request(state)
            url = _url(template, request.pop("path", {}))
            response = client.request(method, url, headers=state.headers[role], **request)
            expected = route.access.status_for(role)
            if response.status_code != expected:
                wrong.append(
                    f"{key} as {role}: {response.status_code} (declared {expected}) {response.text[:200]}"
                )
            elif response.status_code >= 400:
                assert response.json()["error"]["code"], key
    assert not wrong, "\n".join(wrong)


def _ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["data"]}


@pytest.mark.parametrize("credential", ["token", "api_key"])
def test_association_b_never_sees_association_a_records(
    world: tuple[TestClient, World], credential: str
) -> None:
    client, state = world
    complaint, alert, item = state.complaint_of_a(), state.alert_of_a(), state.inbox_item_of_a()
    a, b = state.headers["staff_a"], state.headers["staff_b"]
    if credential == "api_key":
        staff_b = state.session.scalar(select(User).where(User.username == "staff_b"))
        assert staff_b is not None
        b = {"X-API-Key": create_api_key(state.session, staff_b, actor="test", name="同步脚本")[1]}
        state.session.commit()

    assert complaint in _ids(client.get("/api/complaints", headers=a))
    assert complaint not in _ids(client.get("/api/complaints", headers=b))
    assert not _ids(client.get("/api/complaints", params={"association_id": state.a_id}, headers=b))
    assert client.get(f"/api/complaints/{complaint}", headers=b).status_code == 404

    assert alert in _ids(client.get("/api/alerts", headers=a))
    assert alert not in _ids(client.get("/api/alerts", headers=b))
    assert alert not in _ids(client.get("/api/alerts", params={"industry": "supermarket"}, headers=b))
    # An alert is public once raised: B reads A's like the public does, with none of A's handling.
    assert client.get(f"/api/alerts/{alert}", headers=b).json() == client.get(f"/api/alerts/{alert}").json()
    assert client.get(f"/api/alerts/{alert}/deliveries", headers=b).status_code == 403

    search = {"q": "鸡蛋 多收钱"}
    hits_for_a = client.get("/api/complaints/search", params=search, headers=a).json()["hits"]
    assert complaint in {hit["id"] for hit in hits_for_a}
    found_by_b = client.get("/api/complaints/search", params=search, headers=b)
    assert found_by_b.status_code == 200 and found_by_b.json()["total"] == 0
    exported = client.get("/api/complaints/search/export", params=search, headers=b)
    assert exported.status_code == 200 and "TS-MATRIX" not in exported.text

    assert item in _ids(client.get("/api/inbox", headers=a))
    assert item not in _ids(client.get("/api/inbox", headers=b))
    assert client.get("/api/inbox", params={"association_id": state.a_id}, headers=b).status_code == 403
    assert client.post(f"/api/inbox/{item}/read", headers=b).status_code == 404

    for response in (
        client.get(f"/api/complaints/{complaint}", headers=b),
        client.get("/api/complaints", headers=b),
        client.get("/api/alerts", headers=b),
    ):
        assert "TS-MATRIX" not in response.text and "多收钱" not in response.text


def test_personal_data_is_masked_for_everyone_but_the_consumer_association(
    world: tuple[TestClient, World],
) -> None:
    client, state = world
    phone = "13812345678"
    complaint_id = state.complaint_of_a()
    complaint = state.session.get(Complaint, complaint_id)
    assert complaint is not None
    complaint.text = f"我叫张三，电话{phone}。超市鸡蛋多收钱。"
    complaint.contact = phone
    state.session.commit()
    assert index_complaints(state.session, [complaint_id], backend=state.search)
    code = complaint.tracking_code

    def answers(role: str) -> str:
        headers = state.headers[role]
        if role == "public":
            return client.get(f"/api/complaints/track/{code}").text
        return "".join(
            client.get(url, params=params, headers=headers).text
            for url, params in (
                (f"/api/complaints/{complaint_id}", {}),
                ("/api/complaints", {}),
                ("/api/complaints/search", {"q": "鸡蛋"}),
                ("/api/complaints/search/export", {"q": "鸡蛋"}),
            )
        )

    for role in ("public", "staff_a"):
        assert phone not in answers(role) and "138****5678" in answers(role), role
    for role in ("consumer", "admin"):
        assert phone in answers(role), role
