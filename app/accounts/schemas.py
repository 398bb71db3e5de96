import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

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
    active: bool
    created_at: datetime
    updated_at: datetime
    version: int
