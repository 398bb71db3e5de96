"""Opaque cursors for lists ordered by time-ordered ids (UUID v7): the last id seen."""

import base64
import binascii
import uuid

from app.errors import ValidationFailed


def encode_id_cursor(value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(value.bytes).decode().rstrip("=")


def decode_id_cursor(cursor: str) -> str:
    """The id a cursor carries, as stored text; a cursor this service did not make is a 422."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return str(uuid.UUID(bytes=raw))
    except (ValueError, binascii.Error):
        raise ValidationFailed(["query", "cursor"], "The cursor is not one this list gave out.") from None
