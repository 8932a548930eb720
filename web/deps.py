"""Request dependencies, as ``Annotated`` aliases for the routes.

Every route declares who may call it through one of the caller aliases below; queries are then
scoped by ``Caller`` (an association sees only its own industries). Staff authenticate with a bearer
token (``POST /api/auth/token``); machine clients send an API key in ``X-API-Key`` and act as the
key's user.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from anyio import to_thread
from cachetools import LRUCache
from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session, selectinload, sessionmaker

from core.accounts import user_for_api_key
from core.config import Settings
from core.db import session_commits
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

#: The largest id a row can have (PostgreSQL's 32-bit integer columns).
ROW_ID_MAX = 2**31 - 1
# A row id in a path: the schema names the range the id columns hold (32-bit on PostgreSQL), so an id
# past it is a 422 for malformed input and any id inside it is well formed (a 404 when absent).
RowId = Annotated[int, Path(ge=1, le=ROW_ID_MAX)]
# The same range for a row id given as a query filter.
RowIdFilter = Annotated[int | None, Query(ge=1, le=ROW_ID_MAX)]

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
#: A token's subject longer than this is no user id (and would overflow an INTEGER column).
MAX_USER_ID_DIGITS = 9


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


#: How long a worker trusts what it last read of a token's user when no session of this process has
#: committed since: another worker's or process's revocation, disabling or role change takes effect here
#: within this time (in the worker that made it, at once).
ACCOUNT_REFRESH_SECONDS = 0.5
ACCOUNTS_KEPT = 1024


@dataclass(frozen=True)
class TokenAccount:
    """What a bearer token needs of its user, as read at ``read_at`` with ``commits`` session commits."""

    caller: Caller | None  # None: no such user, or disabled
    tokens_valid_after: dt.datetime | None
    read_at: float
    commits: int

    def admits(self, claims: dict[str, Any]) -> bool:
        """Whether a token with these (verified) claims still speaks for the user."""
        if self.caller is None:
            return False
        if self.tokens_valid_after is None:
            return True
        issued = dt.datetime.fromtimestamp(float(claims.get("iat", 0)), dt.UTC).replace(tzinfo=None)
        return issued >= self.tokens_valid_after


class TokenAccounts:
    """Staff accounts as bearer tokens need them, read once per :data:`ACCOUNT_REFRESH_SECONDS` per user
    instead of once per request; any session commit in this process makes every one be read again."""

    def __init__(
        self, sessions: sessionmaker[Session], refresh_seconds: float = ACCOUNT_REFRESH_SECONDS
    ) -> None:
        self._sessions = sessions
        self._refresh_seconds = refresh_seconds
        self._kept: LRUCache[int, TokenAccount] = LRUCache(maxsize=ACCOUNTS_KEPT)  # event loop only

    def kept(self, user_id: int) -> TokenAccount | None:
        account = self._kept.get(user_id)
        if account is None or account.commits != session_commits():
            return None
        return account if time.monotonic() - account.read_at < self._refresh_seconds else None

    def read(self, user_id: int) -> TokenAccount:
        """The user as the database has it now (blocking: call from a worker thread)."""
        commits, read_at = session_commits(), time.monotonic()  # before: a commit meanwhile reads again
        with self._sessions() as session:
            user = session.get(User, user_id, options=[selectinload(User.association)])
            caller = _user_caller(user) if user is not None and not user.disabled else None
            valid_after = user.tokens_valid_after if user is not None else None
        return TokenAccount(caller, valid_after, read_at, commits)

    async def caller(self, claims: dict[str, Any]) -> Caller | None:
        """The caller a verified token speaks for, or None when its user is gone, disabled or signed out."""
        subject = str(claims.get("sub", ""))
        if not (subject.isascii() and subject.isdigit() and len(subject) <= MAX_USER_ID_DIGITS):
            return None
        user_id = int(subject)
        account = self.kept(user_id)
        if account is None:
            account = self._kept[user_id] = await to_thread.run_sync(self.read, user_id)
        return account.caller if account.admits(claims) else None


async def token_accounts(request: Request) -> TokenAccounts:
    """This app's accounts (async: made on the event loop, so never twice)."""
    accounts: TokenAccounts | None = getattr(request.app.state, "token_accounts", None)
    if accounts is None:
        accounts = request.app.state.token_accounts = TokenAccounts(request.app.state.sessions)
    return accounts


def _api_key_caller(sessions: sessionmaker[Session], api_key: str) -> Caller | None:
    with sessions() as session:
        user = user_for_api_key(session, api_key)
        return _user_caller(user) if user is not None else None


async def get_caller(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Caller:
    """The authenticated caller, or the public when no credentials are sent.

    Credentials that are sent but wrong are a 401, never a silent downgrade to the public. A bearer
    token's user is read at most every :data:`ACCOUNT_REFRESH_SECONDS` (see :class:`TokenAccounts`);
    an API key is looked up on every request (its use is recorded).
    """
    if token:
        claims = decode_access_token(token, settings.secret_key)
        caller = await (await token_accounts(request)).caller(claims) if claims is not None else None
        if caller is None:
            raise _unauthorized("无效或过期的凭证 (invalid credentials)")
        return caller
    if api_key:
        caller = await to_thread.run_sync(_api_key_caller, request.app.state.sessions, api_key)
        if caller is None:
            raise _unauthorized("无效或已撤销的 API 密钥 (invalid API key)")
        return caller
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
