"""Bundles, what each publication froze, one delivery per addressed unit, and the feed change log."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, JSONType, UTCDateTime, UUIDStr, new_id, utcnow

# Feed change kinds (published, updated, recalled, expired) that leave the bundle visible; the
# others are tombstones.
VISIBLE_KINDS = ("published", "updated")


class Bundle(Base):
    """The editable bundle. `items` is the ordered list [{material_id, note}]; `targets` holds
    explicit unit ids and the selectors {units, border_routes, provinces, unit_types}."""

    __tablename__ = "bundles"
    __table_args__ = (Index("ix_bundles_status_updated", "status", "updated_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    items: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    targets: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The version of the latest publication, and when it is (or was) released to units.
    published_version: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    # Who last changed the content: the four-eyes rule reads this and created_by.
    last_edited_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    @property
    def etag_state(self) -> str:
        """What the ETag adds to the version (app.concurrency.etag): `version` counts the content,
        and publishing or recalling changes status and published_version without a new version,
        so an If-Match read from the draft no longer applies to the published bundle."""
        return "" if self.status == "draft" else f"-{self.status}-p{self.published_version}"


class BundlePublication(Base):
    """One publication, frozen: the bundle's text, its targets, and each item with the material
    version that was sent ([{material_id, material_version, note}]). Never changed afterwards,
    except for the bookkeeping of its release, supersession and expiry."""

    __tablename__ = "bundle_publications"
    __table_args__ = (Index("ix_bundle_publications_due_at", "due_at"),)

    bundle_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("bundles.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(10))
    items: Mapped[list[dict]] = mapped_column(JSONType)
    targets: Mapped[dict] = mapped_column(JSONType)
    published_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When units may see it (publish_at, or the moment of publishing) and until when.
    release_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The next time the releaser must act on it (release, then expiry); null when nothing is due.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """A bundle addressed to a unit: which version it is due, and whether it arrived."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_unit_id", "unit_id"),
        Index("ix_deliveries_unit_fetched", "unit_id", "fetched_at"),  # a unit's last fetch (reports)
    )

    bundle_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("bundles.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_version: Mapped[int | None] = mapped_column(Integer)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    # Set when a later publication no longer addresses the unit.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedChange(Base):
    """The change log units sync from: one row per unit per change it must see.

    `seq` order is commit order (see app.bundles.changelog), so a cursor is the last seq seen.
    """

    __tablename__ = "feed_changes"
    __table_args__ = (
        Index("ix_feed_changes_unit_seq", "unit_id", "seq"),
        Index("ix_feed_changes_bundle_unit_seq", "bundle_id", "unit_id", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("units.id", ondelete="CASCADE"))
    bundle_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("bundles.id", ondelete="CASCADE"))
    bundle_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The publication the change names (the feed's query loads it in its own join).
    publication: Mapped[BundlePublication] = relationship(
        primaryjoin="and_(foreign(FeedChange.bundle_id) == BundlePublication.bundle_id,"
        " foreign(FeedChange.bundle_version) == BundlePublication.version)",
        viewonly=True,
    )

    @property
    def status(self) -> str:
        """What the unit should do with its copy: keep it (`published`) or delete it (`recalled`)."""
        return "published" if self.kind in VISIBLE_KINDS else "recalled"


class PublicationTarget(Base):
    """The targets of a publication, one row per value, so that finding the live bundles a new
    unit matches is one indexed query. facet: unit, border_route, province, unit_type."""

    __tablename__ = "publication_targets"
    __table_args__ = (
        Index("ix_publication_targets_facet_value", "facet", "value"),
        ForeignKeyConstraint(
            ["bundle_id", "version"],
            ["bundle_publications.bundle_id", "bundle_publications.version"],
            ondelete="CASCADE",
        ),
    )

    bundle_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    facet: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
