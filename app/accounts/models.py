"""Staff accounts. Border units and their API keys live in app/units."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONType, UTCDateTime, UUIDStr, new_id, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(UUIDStr, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    organisation_id: Mapped[uuid.UUID | None] = mapped_column(UUIDStr, ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Part of every access token; raised when the password changes or the account is disabled,
    # so every token issued before is refused.
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SignInCounter(Base):
    """Sign-ins charged against one throttling key in its current window (see throttle.py).

    A sign-in is charged before its password is checked, in a transaction of its own, and a
    success gives its charge back; so what is left counts the failures (and the attempts that
    never finished)."""

    __tablename__ = "sign_in_counters"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SignInAddress(Base):
    """An address an account has signed in from: exempt from the account-wide limit."""

    __tablename__ = "sign_in_addresses"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[datetime] = mapped_column(UTCDateTime)
