"""Bulk import of materials from NDJSON: one material per line, bad lines reported and skipped.

Each line is a MaterialCreate object, optionally with `status` (the status to load it in: an
import brings in work already reviewed elsewhere, so it is recorded as such, change "imported").
Lines are validated one by one; valid ones are written in batches, each batch one transaction.
If a batch fails as a whole, its lines are retried one by one so only the bad line is lost.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.principal import Principal
from app.audit import service as audit_service
from app.errors import AppError
from app.materials import service as materials_service
from app.materials.filters import STATUSES
from app.materials.models import Material, MaterialTag
from app.materials.schemas import MaterialCreate

ProgressCallback = Callable[[int], None]


@dataclass
class ImportReport:
    imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


class _TagCache:
    """Resolving names is the slow part of an import and the same values recur on every line.

    Cached per single value, not per list: lines combine a few hundred values in tens of
    thousands of ways. A list resolves to its values' results in input order, de-duplicated,
    and fails on its first bad value, as `resolve_tags` does for the whole list.
    """

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], list[str]] = {}

    def resolve(self, session: Session, data: MaterialCreate) -> dict[str, list[str]]:
        out = {}
        for name in materials_service.TAG_FIELDS:
            resolved: list[str] = []
            for value in getattr(data, name):
                key = (name, value)
                if key not in self._cache:
                    self._cache[key] = materials_service.resolve_tags(session, {name: [value]})[name]
                resolved.extend(self._cache[key])
            out[name] = list(dict.fromkeys(resolved))
        return out


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'line'}: {e['msg']}" for e in exc.errors())
    if isinstance(exc, AppError):
        if exc.errors:
            return "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in exc.errors)
        return exc.detail
    return str(exc)


def _parse(session: Session, line: str, tags: _TagCache, actor: Principal | None, is_demo: bool) -> Material:
    raw: Any = json.loads(line)
    if not isinstance(raw, dict):
        raise ValueError("each line must be a JSON object")
    status = raw.pop("status", "draft")
    if status not in STATUSES:
        raise ValueError(f"status: must be one of {', '.join(STATUSES)}")
    data = MaterialCreate.model_validate(raw)
    return materials_service.build_material(data, tags.resolve(session, data), actor, status=status, is_demo=is_demo)


def _write(session: Session, materials: list[Material], actor: Principal | None) -> None:
    """Insert the batch's rows: materials, tags, revisions, outbox rows and one audit record.

    The rows are built by the materials service as for any write; they are inserted with bulk
    INSERTs (executemany) rather than a unit-of-work flush, whose per-object bookkeeping cost
    about a fifth of an import's time. Python-side column defaults still apply.
    """
    rows: dict[type, list[object]] = {Material: list(materials), MaterialTag: []}
    for material in materials:
        rows[MaterialTag].extend(material.tags)
        for row in materials_service.history_for(material, actor, "imported"):
            rows.setdefault(type(row), []).append(row)
    # Parents first: tags, revisions and outbox rows refer to their material.
    for model, objects in rows.items():
        if objects:
            session.execute(insert(model), [_column_values(obj) for obj in objects])
    # One audit record per batch: the ids it brought in (a record per line would double the load).
    ids = [str(m.id) for m in materials]
    audit_service.record(session, actor, "material.imported", "material", None, {"ids": ids, "count": len(ids)})
    session.flush()


def _column_values(obj: object) -> dict[str, Any]:
    """The column attributes set on a transient ORM object (relationships left out)."""
    state = obj.__dict__
    return {attr.key: state[attr.key] for attr in inspect(type(obj)).column_attrs if attr.key in state}


def import_lines(
    session_factory: sessionmaker[Session],
    lines: Iterable[str],
    actor: Principal | None = None,
    *,
    batch_size: int = 500,
    is_demo: bool = False,
    on_progress: ProgressCallback | None = None,
) -> ImportReport:
    report = ImportReport()
    tags = _TagCache()
    batch: list[tuple[int, Material]] = []
    with session_factory() as session:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    batch.append((number, _parse(session, line, tags, actor, is_demo)))
                except (ValueError, ValidationError, AppError) as exc:
                    report.errors.append((number, _describe(exc)))
            if len(batch) >= batch_size:
                _commit_batch(session, batch, actor, report)
                batch = []
            if on_progress:
                on_progress(1)
        _commit_batch(session, batch, actor, report)
    return report


def _commit_batch(
    session: Session, batch: list[tuple[int, Material]], actor: Principal | None, report: ImportReport
) -> None:
    if not batch:
        return
    try:
        _write(session, [m for _, m in batch], actor)
        session.commit()
        report.imported += len(batch)
        return
    except Exception:
        session.rollback()
    # Something in the batch broke the write: find the line, keep the others.
    for number, material in batch:
        try:
            _write(session, [material], actor)
            session.commit()
            report.imported += 1
        except Exception as exc:
            session.rollback()
            report.errors.append((number, f"could not be saved: {type(exc).__name__}"))
