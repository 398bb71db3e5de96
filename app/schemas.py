"""Pydantic pieces shared by every domain's schemas."""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ValidationInfo, field_validator

from app.text import nfc


def nfc_stripped(value: str) -> str:
    return nfc(value).strip()


# Integer columns are 32-bit on PostgreSQL; a larger number in a path or body could never match
# a row, and would fail inside the driver (SQLite and psycopg refuse it) instead of as a 422.
INT32_MAX = 2**31 - 1


def to_utc(value: datetime) -> datetime:
    """An aware timestamp as UTC. A ValueError (a 422 naming the field) when it has no zone or
    its instant in UTC falls outside the years 1 to 9999 (9999-12-31T23:00-14:00 is in year 10000)."""
    if value.tzinfo is None:
        raise ValueError("needs a time zone (RFC 3339), e.g. 2026-07-01T00:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range: in UTC it must fall within the years 1 to 9999") from None


# The start of an RFC 3339 timestamp. Pydantic would also read a number, or a string of digits,
# as seconds (or milliseconds) since 1970: 253402300800 became 1978-01-11.
_TIMESTAMP_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]")


def _timestamp_text(value: Any) -> Any:
    """Only RFC 3339 text (or a datetime, from Python callers) is a timestamp."""
    if isinstance(value, datetime) or (isinstance(value, str) and _TIMESTAMP_TEXT.match(value.strip())):
        return value
    raise ValueError("must be an RFC 3339 timestamp with a time zone, e.g. 2026-07-01T08:00:00Z")


_TEXT_ONLY = BeforeValidator(_timestamp_text)

# Every timestamp a client sends (body or query): RFC 3339 with a zone, kept in UTC.
Timestamp = Annotated[datetime, _TEXT_ONLY, AfterValidator(to_utc)]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _days_as(moment: Callable[[date], datetime]) -> BeforeValidator:
    """A query bound may also be a date, YYYY-MM-DD, meaning a whole UTC day (as the reports'
    `from` and `to`): `moment` turns the day into the bound's timestamp."""

    def read(value: Any) -> Any:
        if isinstance(value, str) and _DATE.fullmatch(value.strip()):
            return moment(date.fromisoformat(value.strip()))  # a ValueError (2026-02-30) is a 422
        return value

    return BeforeValidator(read)


# Bounds of a period in a query: a timestamp, or a date that includes its whole day.
# From (>=): the day's first moment. Through (<=): its last. Before (<): the next day's first.
# (Before validators run last declared first: the day is read, then anything else must be text.)
FromTime = Annotated[
    datetime, _TEXT_ONLY, _days_as(lambda day: datetime.combine(day, time.min, UTC)), AfterValidator(to_utc)
]
ThroughTime = Annotated[
    datetime, _TEXT_ONLY, _days_as(lambda day: datetime.combine(day, time.max, UTC)), AfterValidator(to_utc)
]


def _next_day(day: date) -> datetime:
    """The first moment after `day`; after the last day there is, the last moment there is."""
    if day == date.max:
        return datetime.max.replace(tzinfo=UTC)
    return datetime.combine(day + timedelta(days=1), time.min, UTC)


BeforeTime = Annotated[datetime, _TEXT_ONLY, _days_as(_next_day), AfterValidator(to_utc)]


class Schedule(BaseModel):
    """For bodies with `publish_at` / `expires_at` (Timestamps, declared in that order): expiry
    after publication, the error naming `expires_at`."""

    @field_validator("expires_at", check_fields=False)
    @classmethod
    def _expires_after_publish(cls, expires_at: datetime | None, info: ValidationInfo) -> datetime | None:
        publish_at = info.data.get("publish_at")
        if publish_at and expires_at and expires_at <= publish_at:
            raise ValueError("expires_at must be after publish_at")
        return expires_at


def not_null(value: Any) -> Any:
    """For a PATCH body's field that may be left out but never set to null: the 422 names it.
    (A field validator runs only on fields the body sent.)"""
    if value is None:
        raise ValueError("cannot be null")
    return value
