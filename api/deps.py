"""Request dependencies, as ``Annotated`` aliases for the routes.

Every route declares who may call it through one of the caller aliases below; queries are then
scoped by ``Caller`` (an association sees only its own industries).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from core.config import Settings
from core.models import User
from core.security import decode_access_token


def get_settings_dep(request: Request) -> Settings:
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

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


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


def get_caller(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Caller:
    """The authenticated caller, or the public when no credentials are sent."""
    if not token:
        return PUBLIC
    claims = decode_access_token(token, settings.secret_key)
    user = session.get(User, int(claims["sub"])) if claims and str(claims.get("sub", "")).isdigit() else None
    if user is None or user.disabled:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "无效或过期的凭证 (invalid credentials)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return _user_caller(user)


CallerDep = Annotated[Caller, Depends(get_caller)]


def require_roles(*roles: str) -> Callable[[Caller], Caller]:
    def dependency(caller: CallerDep) -> Caller:
        if caller.role == "public":
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "需要登录 (authentication required)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if caller.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "无权访问 (not allowed for your role)")
        return caller

    return dependency


StaffDep = Annotated[Caller, Depends(require_roles("association_staff", "consumer_staff", "admin"))]
ConsumerStaffDep = Annotated[Caller, Depends(require_roles("consumer_staff", "admin"))]
AdminDep = Annotated[Caller, Depends(require_roles("admin"))]
