"""Staff accounts: administrators list, create, disable and re-enable them; staff read their own."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from api.schemas.users import UserCreate, UserPublic, UsersPublic
from core.accounts import AccountError, create_user, find_association, set_user_disabled
from core.models import User
from web.deps import AdminDep, Caller, RowId, SessionDep, StaffDep

router = APIRouter(prefix="/users", tags=["users"])


def _public(user: User) -> UserPublic:
    return UserPublic(
        id=user.id,
        username=user.username,
        role=user.role,
        full_name=user.full_name,
        email=user.email,
        association_id=user.association_id,
        association_name=user.association.name if user.association else None,
        disabled=user.disabled,
        created_at=user.created_at,
    )


def _account_error(error: AccountError) -> HTTPException:
    if error.missing:
        return HTTPException(status.HTTP_404_NOT_FOUND, error.message)
    code = status.HTTP_409_CONFLICT if error.conflict else status.HTTP_422_UNPROCESSABLE_CONTENT
    return HTTPException(code, error.message)


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "用户不存在")
    return user


@router.get("/me", response_model=UserPublic)
def read_me(session: SessionDep, caller: StaffDep) -> UserPublic:
    """The signed-in account (also for API keys: the key's user)."""
    return _public(_user(session, caller.user_id or 0))


@router.get("", response_model=UsersPublic)
def list_users(
    session: SessionDep,
    _: AdminDep,
    role: Literal["association_staff", "consumer_staff", "admin"] | None = None,
    disabled: bool | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> UsersPublic:
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if disabled is not None:
        query = query.where(User.disabled == disabled)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = session.scalars(
        query.options(selectinload(User.association))
        .order_by(User.username)
        .offset((page - 1) * size)
        .limit(size)
    )
    return UsersPublic(data=[_public(u) for u in users], count=count)


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
def add_user(user_in: UserCreate, session: SessionDep, caller: AdminDep) -> UserPublic:
    try:
        association = find_association(session, user_in.association) if user_in.association else None
        user = create_user(
            session,
            actor=_actor(caller),
            username=user_in.username,
            password=user_in.password,
            role=user_in.role,
            association=association,
            full_name=user_in.full_name,
            email=user_in.email,
        )
    except AccountError as error:
        raise _account_error(error) from error
    session.commit()
    return _public(user)


def _actor(caller: Caller) -> str:
    return caller.username or caller.role


def _set_disabled(session: Session, caller: Caller, user_id: int, disabled: bool) -> UserPublic:
    user = _user(session, user_id)
    if disabled and user.id == caller.user_id:
        raise HTTPException(status.HTTP_409_CONFLICT, "不能停用自己的账号")
    set_user_disabled(session, user, actor=_actor(caller), disabled=disabled)
    session.commit()
    return _public(user)


@router.post("/{user_id}/disable", response_model=UserPublic)
def disable_user(user_id: RowId, session: SessionDep, caller: AdminDep) -> UserPublic:
    """Disable an account: its tokens and API keys stop working at once."""
    return _set_disabled(session, caller, user_id, True)


@router.post("/{user_id}/enable", response_model=UserPublic)
def enable_user(user_id: RowId, session: SessionDep, caller: AdminDep) -> UserPublic:
    return _set_disabled(session, caller, user_id, False)
