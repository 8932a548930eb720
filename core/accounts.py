"""Staff accounts and API keys: the rules shared by the command line and the admin API."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from core.audit import record, snapshot
from core.models import ApiKey, Association, User, utcnow
from core.security import (
    MIN_PASSWORD_LENGTH,
    NewApiKey,
    api_key_matches,
    api_key_prefix,
    generate_api_key,
    hash_password,
)

STAFF_ROLE_NAMES = {
    "association_staff": "行业协会工作人员",
    "consumer_staff": "消协工作人员",
    "admin": "系统管理员",
}
USER_FIELDS = ("username", "full_name", "email", "role", "association_id", "disabled")
API_KEY_FIELDS = ("name", "prefix", "user_id", "revoked_at")
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class AccountError(ValueError):
    """A request the account rules refuse; ``message`` is shown to the user as is."""

    def __init__(self, message: str, *, conflict: bool = False, missing: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.conflict = conflict
        self.missing = missing


def find_association(session: Session, code_or_name: str) -> Association:
    association = session.scalar(
        select(Association).where((Association.code == code_or_name) | (Association.name == code_or_name))
    )
    if association is None:
        raise AccountError(f"协会不存在：{code_or_name}", missing=True)
    return association


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise AccountError(f"用户不存在：{username}", missing=True)
    return user


def create_user(
    session: Session,
    *,
    actor: str,
    username: str,
    password: str,
    role: str,
    association: Association | None = None,
    full_name: str | None = None,
    email: str | None = None,
) -> User:
    """A new staff account; association staff must belong to a trade association."""
    if role not in STAFF_ROLE_NAMES:
        raise AccountError(f"未知角色：{role}（可选：{'、'.join(STAFF_ROLE_NAMES)}）")
    if role == "association_staff" and association is None:
        raise AccountError("行业协会工作人员必须指定所属协会")
    _check_password(password)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"用户名已存在：{username}", conflict=True)
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        association_id=association.id if association else None,
        full_name=full_name,
        email=email,
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.create", "user", user.id, None, snapshot(user, USER_FIELDS))
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")


def _revoke_tokens(user: User) -> None:
    """Tokens issued before now stop working."""
    user.tokens_valid_after = utcnow()


def set_password(session: Session, user: User, *, actor: str, password: str) -> User:
    """Replace a password and sign the user out everywhere; the audit entry never holds the hash."""
    _check_password(password)
    user.password_hash = hash_password(password)
    _revoke_tokens(user)
    session.flush()
    record(session, actor, "user.password_reset", "user", user.id, None, None)
    return user


def set_user_disabled(session: Session, user: User, *, actor: str, disabled: bool) -> User:
    """Disable (or re-enable) an account; its tokens stop for good, its API keys while it is disabled."""
    if user.disabled == disabled:
        return user
    before = snapshot(user, USER_FIELDS)
    user.disabled = disabled
    if disabled:
        _revoke_tokens(user)
    session.flush()
    action = "user.disable" if disabled else "user.enable"
    record(session, actor, action, "user", user.id, before, snapshot(user, USER_FIELDS))
    return user


def create_api_key(session: Session, user: User, *, actor: str, name: str) -> tuple[ApiKey, str]:
    """A new key acting as ``user``; returns the row and the secret, which is never stored."""
    if user.disabled:
        raise AccountError(f"用户已停用：{user.username}")
    new: NewApiKey = generate_api_key()
    key = ApiKey(name=name, prefix=new.prefix, key_hash=new.key_hash, user_id=user.id)
    session.add(key)
    session.flush()
    record(session, actor, "apikey.create", "api_key", key.prefix, None, snapshot(key, API_KEY_FIELDS))
    return key, new.secret


def revoke_api_key(session: Session, prefix: str, *, actor: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None:
        raise AccountError(f"API 密钥不存在：{prefix}", missing=True)
    if key.revoked_at is None:
        before = snapshot(key, API_KEY_FIELDS)
        key.revoked_at = utcnow()
        session.flush()
        record(session, actor, "apikey.revoke", "api_key", key.prefix, before, snapshot(key, API_KEY_FIELDS))
    return key


def user_for_api_key(session: Session, secret: str) -> User | None:
    """The active user a presented key acts as, or None for an unknown, revoked or forged key."""
    prefix = api_key_prefix(secret)
    if prefix is None:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix).options(joinedload(ApiKey.user)))
    if key is None or key.revoked_at is not None or not api_key_matches(secret, key.key_hash):
        return None
    if key.user.disabled:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
        session.commit()
    return key.user
