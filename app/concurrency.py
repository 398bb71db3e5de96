"""Optimistic concurrency for every versioned resource: strong ETags and If-Match."""

import uuid

from app.errors import PreconditionFailed, PreconditionRequired


def etag_for(resource_id: uuid.UUID, version: int) -> str:
    return f'"{resource_id}-v{version}"'


def check_if_match(resource_id: uuid.UUID, version: int, if_match: str | None, noun: str = "resource") -> None:
    """If-Match is required (428) and must name the current version (412)."""
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag you last read, so no change is lost.")
    given = [tag.strip() for tag in if_match.split(",")]
    current = etag_for(resource_id, version)
    if "*" in given or current in given or f"W/{current}" in given:
        return
    raise PreconditionFailed(
        f"The {noun} changed since you read it; read it again and reapply your change.",
        extra={"current_version": version},
    )
