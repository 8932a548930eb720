"""The staff-account endpoints' request and response models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.timestamps import UtcDateTime
from core.security import MIN_PASSWORD_LENGTH

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{3,60}$"


class UserBase(BaseModel):
    username: str = Field(pattern=USERNAME_PATTERN, description="3–60 个字母、数字或 _ . @ -")
    role: Literal["association_staff", "consumer_staff", "admin"]
    full_name: str | None = Field(default=None, max_length=60)
    email: str | None = Field(default=None, max_length=120, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserCreate(UserBase):
    """Association staff name their association (the schema says so, so clients know before they send)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"role": {"const": "association_staff"}}},
            "then": {
                "required": ["association"],
                "properties": {"association": {"type": "string", "minLength": 1}},
            },
        }
    )

    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=200)
    association: str | None = Field(
        default=None, max_length=80, description="所属协会的代码或名称；行业协会工作人员必填"
    )


class UserPublic(UserBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    association_id: int | None
    association_name: str | None
    disabled: bool
    created_at: UtcDateTime


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int
