import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "editor", "reviewer", "analyst"]
ROLES: tuple[str, ...] = ("admin", "editor", "reviewer", "analyst")


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class MeRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    type: Literal["user", "unit"]
    id: uuid.UUID
    label: str
    roles: list[str]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    roles: list[str]
    organisation_id: uuid.UUID | None
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    full_name: str = Field(default="", max_length=200)
    organisation_id: uuid.UUID | None = None


class UserUpdate(BaseModel):
    """Only the fields sent change. `active: false` disables the account; its tokens stop at once."""

    model_config = ConfigDict(extra="forbid")

    full_name: str | None = Field(default=None, max_length=200)
    roles: list[Role] | None = Field(default=None, min_length=1)
    active: bool | None = None
    organisation_id: uuid.UUID | None = None
    password: str | None = Field(default=None, min_length=1, max_length=200)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=1, max_length=200)


class UserPage(BaseModel):
    items: list[UserRead]
    next_cursor: str | None
