"""Request dependencies, as ``Annotated`` aliases for the routes.

Every route declares who may call it through one of the caller aliases below; queries are then
scoped by ``Caller`` (an association sees only its own industries). Staff authenticate with a bearer
token (``POST /api/auth/token``); machine clients send an API key in ``X-API-Key`` and act as the
key's user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session

from core.accounts import user_for_api_key
from core.config import Settings
from core.models import User
from core.security import decode_access_token


async def get_settings_dep(request: Request) -> Settings:
    """Async, as are the other dependencies without I/O: a sync one costs a worker-thread hop."""
    settings: Settings = request.app.state.settings
    return settings


def get_db(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.sessions()
    try:
        yield session
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_db)]

# A row id in a path: the schema names the range the id columns hold (32-bit on PostgreSQL), so an id
# past it is a 422 for malformed input and any id inside it is well formed (a 404 when absent).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
# The same range for a row id given as a query filter.
RowIdFilter = Annotated[int | None, Query(ge=1, le=2**31 - 1)]

# Appended to an operation's OpenAPI security: login is optional there (the public gets a public view).
OPTIONAL_LOGIN: dict[str, list[dict[str, list[str]]]] = {"security": [{}]}

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="机器客户端的 API 密钥（fairmarket apikey create）"
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: a role, and for association staff the association and its industries."""

    role: str = "public"
    username: str | None = None
    user_id: int | None = None
    association_id: int | None = None
    industries: tuple[str, ...] = ()

    @property
    def sees_personal_data(self) -> bool:
        return self.role in ("consumer_staff", "admin")

    @property
    def is_staff(self) -> bool:
        return self.role != "public"


PUBLIC = Caller()


def _user_caller(user: User) -> Caller:
    industries = tuple(user.association.industries) if user.association else ()
    return Caller(
        role=user.role,
        username=user.username,
        user_id=user.id,
        association_id=user.association_id,
        industries=industries,
    )


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


def _token_user(session: Session, token: str, secret: str) -> User | None:
    """The active user a token was issued to, unless their tokens were revoked after it was issued."""
    claims = decode_access_token(token, secret)
    subject = str(claims.get("sub", "")) if claims else ""
    user = session.get(User, int(subject)) if subject.isdigit() else None
    if claims is None or user is None or user.disabled:
        return None
    if user.tokens_valid_after is not None:
        issued = dt.datetime.fromtimestamp(float(claims.get("iat", 0)), dt.UTC).replace(tzinfo=None)
        if issued < user.tokens_valid_after:
            return None
    return user


def get_caller(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Caller:
    """The authenticated caller, or the public when no credentials are sent.

    Credentials that are sent but wrong are a 401, never a silent downgrade to the public.
    """
    if token:
        user = _token_user(session, token, settings.secret_key)
        if user is None:
            raise _unauthorized("无效或过期的凭证 (invalid credentials)")
        return _user_caller(user)
    if api_key:
        user = user_for_api_key(session, api_key)
        if user is None:
            raise _unauthorized("无效或已撤销的 API 密钥 (invalid API key)")
        return _user_caller(user)
    return PUBLIC


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_roles(*roles: str) -> Callable[[Caller], Awaitable[Caller]]:
    async def dependency(caller: CallerDep) -> Caller:
        if caller.role == "public":
            raise _unauthorized("需要登录 (authentication required)")
        if caller.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "无权访问 (not allowed for your role)")
        return caller

    return dependency


StaffDep = Annotated[Caller, Depends(require_roles("association_staff", "consumer_staff", "admin"))]
ConsumerStaffDep = Annotated[Caller, Depends(require_roles("consumer_staff", "admin"))]
AdminDep = Annotated[Caller, Depends(require_roles("admin"))]
