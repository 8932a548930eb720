"""Staff sign-in: the OAuth2 password flow issues a bearer token (machine clients use API keys)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from api.schemas.auth import Token
from core.models import User
from core.security import create_access_token, verify_password
from web.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=Token)
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep, settings: SettingsDep
) -> Token:
    """OAuth2 password flow: exchange username and password for a bearer token."""
    user = session.scalar(select(User).where(User.username == form.username))
    password_ok = verify_password(form.password, user.password_hash if user else None)
    if user is None or user.disabled or not password_ok:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "用户名或密码错误 (wrong username or password)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = create_access_token(
        subject=str(user.id), secret=settings.secret_key, minutes=settings.access_token_minutes
    )
    return Token(access_token=token)
