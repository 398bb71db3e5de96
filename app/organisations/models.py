"""Organisations: the ministries' focal units and the provincial departments that staff belong to."""

import uuid
from datetime import datetime

from sqlalchemy import Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, UUIDStr, new_id, utcnow

ORGANISATION_KINDS = ("ministry_unit", "provincial_department", "other")


class Organisation(Base):
    __tablename__ = "organisations"
    # Codes are unique in any case (the services compare them so; migration 0023).
    __table_args__ = (Index("uq_organisations_code_lower", func.lower(text("code")), unique=True),)

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30))
    is_demo: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
