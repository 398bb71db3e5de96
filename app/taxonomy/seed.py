"""Loading the reference data in seed/*.csv, idempotently.

Rows are upserted by their natural keys (ethnic group code, route code, topic slug; a province by
code, name and start of validity), so a second load changes nothing and a province keeps the id
it was given on first insert. Nothing is deleted: materials keep codes, slugs and province ids.

Provinces come from `border_provinces.csv`, one row per (unit, route); a unit on two routes is
one province. The pre-merger units named only in `merged_from` (they had no land border, e.g.
Yên Bái or Bình Định) are created too, so every post-merger unit's line of succession is whole.
"""

import csv
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.taxonomy.models import BorderRoute, EthnicGroup, Province, ProvinceSuccession, Topic
from app.text import fold, folded_words, nfc

SEED_DIR = Path(__file__).resolve().parents[2] / "seed"

# The 63-province system ended with the merger of 1 July 2025 (Resolution 202/2025/QH15).
PRE_MERGER_LAST_DAY = date(2025, 6, 30)
PRE_MERGER, POST_MERGER = "pre_2025_07", "post_2025_07"
# First words of historical exonyms now considered derogatory (Mọi, Mèo, Mẹo, Mán), folded.
# Names that are, or are built on, them still match user input but are never shown.
DEROGATORY_FIRST_WORDS = frozenset({"moi", "meo", "man"})
# Among the non-border units named in `merged_from`, the centrally-run cities; the rest are tỉnh.
CENTRALLY_RUN_CITIES = frozenset({"Đà Nẵng"})
CITY_UNIT_TYPE, PROVINCE_UNIT_TYPE = "thành phố trực thuộc trung ương", "tỉnh"
NON_BORDER_NOTE = "No land border; created as a constituent of the 1 July 2025 merger (merged_from)."

_MERGED_FROM_ITEM = re.compile(r"^(?P<name>.+?)\s*\((?P<code>\d+)\)$")


@dataclass
class _Unit:
    """One provincial unit over one period, gathered from its rows in border_provinces.csv."""

    period: str
    code: str
    name: str
    name_ascii: str
    unit_type: str
    valid_from: date | None
    valid_until: date | None
    notes: str
    border_routes: list[str] = field(default_factory=list)
    merged_from: list[tuple[str, str]] = field(default_factory=list)  # (code, name)

    @property
    def key(self) -> tuple[str, str, date | None]:
        return (self.code, self.name, self.valid_from)

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )

    def values(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "name_ascii": self.name_ascii,
            "unit_type": self.unit_type,
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "border_routes": list(self.border_routes),
            "notes": self.notes,
        }


def load_reference(session: Session) -> dict[str, int]:
    """Load (or bring up to date) all reference data from the repository's seed/ folder."""
    return load_reference_from_dir(session, SEED_DIR)


def load_reference_from_dir(session: Session, path: Path) -> dict[str, int]:
    """Upsert the reference data in `path`; returns the number of rows inserted or changed per table."""
    changes = {
        "ethnic_groups": _upsert_all(
            session, EthnicGroup, ("code",), [_ethnic_group(row) for row in _read(path / "ethnic_groups.csv")]
        ),
        "border_routes": _upsert_all(
            session, BorderRoute, ("code",), [_border_route(row) for row in _read(path / "border_routes.csv")]
        ),
        "topics": _upsert_all(session, Topic, ("slug",), [_topic(row) for row in _read(path / "topics.csv")]),
    }
    units = _provincial_units(_read(path / "border_provinces.csv"))
    changes["provinces"] = _upsert_all(
        session, Province, ("code", "name", "valid_from"), [unit.values() for unit in units]
    )
    session.flush()
    changes["province_successions"] = _sync_successions(session, units)
    session.flush()
    return changes


def is_derogatory(name: str) -> bool:
    """True for Mọi, Mèo, Mẹo, Mán and names built on them ("Mèo Xanh", "Mán Cao Lan")."""
    words = folded_words(name)
    return bool(words) and words[0] in DEROGATORY_FIRST_WORDS


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [{key: nfc(value.strip()) for key, value in row.items()} for row in csv.DictReader(handle)]


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def _date(cell: str) -> date | None:
    return date.fromisoformat(cell) if cell else None


def _ethnic_group(row: dict[str, str]) -> dict[str, Any]:
    names = _split(row["other_names"])
    return {
        "code": row["code"],
        "code_1979": row["code_1979"],
        "name": row["name_vi"],
        "name_ascii": row["name_ascii"],
        "other_names": [name for name in names if not is_derogatory(name)],
        "hidden_names": [name for name in names if is_derogatory(name)],
        "spelling_variants": _split(row["spelling_variants"]),
        "language_family": row["language_family"],
        "population_2019": int(row["population_2019"]) if row["population_2019"] else None,
        "is_minority": row["is_minority"].lower() == "true",
    }


def _border_route(row: dict[str, str]) -> dict[str, Any]:
    return {
        "code": row["code"],
        "name": row["name_vi"],
        "neighbor_country": row["neighbor_country"],
        "neighbor_country_vi": row["neighbor_country_vi"],
        "length_km": float(row["length_km"]) if row["length_km"] else None,
        "length_precision": row["length_precision"],
        "length_note": row["length_note"],
    }


def _topic(row: dict[str, str]) -> dict[str, Any]:
    return {"slug": row["slug"], "name": row["name"], "name_en": row["name_en"]}


def _upsert_all(session: Session, model: type, key_fields: tuple[str, ...], records: list[dict[str, Any]]) -> int:
    existing = {tuple(getattr(row, f) for f in key_fields): row for row in session.scalars(select(model))}
    changes = 0
    for values in records:
        row = existing.get(tuple(values[f] for f in key_fields))
        if row is None:
            row = model(**values)
            session.add(row)
            existing[tuple(values[f] for f in key_fields)] = row
            changes += 1
        elif _apply(row, values):
            changes += 1
    return changes


def _apply(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _provincial_units(rows: list[dict[str, str]]) -> list[_Unit]:
    """One unit per (period, code, name, valid_from), routes gathered; then the non-border predecessors."""
    units: dict[tuple[str, str, str, date | None], _Unit] = {}
    for row in rows:
        key = (row["period"], row["province_code"], row["name_vi"], _date(row["valid_from"]))
        unit = units.get(key)
        if unit is None:
            unit = units[key] = _Unit(
                period=row["period"],
                code=row["province_code"],
                name=row["name_vi"],
                name_ascii=row["name_ascii"],
                unit_type=row["unit_type"],
                valid_from=key[3],
                valid_until=_date(row["valid_until"]),
                notes=row["notes"],
                merged_from=[_merged_from_item(item) for item in _split(row["merged_from"])],
            )
        if row["route_code"] not in unit.border_routes:
            unit.border_routes.append(row["route_code"])
    return [*units.values(), *_non_border_predecessors(list(units.values()))]


def _merged_from_item(item: str) -> tuple[str, str]:
    match = _MERGED_FROM_ITEM.match(item)
    if match is None:
        raise ValueError(f"merged_from item {item!r} is not 'Name (code)'")
    return (match["code"], match["name"])


def _non_border_predecessors(units: list[_Unit]) -> list[_Unit]:
    last_pre = {(u.code, u.name) for u in units if u.period == PRE_MERGER and u.valid_on(PRE_MERGER_LAST_DAY)}
    missing = dict.fromkeys(
        item for u in units if u.period == POST_MERGER for item in u.merged_from if item not in last_pre
    )
    return [
        _Unit(
            period=PRE_MERGER,
            code=code,
            name=name,
            name_ascii=" ".join(word.capitalize() for word in fold(name).split()),
            unit_type=CITY_UNIT_TYPE if name in CENTRALLY_RUN_CITIES else PROVINCE_UNIT_TYPE,
            valid_from=None,
            valid_until=PRE_MERGER_LAST_DAY,
            notes=NON_BORDER_NOTE,
        )
        for code, name in missing
    ]


def _succession_edges(units: list[_Unit]) -> set[tuple[tuple, tuple]]:
    """(predecessor key, successor key) pairs.

    Post-merger units follow the pre-merger units of `merged_from` (those still in force on
    30 June 2025). A pre-merger unit that ended earlier is followed by the unit that took its
    code the next day: tỉnh Thừa Thiên Huế (until 2024-12-31) by thành phố Huế (from 2025-01-01).
    """
    pre = [u for u in units if u.period == PRE_MERGER]
    last_pre = {(u.code, u.name): u for u in pre if u.valid_on(PRE_MERGER_LAST_DAY)}
    edges = {
        (last_pre[item].key, unit.key) for unit in units if unit.period == POST_MERGER for item in unit.merged_from
    }
    for ended in pre:
        if ended.valid_until is None or ended.valid_until >= PRE_MERGER_LAST_DAY:
            continue
        next_day = ended.valid_until + timedelta(days=1)
        edges.update((ended.key, u.key) for u in pre if u.code == ended.code and u.valid_from == next_day)
    return edges


def _sync_successions(session: Session, units: list[_Unit]) -> int:
    """Make the succession edges between seeded provinces exactly those the data describes."""
    ids = {(p.code, p.name, p.valid_from): p.id for p in session.scalars(select(Province))}
    wanted = {(ids[pred], ids[succ]) for pred, succ in _succession_edges(units)}
    seeded = {ids[unit.key] for unit in units}
    changes = 0
    for edge in session.scalars(select(ProvinceSuccession)):
        pair = (edge.predecessor_id, edge.successor_id)
        if pair in wanted:
            wanted.discard(pair)
        elif pair[0] in seeded and pair[1] in seeded:
            session.delete(edge)
            changes += 1
    session.add_all(ProvinceSuccession(predecessor_id=pred, successor_id=succ) for pred, succ in wanted)
    return changes + len(wanted)
