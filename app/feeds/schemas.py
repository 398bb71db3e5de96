import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AliasPath, BaseModel, ConfigDict, Field, computed_field

from app.bundles.schemas import PublishedItem
from app.schemas import INT32_MAX
from app.urls import api_path


class FeedLinks(BaseModel):
    """Where a unit reads a bundle of its feed, and its package."""

    bundle_id: uuid.UUID

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str:
        return api_path(f"/feed/bundles/{self.bundle_id}")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def package_url(self) -> str:
        return f"{self.url}/package"


class FeedItem(FeedLinks):
    """A bundle's latest state for the calling unit. `status` is `recalled` for a tombstone
    (`change` says whether it was recalled or expired): delete the bundle."""

    # Validated from a FeedChange with its publication loaded; by name when read back.
    model_config = ConfigDict(from_attributes=True, validate_by_name=True)

    title: str = Field(validation_alias=AliasPath("publication", "title"))
    priority: str = Field(validation_alias=AliasPath("publication", "priority"))
    status: str
    change: str = Field(validation_alias="kind")
    version: int = Field(validation_alias="bundle_version")
    published_at: datetime = Field(validation_alias=AliasPath("publication", "release_at"))
    updated_at: datetime = Field(validation_alias="at")


class FeedPage(BaseModel):
    items: list[FeedItem]
    next_cursor: str | None = Field(description="More items right now: send it as `since`.")
    cursor: str = Field(description="The checkpoint: send it as `since` next time.")


class FeedBundle(FeedLinks):
    """A bundle exactly as it was sent to the unit, materials whole at the frozen versions.
    `id` is the bundle's id, as in every bundle; `bundle_id` the same, as the feed's items name it."""

    id: uuid.UUID
    bundle_id: uuid.UUID
    version: int
    title: str
    description: str
    priority: str
    status: str
    published_at: datetime
    expires_at: datetime | None
    items: list[PublishedItem]


class AckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None
    manifest_sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None


class SigningKeyRead(BaseModel):
    algorithm: str
    public_key: str = Field(description="Base64 of the raw 32-byte Ed25519 public key.")
    key_id: str = Field(description="First 16 hex digits of the SHA-256 of the raw public key.")
