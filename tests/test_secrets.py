"""Secrets an attacker could guess or forge with: weak production keys, tokens that never expire."""

from __future__ import annotations

import datetime as dt
import secrets

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session

from core.config import DEVELOPMENT_SECRET, Settings
from tests.utils.auth import make_user


@pytest.mark.parametrize(
    "key",
    [
        "a",
        "",
        DEVELOPMENT_SECRET,
        "0" * 64,
        "ab" * 40,
        "password123password123password123",
        secrets.token_hex(16),
    ],
    ids=["one-char", "empty", "development", "zeros", "repeated", "dictionary", "random-16-bytes"],
)
def test_production_refuses_weak_secret_keys(key: str) -> None:
    with pytest.raises(ValidationError, match="FAIRMARKET_SECRET_KEY"):
        Settings(environment="production", secret_key=key)


@pytest.mark.parametrize(
    "key",
    [secrets.token_urlsafe(32), secrets.token_hex(32), secrets.token_urlsafe(64)],
    ids=["urlsafe-32", "hex-32", "urlsafe-64"],
)
def test_production_accepts_random_32_byte_keys(key: str) -> None:
    assert Settings(environment="production", secret_key=key).secret_key == key


def test_an_empty_key_is_refused_everywhere() -> None:
    with pytest.raises(ValidationError, match="must not be empty"):
        Settings(environment="development", secret_key="")


def test_a_token_without_expiry_is_refused(client: TestClient, session: Session, settings: Settings) -> None:
    user = make_user(session, "forever", "admin")
    now = dt.datetime.now(dt.UTC).timestamp()
    eternal = jwt.encode({"sub": str(user.id), "iat": now}, settings.secret_key, algorithm="HS256")
    response = client.get("/api/users", headers={"Authorization": f"Bearer {eternal}"})
    assert response.status_code == 401
    expiring = jwt.encode(
        {"sub": str(user.id), "iat": now, "exp": now + 60}, settings.secret_key, algorithm="HS256"
    )
    assert client.get("/api/users", headers={"Authorization": f"Bearer {expiring}"}).status_code == 200
