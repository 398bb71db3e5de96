import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from app.schemas import Schedule, Timestamp, nfc_stripped, not_null
from app.units.schemas import UnitType

Priority = Literal["normal", "urgent"]
BundleStatus = Literal["draft", "published", "recalled"]
DeliveryStatus = Literal["pending", "fetched", "acknowledged"]


Title = Annotated[str, AfterValidator(nfc_stripped), Field(min_length=1, max_length=500)]
Description = Annotated[str, AfterValidator(nfc_stripped), Field(max_length=20_000)]
Note = Annotated[str, AfterValidator(nfc_stripped), Field(max_length=2_000)]
TargetValues = Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=5_000)]


class BundleItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    material_id: uuid.UUID
    note: Note = ""
    include_translations: bool = Field(
        default=False,
        description="Also send every published translation of this material (as published when the bundle is)",
    )


class BundleTargets(BaseModel):
    """Units by id or code; border routes and provinces by code, id or name; unit types by name.
    A unit is addressed when it is listed or matches ANY of the selectors (active units only)."""

    model_config = ConfigDict(extra="forbid")

    units: TargetValues = []
    border_routes: TargetValues = []
    provinces: TargetValues = []
    unit_types: list[UnitType] = []


Items = Annotated[list[BundleItem], Field(max_length=1_000)]


class BundleCreate(Schedule):
    model_config = ConfigDict(extra="forbid")

    title: Title
    description: Description = ""
    priority: Priority = "normal"
    items: Items = []
    targets: BundleTargets = BundleTargets()
    publish_at: Timestamp | None = None
    expires_at: Timestamp | None = None


class BundleUpdate(Schedule):
    """Every field optional; only the fields sent are changed (applied with exclude_unset)."""

    model_config = ConfigDict(extra="forbid")

    title: Title | None = None
    description: Description | None = None
    priority: Priority | None = None
    items: Items | None = None
    targets: BundleTargets | None = None
    publish_at: Timestamp | None = None
    expires_at: Timestamp | None = None

    _required_stay_set = field_validator("title", "description", "priority", "items", "targets")(not_null)


class TargetsRead(BaseModel):
    units: list[uuid.UUID]
    border_routes: list[str]
    provinces: list[uuid.UUID]
    unit_types: list[str]

    @model_validator(mode="before")
    @classmethod
    def _absent_is_empty(cls, data: Any) -> Any:
        # Targets are stored as resolved, without the selectors that were not given.
        return {**dict.fromkeys(cls.model_fields, []), **data} if isinstance(data, dict) else data


class BundleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    title: str
    description: str
    priority: str
    items: list[BundleItem]
    targets: TargetsRead
    status: str
    publish_at: datetime | None
    expires_at: datetime | None
    version: int
    published_version: int | None
    published_at: datetime | None
    recalled_at: datetime | None
    created_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class BundlePage(BaseModel):
    items: list[BundleRead]
    next_cursor: str | None


class PublishedItem(BaseModel):
    """An item as it was sent: the material whole, at the version frozen at publication."""

    position: int
    material_id: uuid.UUID
    material_version: int
    note: str
    material: dict[str, Any] | None


class PublicationHead(BaseModel):
    # A publication as stored, without its items (read from the materials' revisions).
    model_config = ConfigDict(from_attributes=True)

    bundle_id: uuid.UUID
    version: int
    title: str
    description: str
    priority: str
    targets: TargetsRead
    published_at: datetime
    release_at: datetime
    released_at: datetime | None
    expires_at: datetime | None
    superseded_at: datetime | None
    expired_at: datetime | None


class PublicationRead(PublicationHead):
    items: list[PublishedItem]


class PublicationPage(BaseModel):
    items: list[PublicationRead]
    next_cursor: str | None


class UnitRef(BaseModel):
    id: uuid.UUID
    code: str
    name: str


class DeliveryRead(BaseModel):
    unit: UnitRef
    status: str
    version: int
    fetched_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_version: int | None
    manifest_sha256: str | None


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None


class ProvinceRef(BaseModel):
    id: uuid.UUID
    name: str


class OverdueDelivery(BaseModel):
    bundle_id: uuid.UUID
    title: str
    version: int
    published_at: datetime
    unit: UnitRef
    province: ProvinceRef | None
    status: str
    fetched_at: datetime | None


class OverdueProvince(BaseModel):
    province: ProvinceRef | None
    units: int
    deliveries: int


class OverduePage(BaseModel):
    """Urgent bundles not acknowledged within `hours`: per unit (paged) and per province (whole)."""

    hours: float
    items: list[OverdueDelivery]
    provinces: list[OverdueProvince]
    next_cursor: str | None
