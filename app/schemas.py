"""Pydantic pieces shared by every domain's schemas."""

from typing import Self

from pydantic import BaseModel, model_validator

from app.text import nfc


def nfc_stripped(value: str) -> str:
    return nfc(value).strip()


class Schedule(BaseModel):
    """For bodies with `publish_at` / `expires_at`: RFC 3339 with a zone, and expiry after publication."""

    @model_validator(mode="after")
    def _expires_after_publish(self) -> Self:
        publish_at = getattr(self, "publish_at", None)
        expires_at = getattr(self, "expires_at", None)
        for name, value in (("publish_at", publish_at), ("expires_at", expires_at)):
            if value is not None and value.tzinfo is None:
                raise ValueError(f"{name} needs a time zone (RFC 3339), e.g. 2026-07-01T00:00:00Z")
        if publish_at and expires_at and expires_at <= publish_at:
            raise ValueError("expires_at must be after publish_at")
        return self
