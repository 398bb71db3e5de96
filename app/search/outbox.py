"""The outbox of the claim index: a claim that changed and must be (re)sent to the backend.

The claims domain writes a row in the same transaction as the change; the indexer drains it.
It lives here, below claims, because the indexer reads it and search must not import claims.
"""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, UUIDStr, utcnow


class ClaimOutbox(Base):
    """A claim that changed and must be (re)sent to the search backend's claim index; written in
    the same transaction as the change, drained by the search indexer (as for materials)."""

    __tablename__ = "claim_search_outbox"
    __table_args__ = (Index("ix_claim_search_outbox_pending", "processed_at", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    claim_id: Mapped[uuid.UUID] = mapped_column(UUIDStr)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
