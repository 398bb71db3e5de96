"""The one paging kit: opaque cursors and "fetch one more than the page".

Every list is keyset-paged: a query asks for `limit + 1` rows (`page_size(limit)`); if the extra
row came back there is a next page, and its cursor carries the sort key of the last row shown.
A cursor is base64url of compact JSON. It is opaque to clients and never trusted: one this
service did not make is a 422 naming the parameter, never a 500 (length is bounded before
anything is decoded, so no cursor can be expensive to read).
"""

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query

from app.errors import ValidationFailed

T = TypeVar("T")
# Longer than any cursor this service makes (the longest, search's, is about 150 characters).
MAX_CURSOR_LENGTH = 512


# A list's `limit` query parameter (API conventions: default 20, at most 100).
Limit = Annotated[int, Query(ge=1, le=100)]


class BadCursor(ValueError):
    """The text is not a cursor this service made."""


def page_size(limit: int) -> int:
    """How many rows to ask for: one more than shown tells whether another page exists."""
    return limit + 1


def split_page(rows: Sequence[T], limit: int, cursor_of: Callable[[T], str]) -> tuple[list[T], str | None]:
    """(the rows to show, the next page's cursor or None) from `page_size(limit)` rows."""
    shown = list(rows[:limit])
    more = len(rows) > limit and bool(shown)
    return shown, cursor_of(shown[-1]) if more else None


def encode_values(values: Any) -> str:
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_values(cursor: str) -> Any:
    """The JSON a cursor carries; BadCursor for anything else (too long, not base64, not JSON)."""
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadCursor("too long")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise BadCursor(str(exc)) from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a value any cursor carries")


def _list_tag(of: type | str) -> bytes:
    """Two bytes naming the list an id cursor belongs to (its table's name): a cursor one list
    gave out is refused by another, instead of paging it from an id of something else."""
    name = of if isinstance(of, str) else of.__tablename__  # type: ignore[attr-defined]
    return hashlib.sha256(name.encode()).digest()[:2]


def encode_id_cursor(value: uuid.UUID, of: type | str) -> str:
    """The cursor after `value` in the list of `of` (a mapped class, or a table's name)."""
    return base64.urlsafe_b64encode(_list_tag(of) + value.bytes).decode().rstrip("=")


def decode_id_cursor(cursor: str, of: type | str, loc: str = "cursor") -> str:
    """The id a cursor of the list of `of` carries, as stored text; any other text (a cursor
    this service did not make, or made for another list) is a 422."""
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        if len(raw) != 18 or raw[:2] != _list_tag(of):
            raise ValueError("not this list's")
        return str(uuid.UUID(bytes=raw[2:]))
    except (ValueError, binascii.Error):
        raise ValidationFailed(["query", loc], "The cursor is not one this list gave out.") from None


def decode_int_cursor(cursor: str, largest: int) -> int:
    """The whole number from 0 to `largest` a cursor carries; 422 otherwise."""
    try:
        value = decode_values(cursor)
    except BadCursor:
        value = None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= largest:
        raise ValidationFailed(["query", "cursor"], "The cursor is not one this list gave out.")
    return value


def decode_uuid_pair(cursor: str) -> tuple[str, str]:
    """Two ids (a composite keyset), as stored text; 422 otherwise."""
    try:
        first, second = decode_values(cursor)
        return str(uuid.UUID(first)), str(uuid.UUID(second))
    except (BadCursor, ValueError, TypeError, AttributeError):
        raise ValidationFailed(["query", "cursor"], "The cursor is not one this list gave out.") from None


def id_page(rows: Sequence[T], limit: int) -> tuple[list[T], str | None]:
    """`split_page` for lists of mapped objects keyed by their time-ordered `id`."""
    return split_page(rows, limit, lambda row: encode_id_cursor(row.id, type(row)))  # type: ignore[attr-defined]


def list_page(
    items: Sequence[T], limit: int | None, cursor: str | None, key: Callable[[T], str]
) -> tuple[list[T], str | None]:
    """A page of a list held whole (reference data): the items after the one `cursor` names (by
    `key`), at most `limit` of them, and the next page's cursor. Without a limit the rest of the
    list is one page. A cursor naming no item of the list (garbage, or an item gone since) is a 422."""
    start = 0
    if cursor is not None:
        try:
            last = decode_values(cursor)
            start = next(i for i, item in enumerate(items) if key(item) == last) + 1
        except (BadCursor, StopIteration, TypeError):
            raise ValidationFailed(["query", "cursor"], "The cursor is not one this list gave out.") from None
    if limit is None:
        return list(items[start:]), None
    shown = list(items[start : start + limit])
    more = start + limit < len(items) and bool(shown)
    return shown, encode_values(key(shown[-1])) if more else None
