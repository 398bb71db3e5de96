import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.schemas import nfc_stripped

OrganisationKind = Literal["ministry_unit", "provincial_department", "other"]
OrganisationCode = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")]
OrganisationName = Annotated[str, AfterValidator(nfc_stripped), Field(min_length=1, max_length=300)]


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: OrganisationCode
    name: OrganisationName
    kind: OrganisationKind


class OrganisationUpdate(BaseModel):
    """Only the fields sent change; the code is the organisation's name in scripts and stays."""

    model_config = ConfigDict(extra="forbid")

    name: OrganisationName | None = None
    kind: OrganisationKind | None = None


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    kind: str
    created_at: datetime
    updated_at: datetime
    version: int


class OrganisationPage(BaseModel):
    items: list[OrganisationRead]
    next_cursor: str | None
