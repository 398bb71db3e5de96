"""Importing units from CSV: columns code,name,type,province,border_routes,parent_code.

`border_routes` is `;`-separated; province and routes may be codes, ids or names. Each row is
checked and written on its own (in a savepoint), so good rows land and every bad row is reported
with its row number (the header is row 1). A parent may come later in the file: rows are written
parents first. Units are created through the units service, so they are audited and receive the
live bundles they match.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts.principal import Principal
from app.errors import AppError, error_message
from app.units import service as units_service
from app.units.models import Unit
from app.units.schemas import UnitCreate

REQUIRED_COLUMNS = ("code", "name", "type")
COLUMNS = (*REQUIRED_COLUMNS, "province", "border_routes", "parent_code")


@dataclass
class UnitImportReport:
    created: list[Unit] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row number, reason)


@dataclass
class _Row:
    number: int
    data: UnitCreate
    parent_code: str


def describe(exc: Exception) -> str:
    """A short, readable reason for a row's failure."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {error_message(e)}" for e in exc.errors())
    if isinstance(exc, AppError) and exc.errors:
        return "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors)
    return getattr(exc, "detail", str(exc))


def _parse(number: int, raw: dict[str, Any]) -> _Row:
    values = {key: (raw.get(key) or "").strip() for key in COLUMNS}
    data = UnitCreate(
        code=values["code"],
        name=values["name"],
        type=values["type"],
        province=values["province"] or None,
        border_routes=[route.strip() for route in values["border_routes"].split(";") if route.strip()],
    )
    return _Row(number=number, data=data, parent_code=values["parent_code"])


def _existing_codes(session: Session, codes: Iterable[str]) -> dict[str, Unit]:
    wanted = {code.lower() for code in codes if code}
    if not wanted:
        return {}
    units = session.scalars(select(Unit).where(func.lower(Unit.code).in_(wanted)))
    return {unit.code.lower(): unit for unit in units}


def _create(session: Session, row: _Row, parent: Unit | None, actor: Principal | None) -> Unit:
    data = row.data.model_copy(update={"parent_id": parent.id if parent else None})
    with session.begin_nested():
        return units_service.create_unit(session, data, actor)


def _write(
    session: Session, rows: list[_Row], failed: dict[str, int], actor: Principal | None, report: UnitImportReport
) -> None:
    """Parents first: rows whose parent exists (in the register or written already) go in each
    pass. `failed` maps the codes of rows that failed already to their row numbers."""
    known = _existing_codes(session, (row.parent_code for row in rows))
    waiting = rows
    while waiting:
        ready = [row for row in waiting if not row.parent_code or row.parent_code.lower() in known]
        if not ready:
            break
        for row in ready:
            try:
                unit = _create(session, row, known.get(row.parent_code.lower()), actor)
            except (AppError, ValidationError) as exc:
                report.errors.append((row.number, describe(exc)))
                failed.setdefault(row.data.code.lower(), row.number)
                continue
            known[unit.code.lower()] = unit
            report.created.append(unit)
        waiting = [row for row in waiting if row not in ready]
    for row in waiting:
        parent = row.parent_code
        reason = f"row {failed[parent.lower()]} (its parent) failed" if parent.lower() in failed else "no such unit"
        report.errors.append((row.number, f"parent_code: {parent}: {reason}."))


def import_units(session: Session, source: TextIO, actor: Principal | None = None) -> UnitImportReport:
    """Import units from CSV text in the caller's transaction; returns what landed and what did not."""
    report = UnitImportReport()
    reader = csv.DictReader(source)
    missing = [column for column in REQUIRED_COLUMNS if column not in (reader.fieldnames or [])]
    if missing:
        report.errors.append((1, f"header: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}."))
        return report
    rows, failed = [], {}
    for number, raw in enumerate(reader, start=2):
        try:
            rows.append(_parse(number, raw))
        except ValidationError as exc:
            report.errors.append((number, describe(exc)))
            failed.setdefault((raw.get("code") or "").strip().lower(), number)
    _write(session, rows, failed, actor, report)
    report.errors.sort()
    return report
