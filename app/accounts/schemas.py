import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.schemas import nfc_stripped

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


# Stored NFC and trimmed, as every name is (a name typed on another system may arrive decomposed).
FullName = Annotated[str, AfterValidator(nfc_stripped), Field(max_length=200)]


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
    full_name: FullName = ""
    organisation_id: uuid.UUID | None = None


class UserUpdate(BaseModel):
    """Only the fields sent change. `active: false` disables the account; its tokens stop at once."""

    model_config = ConfigDict(extra="forbid")

    full_name: FullName | None = None
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
