"""Factories for staff accounts and their bearer headers, against the real database and app."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Association, User
from core.security import hash_password


def make_association(
    session: Session, code: str, industries: list[str], *, consumer: bool = False
) -> Association:
    association = session.scalar(select(Association).where(Association.code == code))
    if association is None:
        association = Association(
            code=code, name=f"{code}协会", industries=industries, is_consumer_association=consumer
        )
        session.add(association)
        session.commit()
    return association


def make_user(
    session: Session,
    username: str,
    role: str,
    *,
    association: Association | None = None,
    password: str = "correct horse battery",
) -> User:
    user = User(
        username=username,
        role=role,
        password_hash=hash_password(password),
        association_id=association.id if association else None,
    )
    session.add(user)
    session.commit()
    return user


def login_headers(
    client: TestClient, username: str, password: str = "correct horse battery"
) -> dict[str, str]:
    response = client.post("/api/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
