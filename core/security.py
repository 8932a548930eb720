"""Password hashing (Argon2 via pwdlib) and signed access tokens (JWT, HS256)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt
from pwdlib import PasswordHash

ROLES = ("public", "association_staff", "consumer_staff", "admin")
STAFF_ROLES = ("association_staff", "consumer_staff", "admin")
ALGORITHM = "HS256"

_hasher = PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:
        return False


def create_access_token(
    *, subject: str, secret: str, minutes: int, extra: dict[str, Any] | None = None
) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {"sub": subject, "iat": now, "exp": now + dt.timedelta(minutes=minutes), **(extra or {})}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> dict[str, Any] | None:
    """The token's claims, or None when it is malformed, forged or expired."""
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=[ALGORITHM])
    except jwt.PyJWTError:
        return None
    return claims
