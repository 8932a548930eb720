"""/api/complaints: public filing and tracking, staff views by role, workflow steps, corrections."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from api.main import create_app
from complaints.classification import ComplaintClassifier
from core.config import Settings
from core.db import session_factory
from core.models import AuditLog, Complaint
from search.service import check_consistency
from tests.utils.auth import login_headers, make_association, make_user

PHONE = "13812345678"
TEXT = f"我叫张三，电话{PHONE}。在家乐福超市买鸡蛋标价8元一斤，结账时收了12元，明显多收钱。"


@pytest.fixture
def db(engine: Engine) -> Any:
    with session_factory(engine)() as session:
        yield session


class Staff:
    """Bearer headers per staff account, created on first use (password hashing is deliberately slow)."""

    ACCOUNTS = {
        "xiehui": ("consumer_staff", "xiaoxie", []),
        "chaoshi": ("association_staff", "chaoshi", ["supermarket"]),
        "yaodian": ("association_staff", "yaodian", ["pharmacy"]),
    }

    def __init__(self, client: TestClient, session: Session) -> None:
        self.client, self.session = client, session
        self.headers: dict[str, dict[str, str]] = {}
        for role, code, industries in self.ACCOUNTS.values():
            make_association(self.session, code, industries, consumer=role == "consumer_staff")

    def __getitem__(self, username: str) -> dict[str, str]:
        if username not in self.headers:
            role, code, industries = self.ACCOUNTS[username]
            association = make_association(self.session, code, industries)
            make_user(self.session, username, role, association=association)
            self.headers[username] = login_headers(self.client, username)
        return self.headers[username]


@pytest.fixture
def staff(client: TestClient, db: Session) -> Staff:
    """The consumer association (xiehui), the supermarket (chaoshi) and pharmacy (yaodian) associations."""
    return Staff(client, db)


def _file(client: TestClient, **fields: Any) -> dict[str, Any]:
    payload = {"text": TEXT, "consumer_name": "张三", "contact": PHONE, "district": "南岗区", **fields}
    response = client.post("/api/complaints", json=payload)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_anyone_can_file_and_track_without_seeing_personal_data(client: TestClient) -> None:
    created = _file(client, amount="4.00", demands=f"退还差价，联系{PHONE}")
    assert created["tracking_code"].startswith("TS-") and created["status"] == "received"
    assert created["accept_deadline"]

    response = client.get(f"/api/complaints/track/{created['tracking_code'].lower()}")
    assert response.status_code == 200
    tracked = response.json()
    assert tracked["status_name"] == "已受理登记"
    assert PHONE not in response.text and "张三" not in response.text
    assert "138****5678" in tracked["text"] and "张*" in tracked["text"]
    assert "consumer_name" not in tracked and "contact" not in tracked
    assert [e["to_status"] for e in tracked["timeline"]] == ["received"]
    assert "actor" not in tracked["timeline"][0]


UNKNOWN_CODES = ("TS-NOSUCHCODE", "x" * 40, "'; DROP TABLE complaints; --", "😀")
INVALID_COMPLAINTS: tuple[Any, ...] = (
    {},
    {"text": "短"},
    {"text": "x" * 5001},
    {"text": "正常内容正常内容", "amount": "很多"},
    {"text": "正常内容正常内容", "nature": "外星人"},
    {"text": ["列表"]},
    [],
    "纯文本",
)


def test_unknown_tracking_code_is_404(client: TestClient) -> None:
    for code in UNKNOWN_CODES:
        response = client.get(f"/api/complaints/track/{code}")
        assert response.status_code == 404, code
        assert response.json()["error"]["code"] == "not_found"


def test_invalid_complaints_are_refused_with_reasons(client: TestClient, db: Session) -> None:
    for payload in INVALID_COMPLAINTS:
        response = client.post("/api/complaints", json=payload)
        assert response.status_code == 422, payload
        assert response.json()["error"]["code"] == "invalid_request"
        assert response.json()["error"]["details"]
    assert db.scalar(select(func.count()).select_from(Complaint)) == 0


def test_body_that_is_not_json_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/complaints", content=b"\xff\xfe not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_staff_views_depend_on_role(client: TestClient, staff: Staff) -> None:
    created = _file(client)
    url = f"/api/complaints/{created['id']}"

    assert client.get(url).status_code == 401
    assert client.get("/api/complaints").status_code == 401

    full = client.get(url, headers=staff["xiehui"]).json()
    assert full["consumer_name"] == "张三" and full["contact"] == PHONE and PHONE in full["text"]
    assert full["personal_data_masked"] is False and full["industry"] == "supermarket"
    assert full["timeline"][0]["actor"] == "public"

    routed = client.get(url, headers=staff["chaoshi"])
    assert routed.status_code == 200
    masked = routed.json()
    assert masked["personal_data_masked"] is True
    assert masked["consumer_name"] == "张*" and masked["contact"] == "138****5678"
    assert PHONE not in routed.text

    assert client.get(url, headers=staff["yaodian"]).status_code == 404
    assert client.get("/api/complaints", headers=staff["yaodian"]).json() == {"data": [], "count": 0}
    listed = client.get("/api/complaints", headers=staff["chaoshi"]).json()
    assert listed["count"] == 1 and PHONE not in listed["data"][0]["text"]


def test_association_staff_without_an_association_sees_nothing(
    client: TestClient, staff: Staff, db: Session
) -> None:
    unrouted = _file(client, text="一件不属于任何行业协会的事情，联系13912345678")
    assert (
        client.get(f"/api/complaints/{unrouted['id']}", headers=staff["xiehui"]).json()["association_id"]
        is None
    )
    make_user(db, "orphan", "association_staff")
    orphan = login_headers(client, "orphan")
    assert client.get(f"/api/complaints/{unrouted['id']}", headers=orphan).status_code == 404
    assert client.get("/api/complaints", headers=orphan).json() == {"data": [], "count": 0}


def test_workflow_through_the_api(client: TestClient, staff: Staff, db: Session) -> None:
    created = _file(client)
    steps = f"/api/complaints/{created['id']}/transitions"

    refused = client.post(steps, json={"to_status": "resolved"}, headers=staff["xiehui"])
    assert refused.status_code == 409
    assert "不能变更为" in refused.json()["error"]["message"]
    assert client.post(steps, json={"to_status": "rejected"}, headers=staff["xiehui"]).status_code == 422
    assert client.post(steps, json={"to_status": "nonsense"}, headers=staff["xiehui"]).status_code == 422
    assert client.post(steps, json={"to_status": "accepted"}, headers=staff["yaodian"]).status_code == 404

    by_association = client.post(steps, json={"to_status": "accepted"}, headers=staff["chaoshi"])
    assert by_association.status_code == 403
    accepted = client.post(steps, json={"to_status": "accepted", "note": "材料齐全"}, headers=staff["xiehui"])
    assert accepted.status_code == 200
    assert accepted.json()["mediate_deadline"]
    mediating = client.post(steps, json={"to_status": "mediating"}, headers=staff["chaoshi"])
    assert mediating.status_code == 200
    timeline = mediating.json()["timeline"]
    assert [(e["to_status"], e["actor"]) for e in timeline] == [
        ("received", "public"),
        ("accepted", "xiehui"),
        ("mediating", "chaoshi"),
    ]
    tracked = client.get(f"/api/complaints/track/{created['tracking_code']}").json()
    assert tracked["status"] == "mediating" and tracked["mediate_deadline"]

    audit = db.scalars(
        select(AuditLog).where(AuditLog.action == "complaint.transition").order_by(AuditLog.id)
    )
    assert [(a.actor, a.entity_id, a.before, (a.after or {}).get("status")) for a in audit] == [
        ("xiehui", str(created["id"]), {"status": "received"}, "accepted"),
        ("chaoshi", str(created["id"]), {"status": "accepted"}, "mediating"),
    ]


def test_overdue_filter(client: TestClient, staff: Staff, db: Session) -> None:
    late = _file(client)
    fresh = _file(client)
    db.execute(
        update(Complaint).where(Complaint.id == late["id"]).values(accept_deadline=dt.date(2020, 1, 2))
    )
    db.commit()

    overdue = client.get("/api/complaints", params={"overdue": "true"}, headers=staff["xiehui"]).json()
    assert [c["id"] for c in overdue["data"]] == [late["id"]] and overdue["data"][0]["overdue"] is True
    in_time = client.get("/api/complaints", params={"overdue": "false"}, headers=staff["xiehui"]).json()
    assert [c["id"] for c in in_time["data"]] == [fresh["id"]]


def test_list_filters_and_paging(client: TestClient, staff: Staff) -> None:
    ids = [_file(client, district=district)["id"] for district in ("南岗区", "道里区", "南岗区")]
    headers = staff["xiehui"]
    nangang = client.get("/api/complaints", params={"district": "南岗区"}, headers=headers).json()
    assert nangang["count"] == 2 and {c["id"] for c in nangang["data"]} == {ids[0], ids[2]}
    page = client.get("/api/complaints", params={"size": 1, "page": 2}, headers=headers).json()
    assert page["count"] == 3 and [c["id"] for c in page["data"]] == [ids[1]]
    both = client.get(
        "/api/complaints", params=[("nature", "价格/哄抬价格"), ("industry", "超市连锁")], headers=headers
    )
    assert both.json()["count"] == 3
    assert client.get("/api/complaints", params={"size": 0}, headers=headers).status_code == 422
    assert client.get("/api/complaints", params={"status": "received"}, headers=headers).json()["count"] == 3
    assert client.get("/api/complaints", params={"status": "lost"}, headers=headers).status_code == 422


def test_classification_correction(client: TestClient, staff: Staff, db: Session) -> None:
    created = _file(client)
    url = f"/api/complaints/{created['id']}/classification"
    corrected = client.patch(
        url, json={"industry": "pharmacy", "note": "药店内的超市专柜"}, headers=staff["xiehui"]
    )
    assert corrected.status_code == 200
    body = corrected.json()
    assert body["industry"] == "pharmacy" and body["industry_corrected"] is True
    assert body["industry_confidence"] is None and body["nature_corrected"] is False
    assert body["timeline"][-1]["action"] == "classification_corrected"

    # Re-routed: the pharmacy association now sees it, the supermarket association no longer does.
    assert client.get(f"/api/complaints/{created['id']}", headers=staff["yaodian"]).status_code == 200
    assert client.get(f"/api/complaints/{created['id']}", headers=staff["chaoshi"]).status_code == 404

    audit = db.scalars(select(AuditLog).where(AuditLog.action == "complaint.classification_corrected")).one()
    assert audit.before is not None and audit.after is not None
    assert (audit.before["industry"], audit.after["industry"]) == ("supermarket", "pharmacy")

    assert client.patch(url, json={"nature": "外星人"}, headers=staff["xiehui"]).status_code == 422
    assert client.patch(url, json={}, headers=staff["xiehui"]).status_code == 422
    assert client.patch(url, json={"nature": "质量"}).status_code == 401


def test_complaint_ids_must_be_integers(client: TestClient, staff: Staff) -> None:
    assert client.get("/api/complaints/abc", headers=staff["xiehui"]).status_code == 404
    assert client.get("/api/complaints/999999", headers=staff["xiehui"]).status_code == 404


@given(
    payload=st.dictionaries(
        st.sampled_from(
            ["text", "title", "nature", "industry", "amount", "district", "contact", "merchant_name"]
        ),
        st.one_of(
            st.text(max_size=60),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.none(),
            st.booleans(),
        ),
    ),
    code=st.text(min_size=1, max_size=30),
)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_input_gives_a_client_error_or_success_never_a_server_error(
    client: TestClient, payload: dict[str, Any], code: str
) -> None:
    filed = client.post("/api/complaints", json=payload)
    assert filed.status_code in (201, 400, 422), filed.text
    tracked = client.get(f"/api/complaints/track/{quote(code, safe='')}")
    assert tracked.status_code in (200, 400, 404, 422), tracked.text


@given(text=st.text(min_size=5, max_size=300), district=st.text(max_size=40))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_complaint_text_is_stored_or_refused_cleanly(
    client: TestClient, text: str, district: str
) -> None:
    filed = client.post("/api/complaints", json={"text": text, "district": district})
    assert filed.status_code in (201, 400, 422), filed.text
    if filed.status_code == 201:
        tracked = client.get(f"/api/complaints/track/{filed.json()['tracking_code']}")
        assert tracked.status_code == 200


def test_search_index_follows_every_change(client: TestClient, staff: Staff, db: Session) -> None:
    created = _file(client)
    backend = client.app.state.search_backend  # type: ignore[attr-defined]
    report = check_consistency(db, backend)
    assert report.consistent and report.indexed == 1

    steps = f"/api/complaints/{created['id']}/transitions"
    assert client.post(steps, json={"to_status": "accepted"}, headers=staff["xiehui"]).status_code == 200
    url = f"/api/complaints/{created['id']}/classification"
    assert client.patch(url, json={"nature": "计量"}, headers=staff["xiehui"]).status_code == 200
    db.expire_all()
    assert check_consistency(db, backend).consistent


def test_the_classifier_is_ready_before_the_first_request(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app):  # start-up only: no request made
        assert isinstance(app.state.complaint_classifier, ComplaintClassifier)


@pytest.mark.parametrize(
    "fields",
    [
        {"text": "\u200b\u200b\u200b\u200b\u200b\u200b"},
        {"text": "\ufeff\u202e\ufeff\u202e\ufeff\u202e"},
        {"text": "\u0000\u0000\u0000\u0000\u0000\u0000"},
        {"consumer_name": "\u0000\u0000"},
        {"merchant_name": "\u200b\u202e"},
        {"text": {"不是": "文本"}},
    ],
)
def test_text_that_shows_nothing_is_refused_with_a_reason(
    client: TestClient, db: Session, fields: dict[str, Any]
) -> None:
    response = client.post("/api/complaints", json={"text": TEXT, **fields})
    assert response.status_code == 422, response.text
    message = json.dumps(response.json(), ensure_ascii=False)
    assert "不可见" in message or "文本" in message
    assert db.scalar(select(func.count()).select_from(Complaint)) == 0


def test_a_nul_only_reason_is_refused(client: TestClient, staff: Staff, db: Session) -> None:
    steps = f"/api/complaints/{_file(client)['id']}/transitions"
    refused = client.post(
        steps, json={"to_status": "rejected", "note": "\u0000\u0000"}, headers=staff["xiehui"]
    )
    assert refused.status_code == 422 and "不可见" in refused.text
    rejected = client.post(steps, json={"to_status": "rejected", "note": "材料不全"}, headers=staff["xiehui"])
    assert rejected.status_code == 200


def test_the_complaint_form_is_recorded_as_its_channel(client: TestClient, db: Session) -> None:
    from_form = client.post("/api/complaints", params={"channel": "web_form"}, json={"text": TEXT})
    assert from_form.status_code == 201
    assert db.get_one(Complaint, from_form.json()["id"]).channel == "web_form"
    assert _file(client)["id"] and db.scalar(select(func.count()).where(Complaint.channel == "api")) == 1
    assert (
        client.post("/api/complaints", params={"channel": "import"}, json={"text": TEXT}).status_code == 422
    )
