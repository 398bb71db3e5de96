"""Portable SQL pieces the reports share (SQLite and PostgreSQL): durations, months, percentiles.

Percentiles use the nearest-rank method: the smallest value whose rank r satisfies
r >= n * p / 100. PostgreSQL computes exactly that with the ordered-set aggregate
`percentile_disc(p / 100) WITHIN GROUP (ORDER BY v)` in the same pass as the counts; SQLite has
no ordered-set aggregates, so there it is computed with window functions (row_number and count
over a partition). Both give the same value.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Select, String, case, cast, func, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

HOUR = 3600.0


class hours_between(FunctionElement):  # noqa: N801 (used like a SQL function)
    """hours_between(start, end): the hours from start to end, as a float."""

    type = Float()
    inherit_cache = True


@compiles(hours_between)
def _hours_pg(element: hours_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / {HOUR})"


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


class duration_between(FunctionElement):  # noqa: N801
    """duration_between(start, end): what percentiles sort, ordered like hours_between. On
    PostgreSQL the interval itself (`end - start`): an interval sorts faster than the numeric
    its EXTRACT gives, and hours_of() of the chosen one is exactly that numeric; on SQLite the
    hours already (hours_of() is then the identity)."""

    type = Float()
    inherit_cache = True


@compiles(duration_between)
def _duration_pg(element: duration_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({end} - {start})"


@compiles(duration_between, "sqlite")
def _duration_sqlite(element: duration_between, compiler: Any, **kw: Any) -> str:
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


class hours_of(FunctionElement):  # noqa: N801
    """hours_of(duration_between(start, end)) == hours_between(start, end)."""

    type = Float()
    inherit_cache = True


@compiles(hours_of)
def _hours_of_pg(element: hours_of, compiler: Any, **kw: Any) -> str:
    (value,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(EXTRACT(EPOCH FROM {value}) / {HOUR})"


@compiles(hours_of, "sqlite")
def _hours_of_sqlite(element: hours_of, compiler: Any, **kw: Any) -> str:
    (value,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({value})"


class month_of(FunctionElement):  # noqa: N801
    """month_of(timestamp): 'YYYY-MM' in UTC."""

    type = String()
    inherit_cache = True


@compiles(month_of)
def _month_pg(element: month_of, compiler: Any, **kw: Any) -> str:
    (value,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"to_char(timezone('UTC', {value}), 'YYYY-MM')"


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: Any, **kw: Any) -> str:
    (value,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"strftime('%Y-%m', {value})"


def on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def prepare(session: Session) -> None:
    """Settings for the report's transaction only (SET LOCAL), on PostgreSQL: a report issues one
    heavy statement, for which JIT compilation costs more than it saves, and whose sorts of a
    few hundred thousand rows fit in memory."""
    if on_postgresql(session):
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))


def percentile_disc(value: Any, p: int) -> Any:
    """PostgreSQL only: the nearest-rank percentile `p` of `value` (nulls ignored), an aggregate."""
    return func.percentile_disc(p / 100).within_group(value)


def percentiles(
    source: Select[Any],
    keys: Sequence[str],
    value: str,
    ps: Sequence[int] = (50, 90),
    *,
    postgresql: bool = False,
    duration: bool = False,
) -> Select[Any]:
    """Per group of `keys`, the nearest-rank percentiles `ps` of column `value` of `source`
    (rows where it is null are left out), as columns p50, p90...; one SQL statement. With
    `duration`, `value` is a duration_between() and the percentiles are given in hours."""
    src = source.subquery("pct_source")
    finish = hours_of if duration else (lambda v: v)
    if postgresql:
        rows = select(*[src.c[k] for k in keys], *[finish(percentile_disc(src.c[value], p)).label(f"p{p}") for p in ps])
        return rows.where(src.c[value].is_not(None)).group_by(*[src.c[k] for k in keys])
    partition = [src.c[k] for k in keys] or None
    ranked = (
        select(
            *[src.c[k] for k in keys],
            src.c[value].label("v"),
            func.row_number().over(partition_by=partition, order_by=src.c[value]).label("rn"),
            func.count().over(partition_by=partition).label("n"),
        )
        .where(src.c[value].is_not(None))
        .subquery("pct_ranked")
    )
    columns: list[ColumnElement[Any]] = [
        finish(func.max(case((ranked.c.rn == (ranked.c.n * p + 99) // 100, ranked.c.v)))).label(f"p{p}") for p in ps
    ]
    return select(*[ranked.c[k] for k in keys], *columns).group_by(*[ranked.c[k] for k in keys])


def share(part: Any, whole: Any) -> Any:
    """part / whole as a float in SQL, null when whole is 0."""
    return case((whole > 0, cast(part, Float) / whole), else_=None)


def rounded(value: Any, digits: int = 1) -> float | None:
    return None if value is None else round(float(value), digits)
