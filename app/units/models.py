"""The register of receiving units: border guard posts, police, communes, departments, offices."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONType, UTCDateTime, UUIDStr, new_id, utcnow

UNIT_TYPES = (
    "border_guard_post",
    "police",
    "commune",
    "provincial_department",
    "ethnic_affairs_office",
    "other",
)


class Unit(Base):
    __tablename__ = "units"
    # Codes are unique in any case (the services compare them so; migration 0023).
    __table_args__ = (Index("uq_units_code_lower", func.lower(text("code")), unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(40))
    # By id, so the unit keeps its province through the 2025 merger (codes were reused).
    province: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("provinces.id"))
    border_routes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ApiKey(Base):
    """A border unit's key: only a hash is kept; the short public prefix finds it."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    unit_id: Mapped[uuid.UUID] = mapped_column(UUIDStr, ForeignKey("units.id", ondelete="CASCADE"), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("users.id"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
