import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.bundles.schemas import PublishedItem
from app.schemas import INT32_MAX


class FeedItem(BaseModel):
    """A bundle's latest state for the calling unit. `status` is `recalled` for a tombstone
    (`change` says whether it was recalled or expired): delete the bundle."""

    bundle_id: uuid.UUID
    title: str
    priority: str
    status: str
    change: str
    version: int
    published_at: datetime
    updated_at: datetime
    url: str
    package_url: str


class FeedPage(BaseModel):
    items: list[FeedItem]
    next_cursor: str | None = Field(description="More items right now: send it as `since`.")
    cursor: str = Field(description="The checkpoint: send it as `since` next time.")


class FeedBundle(BaseModel):
    """A bundle exactly as it was sent to the unit, materials whole at the frozen versions."""

    bundle_id: uuid.UUID
    version: int
    title: str
    description: str
    priority: str
    status: str
    published_at: datetime
    expires_at: datetime | None
    url: str
    package_url: str
    items: list[PublishedItem]


class AckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(ge=1, le=INT32_MAX)] | None = None
    manifest_sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None


class SigningKeyRead(BaseModel):
    algorithm: str
    public_key: str = Field(description="Base64 of the raw 32-byte Ed25519 public key.")
    key_id: str = Field(description="First 16 hex digits of the SHA-256 of the raw public key.")
