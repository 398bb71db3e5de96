"""Reference data: ethnic groups, border routes, provinces with their succession, topics."""

import uuid
from datetime import date

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONType, UUIDStr, new_id


class EthnicGroup(Base):
    __tablename__ = "ethnic_groups"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # 2008 list (QĐ 1019/QĐ-TCTK)
    code_1979: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_ascii: Mapped[str] = mapped_column(String(100))
    # Shown to users.
    other_names: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Matched, never shown: derogatory historical exonyms (Mọi, Mèo, Mán and names built on them).
    hidden_names: Mapped[list[str]] = mapped_column(JSONType, default=list)
    spelling_variants: Mapped[list[str]] = mapped_column(JSONType, default=list)
    language_family: Mapped[str] = mapped_column(String(100))
    population_2019: Mapped[int | None] = mapped_column(Integer)
    is_minority: Mapped[bool] = mapped_column(Boolean)


class BorderRoute(Base):
    __tablename__ = "border_routes"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    neighbor_country: Mapped[str] = mapped_column(String(100))
    neighbor_country_vi: Mapped[str] = mapped_column(String(100))
    length_km: Mapped[float | None] = mapped_column(Float)
    length_precision: Mapped[str] = mapped_column(String(40), default="")
    length_note: Mapped[str] = mapped_column(Text, default="")


class Province(Base):
    """One provincial unit over one period of validity; codes were reused in 2025, ids are not."""

    __tablename__ = "provinces"
    __table_args__ = (UniqueConstraint("code", "name", "valid_from", name="natural_key"),)

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(3), index=True)
    name: Mapped[str] = mapped_column(String(100))
    name_ascii: Mapped[str] = mapped_column(String(100))
    unit_type: Mapped[str] = mapped_column(String(60))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    border_routes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")


class ProvinceSuccession(Base):
    __tablename__ = "province_successions"

    predecessor_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("provinces.id", ondelete="CASCADE"), primary_key=True
    )
    successor_id: Mapped[uuid.UUID] = mapped_column(
        UUIDStr, ForeignKey("provinces.id", ondelete="CASCADE"), primary_key=True
    )


class Topic(Base):
    __tablename__ = "topics"

    slug: Mapped[str] = mapped_column(String(60), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))  # Vietnamese
    name_en: Mapped[str] = mapped_column(String(120))
