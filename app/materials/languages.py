"""BCP 47 language tags, validated and normalised with langcodes (not a regex of our own)."""

from collections.abc import Sequence

import langcodes

from app.errors import ValidationFailed


def normalise(tag: str, loc: Sequence[str | int]) -> str:
    """'VI-vn' -> 'vi-VN'; an invalid tag is a 422 naming the field."""
    value = tag.strip()
    if not value or not langcodes.tag_is_valid(value):
        raise ValidationFailed(list(loc), f"{tag!r} is not a valid BCP 47 language tag (e.g. vi, hnj, km).")
    return langcodes.standardize_tag(value)
