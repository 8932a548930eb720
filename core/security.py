"""Password hashing (Argon2 via pwdlib), signed access tokens (JWT, HS256), API keys and CSRF tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import jwt
from pwdlib import PasswordHash

ROLES = ("public", "association_staff", "consumer_staff", "admin")
STAFF_ROLES = ("association_staff", "consumer_staff", "admin")
ALGORITHM = "HS256"
API_KEY_MARK = "fm"
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHash.recommended()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


_UNKNOWN_USER_HASH = _hasher.hash("no such user: compared only to spend the same time")


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password; with no hash (unknown user) spend the same time so usernames cannot be probed."""
    if password_hash is None:
        _hasher.verify(password, _UNKNOWN_USER_HASH)
        return False
    try:
        return _hasher.verify(password, password_hash)
    except Exception:
        return False


def create_access_token(
    *, subject: str, secret: str, minutes: int, extra: dict[str, Any] | None = None
) -> str:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "sub": subject,
        "iat": now.timestamp(),  # to the microsecond, so a revocation right after a sign-in is exact
        "exp": now + dt.timedelta(minutes=minutes),
        **(extra or {}),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> dict[str, Any] | None:
    """The token's claims, or None when it is malformed, forged, expired or never expires."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    return claims


@dataclass(frozen=True)
class NewApiKey:
    """A freshly made API key: ``secret`` is shown once; only ``prefix`` and ``key_hash`` are stored."""

    prefix: str
    secret: str
    key_hash: str


def hash_api_key(secret: str) -> str:
    """SHA-256 is enough here: keys carry 192 random bits, so a slow KDF would only slow every request."""
    return hashlib.sha256(secret.encode()).hexdigest()


def generate_api_key() -> NewApiKey:
    """A key ``fm_<prefix>_<random>``; the prefix finds the stored row, the hash proves the rest."""
    prefix = secrets.token_hex(6)
    secret = f"{API_KEY_MARK}_{prefix}_{secrets.token_urlsafe(24)}"
    return NewApiKey(prefix=prefix, secret=secret, key_hash=hash_api_key(secret))


def api_key_prefix(secret: str) -> str | None:
    """The lookup prefix of a presented key, or None when it is not shaped like one of ours."""
    parts = secret.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_MARK or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1]


def api_key_matches(secret: str, key_hash: str) -> bool:
    return hmac.compare_digest(hash_api_key(secret), key_hash)


def _csrf_signature(nonce: str, secret: str) -> str:
    return hmac.new(secret.encode(), f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def new_csrf_token(secret: str) -> str:
    """A signed double-submit token ``<nonce>.<hmac>``: a cookie planted by a sibling site cannot forge it."""
    nonce = secrets.token_urlsafe(24)
    return f"{nonce}.{_csrf_signature(nonce, secret)}"


def csrf_token_valid(token: str, secret: str) -> bool:
    nonce, _, signature = token.partition(".")
    return bool(nonce and signature) and hmac.compare_digest(signature, _csrf_signature(nonce, secret))
