"""Staff tokens, API keys, account administration and the audit log, through the real app and database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.accounts import create_api_key, revoke_api_key, set_password
from core.audit import AuditLogIsAppendOnly, record
from core.config import Settings
from core.models import ApiKey, AuditLog, User
from core.security import create_access_token
from tests.utils.auth import login_headers, make_association, make_user


@pytest.fixture
def admin(client: TestClient, session: Session) -> dict[str, str]:
    make_user(session, "root", "admin")
    return login_headers(client, "root")


def _key_for(session: Session, username: str, name: str = "采集脚本") -> str:
    user = session.scalar(select(User).where(User.username == username))
    assert user is not None
    _, secret = create_api_key(session, user, actor="test", name=name)
    session.commit()
    return secret


def test_api_key_acts_as_its_user(client: TestClient, session: Session) -> None:
    association = make_association(session, "chaoshi", ["supermarket"])
    make_user(session, "robot", "association_staff", association=association)
    secret = _key_for(session, "robot")

    response = client.get("/api/users/me", headers={"X-API-Key": secret})

    assert response.status_code == 200
    assert response.json()["username"] == "robot"
    assert response.json()["association_id"] == association.id
    stored = session.scalar(select(ApiKey))
    assert stored is not None and secret not in stored.key_hash and stored.prefix in secret
    session.refresh(stored)
    assert stored.last_used_at is not None


@pytest.mark.parametrize(
    "presented",
    ["", "nonsense", "fm_000000000000_wrong", "Bearer abc"],
    ids=["empty", "garbage", "unknown-prefix", "bearer-in-key-header"],
)
def test_malformed_or_unknown_api_key_is_401(client: TestClient, presented: str) -> None:
    response = client.get("/api/users/me", headers={"X-API-Key": presented})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_forged_key_with_a_real_prefix_is_401(client: TestClient, session: Session) -> None:
    make_user(session, "robot", "consumer_staff")
    secret = _key_for(session, "robot")
    forged = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
    assert client.get("/api/users/me", headers={"X-API-Key": forged}).status_code == 401


def test_revoked_key_stops_working_at_once(client: TestClient, session: Session) -> None:
    make_user(session, "robot", "consumer_staff")
    secret = _key_for(session, "robot")
    assert client.get("/api/users/me", headers={"X-API-Key": secret}).status_code == 200

    revoke_api_key(session, secret.split("_")[1], actor="root")
    session.commit()

    response = client.get("/api/users/me", headers={"X-API-Key": secret})
    assert response.status_code == 401
    assert "撤销" in response.json()["error"]["message"]


def test_disabling_a_user_cuts_off_token_and_key(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    clerk = make_user(session, "clerk", "consumer_staff")
    token = login_headers(client, "clerk")
    secret = _key_for(session, "clerk")

    response = client.post(f"/api/users/{clerk.id}/disable", headers=admin)

    assert response.status_code == 200 and response.json()["disabled"] is True
    assert client.get("/api/users/me", headers=token).status_code == 401
    assert client.get("/api/users/me", headers={"X-API-Key": secret}).status_code == 401
    login = client.post("/api/auth/token", data={"username": "clerk", "password": "correct horse battery"})
    assert login.status_code == 401


def test_password_reset_and_disabling_sign_the_user_out_everywhere(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    clerk = make_user(session, "clerk", "consumer_staff")
    before_reset = login_headers(client, "clerk")

    set_password(session, clerk, actor="root", password="a brand new passphrase")
    session.commit()

    assert client.get("/api/users/me", headers=before_reset).status_code == 401
    after_reset = login_headers(client, "clerk", "a brand new passphrase")
    assert client.get("/api/users/me", headers=after_reset).status_code == 200

    client.post(f"/api/users/{clerk.id}/disable", headers=admin)
    client.post(f"/api/users/{clerk.id}/enable", headers=admin)
    assert client.get("/api/users/me", headers=after_reset).status_code == 401
    assert (
        client.get(
            "/api/users/me", headers=login_headers(client, "clerk", "a brand new passphrase")
        ).status_code
        == 200
    )


def test_expired_and_forged_tokens_are_401(client: TestClient, session: Session, settings: Settings) -> None:
    user = make_user(session, "clerk", "consumer_staff")
    expired = create_access_token(subject=str(user.id), secret=settings.secret_key, minutes=-1)
    forged = create_access_token(
        subject=str(user.id), secret="not-the-server-secret-but-as-long-as-one", minutes=10
    )
    for token in (expired, forged, "not.a.jwt"):
        response = client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_admin_creates_lists_and_reenables_users(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    make_association(session, "yaodian", ["pharmacy"])
    payload = {
        "username": "pharma.li",
        "password": "a long passphrase",
        "role": "association_staff",
        "association": "yaodian",
        "full_name": "李娜",
    }
    created = client.post("/api/users", json=payload, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["association_name"] == "yaodian协会"
    assert "password" not in created.text and "hash" not in created.text

    assert client.post("/api/users", json=payload, headers=admin).status_code == 409
    listed = client.get("/api/users", params={"role": "association_staff"}, headers=admin).json()
    assert [u["username"] for u in listed["data"]] == ["pharma.li"] and listed["count"] == 1

    user_id = created.json()["id"]
    client.post(f"/api/users/{user_id}/disable", headers=admin)
    enabled = client.post(f"/api/users/{user_id}/enable", headers=admin)
    assert enabled.json()["disabled"] is False
    assert login_headers(client, "pharma.li", "a long passphrase")


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"password": "short"}, 422),
        ({"role": "superuser"}, 422),
        ({"username": "a b'; DROP TABLE users;--"}, 422),
        ({"association": None}, 422),
        ({"association": "不存在的协会"}, 404),
        ({"email": "not-an-email"}, 422),
    ],
    ids=[
        "short-password",
        "unknown-role",
        "sql-in-username",
        "no-association",
        "unknown-association",
        "email",
    ],
)
def test_bad_user_creation_is_a_clear_4xx(
    client: TestClient, session: Session, admin: dict[str, str], change: dict[str, object], status: int
) -> None:
    make_association(session, "yaodian", ["pharmacy"])
    payload = {
        "username": "pharma.li",
        "password": "a long passphrase",
        "role": "association_staff",
        "association": "yaodian",
        **change,
    }
    response = client.post("/api/users", json=payload, headers=admin)
    assert response.status_code == status
    assert response.json()["error"]["message"]
    assert session.scalar(select(User).where(User.username != "root")) is None


def test_admin_cannot_disable_themselves(client: TestClient, session: Session, admin: dict[str, str]) -> None:
    root = session.scalar(select(User).where(User.username == "root"))
    assert root is not None
    response = client.post(f"/api/users/{root.id}/disable", headers=admin)
    assert response.status_code == 409


def test_account_changes_are_audited_with_before_and_after(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    clerk = make_user(session, "clerk", "consumer_staff")
    client.post(f"/api/users/{clerk.id}/disable", headers=admin)
    payload = {"username": "newbie", "password": "a long passphrase", "role": "consumer_staff"}
    created = client.post("/api/users", json=payload, headers=admin).json()

    entries = client.get("/api/audit", params={"entity": "user"}, headers=admin).json()

    assert [e["action"] for e in entries["data"]] == ["user.create", "user.disable"]
    creation, disabling = entries["data"]
    assert disabling["actor"] == "root" and disabling["entity_id"] == str(clerk.id)
    assert disabling["before"]["disabled"] is False and disabling["after"]["disabled"] is True
    assert creation["entity_id"] == str(created["id"]) and creation["after"]["username"] == "newbie"
    assert creation["before"] is None and "password_hash" not in creation["after"]
    assert "argon2" not in json.dumps(entries)


def test_staff_actions_in_other_routers_are_audited_but_public_ones_are_not(
    client: TestClient, session: Session
) -> None:
    make_user(session, "xiehui", "consumer_staff")
    headers = login_headers(client, "xiehui")
    filed = client.post("/api/complaints", json={"text": "超市鸡蛋标价8元一斤，结账时收了12元，多收钱。"})
    assert client.get("/api/audit", headers=headers).json()["count"] == 0

    moved = client.post(
        f"/api/complaints/{filed.json()['id']}/transitions", json={"to_status": "accepted"}, headers=headers
    )

    assert moved.status_code == 200, moved.text
    entries = client.get("/api/audit", params={"entity": "complaint"}, headers=headers).json()["data"]
    assert [(e["actor"], e["action"]) for e in entries] == [("xiehui", "complaint.transition")]
    assert entries[0]["before"]["status"] == "received" and entries[0]["after"]["status"] == "accepted"


def test_refused_actions_leave_no_audit_entry(
    client: TestClient, session: Session, admin: dict[str, str]
) -> None:
    root = session.scalar(select(User).where(User.username == "root"))
    assert root is not None
    assert client.post(f"/api/users/{root.id}/disable", headers=admin).status_code == 409
    payload = {"username": "root", "password": "a long passphrase", "role": "admin"}
    assert client.post("/api/users", json=payload, headers=admin).status_code == 409
    assert client.get("/api/audit", headers=admin).json()["count"] == 0


def test_audit_log_reads_filtered_newest_first_for_consumer_staff(
    client: TestClient, session: Session
) -> None:
    make_user(session, "xiehui", "consumer_staff")
    for number in range(3):
        record(session, "xiehui", "complaint.transition", "complaint", number, {"status": "received"}, None)
    record(session, "other", "alert.dismiss", "alert", 9, None, {"at": dt.date(2026, 1, 2)})
    session.commit()
    headers = login_headers(client, "xiehui")

    response = client.get("/api/audit", params={"actor": "xiehui", "size": 2}, headers=headers)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and [e["entity_id"] for e in body["data"]] == ["2", "1"]
    dismissed = client.get("/api/audit", params={"action": "alert.dismiss"}, headers=headers).json()
    assert dismissed["data"][0]["after"] == {"at": "2026-01-02"}
    future = client.get("/api/audit", params={"since": "2999-01-01T00:00:00+08:00"}, headers=headers)
    assert future.json()["count"] == 0


def test_audit_log_cannot_be_changed(client: TestClient, session: Session, admin: dict[str, str]) -> None:
    entry = record(session, "root", "user.create", "user", 1, None, {"username": "x"})
    session.commit()

    assert client.delete(f"/api/audit/{entry.id}", headers=admin).status_code in (404, 405)
    assert client.patch("/api/audit", json={}, headers=admin).status_code == 405
    entry.actor = "someone else"
    with pytest.raises(AuditLogIsAppendOnly):
        session.commit()
    session.rollback()
    session.delete(session.get(AuditLog, entry.id))
    with pytest.raises(AuditLogIsAppendOnly):
        session.commit()


def test_trade_association_staff_cannot_read_the_audit_log(client: TestClient, session: Session) -> None:
    association = make_association(session, "chaoshi", ["supermarket"])
    make_user(session, "chaoshi", "association_staff", association=association)
    response = client.get("/api/audit", headers=login_headers(client, "chaoshi"))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
