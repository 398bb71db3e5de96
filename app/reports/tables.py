"""A report is a set of named tables; each table has its columns (key and Vietnamese label)
and its rows (dicts keyed by column). JSON, CSV, XLSX and HTML are all drawn from this."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.sqltypes import NullType

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


Spec = tuple[str, Columns, Select[Any]]


def query_tables(session: Session, specs: Mapping[str, Spec]) -> dict[str, dict[str, Any]]:
    """The tables of several queries from ONE statement, so the CTEs they share (the materials
    published in the period, the deliveries of the period...) are evaluated once.

    Each query becomes a branch of a UNION ALL: the table's number, the row's rank in the query's
    own ORDER BY (a window function), the query's columns in slots of their own and typed nulls in
    every other table's slots. The result is split back by table number, in rank order."""
    queries = list(specs.values())
    slots = [(n, column) for n, (_, _, query) in enumerate(queries) for column in query.selected_columns]
    branches = []
    for n, (_, _, query) in enumerate(queries):
        # The ORDER BY becomes a rank: a branch of a compound SELECT has no ORDER BY of its own.
        rank = func.row_number().over(order_by=list(query._order_by_clauses) or None)
        ranked = query.add_columns(rank.label("rank_in_table")).order_by(None).subquery(f"t{n}")
        branches.append(
            select(
                literal(n).label("table_no"),
                ranked.c.rank_in_table,
                *[
                    (ranked.c[c.key] if owner == n else _typed_null(c)).label(f"slot_{i}")
                    for i, (owner, c) in enumerate(slots)
                ],
            )
        )
    every = union_all(*branches).subquery("tables")
    rows: list[list[Any]] = [[] for _ in queries]
    statement = select(every).order_by(every.c.table_no, every.c.rank_in_table)
    for row in session.execute(statement):
        rows[row[0]].append(row)
    tables = {}
    for n, (name, (title, columns, query)) in enumerate(specs.items()):
        start = 2 + [owner for owner, _ in slots].index(n)
        keys = [c.key for c in query.selected_columns]
        found = [dict(zip(keys, row[start : start + len(keys)], strict=True)) for row in rows[n]]
        tables[name] = table(title, columns, found)
    return tables


def _typed_null(column: Any) -> Any:
    """A null of the column's type, so the UNION's column has one type on every database (an
    untyped NULL would be taken for text by PostgreSQL)."""
    if isinstance(column.type, NullType):
        raise TypeError(f"report column {column.key!r} needs a SQL type (type_=...) to share a statement")
    return cast(null(), column.type)
