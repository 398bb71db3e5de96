"""A report is a set of named tables; each table has its columns (key and Vietnamese label)
and its rows (dicts keyed by column). JSON, CSV, XLSX and HTML are all drawn from this."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

Columns = Sequence[tuple[str, str]]
FLOAT_DIGITS = 2


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, FLOAT_DIGITS)
    if hasattr(value, "is_finite"):  # Decimal from PostgreSQL arithmetic
        return round(float(value), FLOAT_DIGITS)
    return value


def table(title: str, columns: Columns, rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in columns]
    return {
        "title": title,
        "columns": [{"key": key, "label": label} for key, label in columns],
        "rows": [{key: _clean(row.get(key)) for key in keys} for row in rows],
    }


def query_table(session: Session, title: str, columns: Columns, query: Select[Any]) -> dict[str, Any]:
    """The table of what `query` returns; its column labels must match the keys."""
    return table(title, columns, session.execute(query).mappings())
