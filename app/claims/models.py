"""False information: reports from the ground or online, the claims they are grouped into,
comments and published rebuttals. (The claim index's outbox is app.search.outbox.ClaimOutbox.)"""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, JSONType, UTCDateTime, UUIDStr, new_id, utcnow
from app.materials.models import Tagged

CLAIM_STATUSES = ("new", "triaged", "in_progress", "rebutted", "closed", "not_false", "out_of_scope")
OPEN_STATUSES = ("new", "triaged", "in_progress")
SEVERITIES = ("low", "normal", "high", "critical")
VERDICTS = ("false", "misleading", "missing_context", "true")
# The claim's place tags and the facet each is stored under (as for materials).
PLACE_FIELDS = {"ethnic_groups": "ethnic_group", "border_routes": "border_route", "provinces": "province"}


class Claim(Tagged, Base):
    __tablename__ = "claims"
    __table_args__ = (Index("ix_claims_status_deadline", "status", "deadline_at"),)

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(500))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="new")
    severity: Mapped[str] = mapped_column(String(10), default="normal")
    lead_organisation_id: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("organisations.id"))
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    first_reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rebutted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when this claim was merged into another: its reports moved there; it is kept for history.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("claims.id"))
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    tags: Mapped[list["ClaimTag"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ClaimTag.position"
    )
    organisations: Mapped[list["ClaimOrganisation"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ClaimOrganisation.position"
    )
    rebuttals: Mapped[list["ClaimRebuttal"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ClaimRebuttal.published_at"
    )

    @property
    def organisation_ids(self) -> list[uuid.UUID]:
        return [o.organisation_id for o in self.organisations]

    @property
    def overdue(self) -> bool:
        """Still open, not merged, and past its deadline now."""
        return self.status in OPEN_STATUSES and self.merged_into_id is None and self.deadline_at < utcnow()


class ClaimTag(Base):
    __tablename__ = "claim_tags"
    __table_args__ = (Index("ix_claim_tags_facet_value", "facet", "value"),)

    claim_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True)
    facet: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(60), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ClaimOrganisation(Base):
    """An organisation coordinating on a claim (the lead is on the claim itself)."""

    __tablename__ = "claim_organisations"

    claim_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("organisations.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class ClaimRebuttal(Base):
    """A published rebuttal of the claim, and the urgent bundle drafted to deliver it."""

    __tablename__ = "claim_rebuttals"

    claim_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True)
    material_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("materials.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    verdict: Mapped[str] = mapped_column(String(20))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bundle_id: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("bundles.id", ondelete="SET NULL"))


class ClaimReport(Base):
    """Something seen on the ground or online, by a unit (with its key) or a staff user."""

    __tablename__ = "claim_reports"

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("claims.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    urls: Mapped[list[str]] = mapped_column(JSONType, default=list)
    platform: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(35))
    observed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tags: Mapped[dict] = mapped_column(JSONType, default=dict)  # {ethnic_groups, border_routes, provinces}
    # new: waiting for triage; linked: part of a claim. `matched_by`: url, text or staff.
    status: Mapped[str] = mapped_column(String(10), default="new")
    matched_by: Mapped[str | None] = mapped_column(String(10))
    suggestions: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    reporter_type: Mapped[str] = mapped_column(String(10))
    reporter_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, index=True)
    reporter_label: Mapped[str] = mapped_column(String(320))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attachments: Mapped[list["ClaimReportAttachment"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ClaimReportAttachment.created_at"
    )


class ClaimReportUrl(Base):
    """A report's URL, normalised, so a report naming the same page joins its claim at once."""

    __tablename__ = "claim_report_urls"

    report_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("claim_reports.id", ondelete="CASCADE"), primary_key=True
    )
    normalised: Mapped[str] = mapped_column(String(2000), primary_key=True)
    url_hash: Mapped[str] = mapped_column(String(64), index=True)


class ClaimReportAttachment(Base):
    __tablename__ = "claim_report_attachments"

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    report_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("claim_reports.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ClaimComment(Base):
    __tablename__ = "claim_comments"

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    claim_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    author_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("users.id"))
    author_label: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)

    @property
    def author(self) -> dict[str, object]:
        """Who wrote it, as one object (how the API shows it)."""
        return {"id": self.author_id, "label": self.author_label}
