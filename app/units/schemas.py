import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.text import nfc

UnitType = Literal["border_guard_post", "police", "commune", "provincial_department", "ethnic_affairs_office", "other"]
UnitCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")]
UnitName = Annotated[str, AfterValidator(lambda v: nfc(v).strip()), Field(min_length=1, max_length=300)]


class UnitCreate(BaseModel):
    """`province` and `border_routes` may be ids, codes or names; they are stored as id and codes."""

    model_config = ConfigDict(extra="forbid")

    code: UnitCode
    name: UnitName
    type: UnitType
    province: str | None = None
    border_routes: list[str] = []
    parent_id: uuid.UUID | None = None
    active: bool = True


class UnitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: UnitName | None = None
    type: UnitType | None = None
    province: str | None = None
    border_routes: list[str] | None = None
    parent_id: uuid.UUID | None = None
    active: bool | None = None


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    type: str
    province: uuid.UUID | None
    border_routes: list[str]
    parent_id: uuid.UUID | None
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int


class UnitPage(BaseModel):
    items: list[UnitRead]
    next_cursor: str | None


class KeyCreated(BaseModel):
    id: uuid.UUID
    prefix: str
    key: str
    created_at: datetime


class KeyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyPage(BaseModel):
    items: list[KeyRead]
    next_cursor: str | None
