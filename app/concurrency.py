"""Optimistic concurrency for every versioned resource: strong ETags and If-Match, and the
headers the routers of versioned resources send (ETag on every read, Location on create)."""

import uuid
from typing import Annotated, Protocol, TypeVar

from fastapi import Header, Request, Response
from pydantic import BaseModel

from app.errors import PreconditionFailed, PreconditionRequired
from app.urls import api_path

ReadModel = TypeVar("ReadModel", bound=BaseModel)

# The If-Match request header. A route parameter named `if_match` is what app/openapi.py looks
# for: on PATCH and DELETE it documents the header as required (428 without it).
IfMatch = Annotated[str | None, Header()]


class Versioned(Protocol):
    """An ORM object with an id and a version that every write increments."""

    @property
    def id(self) -> uuid.UUID: ...

    @property
    def version(self) -> int: ...


def etag(resource: Versioned) -> str:
    """The strong ETag of `resource`'s representation: its id and version, and the `etag_state`
    of a resource whose representation also changes without a new version (a bundle's version
    counts its content; publishing or recalling it changes its status, not its version)."""
    return f'"{resource.id}-v{resource.version}{getattr(resource, "etag_state", "")}"'


def none_match(request: Request, etag: str) -> bool:
    """Whether If-None-Match names `etag` or is `*`: the caller's copy is current (a 304). The
    comparison is weak (RFC 9110 13.1.2), so a tag a proxy marked W/ still matches."""
    given = request.headers.get("if-none-match")
    if given is None:
        return False
    bare = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == bare for tag in (t.strip() for t in given.split(",")))


def check_if_match(resource: Versioned, if_match: str | None, noun: str = "resource") -> None:
    """If-Match is required (428) and must name the current representation (412)."""
    if if_match is None:
        raise PreconditionRequired("Send If-Match with the ETag you last read, so no change is lost.")
    given = [tag.strip() for tag in if_match.split(",")]
    current = etag(resource)
    if "*" in given or current in given or f"W/{current}" in given:
        return
    raise PreconditionFailed(
        f"The {noun} changed since you read it; read it again and reapply your change.",
        extra={"current_version": resource.version},
    )


def tagged(response: Response, resource: Versioned, read: type[ReadModel]) -> ReadModel:
    """The read model of `resource` (validated from the ORM object), with its ETag on the response."""
    response.headers["ETag"] = etag(resource)
    return read.model_validate(resource)


def located(response: Response, path: str) -> None:
    """Location: where the resource just created lives (`path` is below the API prefix)."""
    response.headers["Location"] = api_path(path)


def created(response: Response, path: str, resource: Versioned, read: type[ReadModel]) -> ReadModel:
    """As `tagged`, for a versioned resource just created at `path`: sets Location too."""
    located(response, path)
    return tagged(response, resource, read)
