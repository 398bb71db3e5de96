"""Materials, their tags, every saved version, and attachments."""

import uuid
from datetime import datetime
from typing import Protocol

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, UUIDStr, WholeJSON, new_id, utcnow

# The API's list fields and the tag facet each is stored under.
TAG_FIELDS = {
    "ethnic_groups": "ethnic_group",
    "border_routes": "border_route",
    "provinces": "province",
    "topics": "topic",
}


class HasTags(Protocol):
    def tag_values(self, facet: str) -> list[str]: ...


def tag_lists(material: HasTags) -> dict[str, list[str]]:
    """{"ethnic_groups": [...], "border_routes": [...], "provinces": [...], "topics": [...]}, input order."""
    return {field: material.tag_values(facet) for field, facet in TAG_FIELDS.items()}


class Tagged:
    """The tag lists under the API's names, in input order, so that a read model can be validated
    straight from the ORM object (`from_attributes`). The class mixing it in maps `tags`."""

    def tag_values(self, facet: str) -> list[str]:
        return [t.value for t in self.tags if t.facet == facet]  # type: ignore[attr-defined]

    @property
    def ethnic_groups(self) -> list[str]:
        return self.tag_values("ethnic_group")

    @property
    def border_routes(self) -> list[str]:
        return self.tag_values("border_route")

    @property
    def provinces(self) -> list[str]:
        return self.tag_values("province")


class Material(Tagged, Base):
    __tablename__ = "materials"
    __table_args__ = (
        Index("ix_materials_status_updated", "status", "updated_at"),
        Index("ix_materials_translation_of", "translation_of"),
        # The reports read the period's materials from these alone on PostgreSQL (migration 0022).
        Index(
            "ix_materials_status_published",
            "status",
            "published_at",
            postgresql_include=["id", "kind", "language", "translation_of", "created_by", "created_at"],
        ),
        Index(
            "ix_materials_created",
            "created_at",
            postgresql_include=["id", "kind", "language", "translation_of", "created_by"],
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(30))
    language: Mapped[str] = mapped_column(String(35))
    classification: Mapped[str] = mapped_column(String(20), default="public")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str | None] = mapped_column(String(1000))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    # Who last changed the content (not the status): the four-eyes rule reads this.
    last_edited_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The source this material translates (one level only: a source is never a translation).
    translation_of: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("materials.id"))

    tags: Mapped[list["MaterialTag"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="MaterialTag.position"
    )
    attachments: Mapped[list["Attachment"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Attachment.created_at"
    )
    # A rebuttal's answers: which claims it rebuts, each with a verdict (kind `rebuttal` only).
    rebuts: Mapped[list["MaterialRebut"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="MaterialRebut.position"
    )

    @property
    def topics(self) -> list[str]:
        return self.tag_values("topic")


class MaterialTag(Base):
    """One (facet, value) of a material: what filters and facets read. `position` keeps input order."""

    __tablename__ = "material_tags"
    __table_args__ = (Index("ix_material_tags_facet_value", "facet", "value"),)

    material_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("materials.id", ondelete="CASCADE"), primary_key=True
    )
    facet: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(60), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class MaterialRebut(Base):
    """One claim a rebuttal answers, with its verdict. The claim id is checked by the claims
    domain (a registered hook), so materials never import claims."""

    __tablename__ = "material_rebuts"

    material_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("materials.id", ondelete="CASCADE"), primary_key=True
    )
    claim_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, index=True)
    verdict: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)


class MaterialRevision(Base):
    """Every saved version of a material, whole, as the API showed it."""

    __tablename__ = "material_revisions"

    material_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("materials.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot: Mapped[dict] = mapped_column(WholeJSON)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    saved_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    change: Mapped[str] = mapped_column(String(40))  # created, updated, transition:<to>, attachment


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    material_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("materials.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))


class SearchOutbox(Base):
    """A material that changed (or was deleted) and must be (re)sent to the search backend.

    Written by the materials service in the same transaction as the change; drained by the
    search indexer. Rows are marked processed rather than deleted at once, so a rebuild can
    replay what changed while it was copying; the indexer purges old processed rows.
    """

    __tablename__ = "search_outbox"
    __table_args__ = (Index("ix_search_outbox_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    material_id: Mapped[uuid.UUID] = mapped_column(UUIDStr)
    # The material's version after the change; for a deletion, one more than its last version.
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set while one indexer process holds the row (app/search/indexer.py, `_claim`).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
