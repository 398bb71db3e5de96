"""Reference data the reports join against, as small inline SQL tables (VALUES):
the languages of each ethnic group, and each province's line of succession."""

import csv
import uuid
from datetime import UTC, datetime
from functools import lru_cache

import langcodes
from sqlalchemy import String, column, values
from sqlalchemy.orm import Session
from sqlalchemy.sql import Values

from app.db import UUIDStr
from app.taxonomy import service as taxonomy_service
from app.taxonomy.seed import SEED_DIR

GROUP_LANGUAGES_CSV = SEED_DIR / "ethnic_group_languages.csv"


@lru_cache(maxsize=1)
def group_languages() -> dict[str, list[str]]:
    """Ethnic group code -> its own language tags (normalised, lower case); [] where none exists."""
    with GROUP_LANGUAGES_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        row["code"]: [langcodes.standardize_tag(tag).lower() for tag in row["languages"].split(";") if tag]
        for row in rows
    }


def group_language_table() -> Values:
    """(code, tag) for every group that has a language code."""
    pairs = [(code, tag) for code, tags in group_languages().items() for tag in tags]
    return values(column("code", String), column("tag", String), name="group_languages").data(pairs)


def province_line_table(session: Session) -> Values:
    """(province_id, line_id, line_name): every province mapped to the province that holds its line
    today (itself when it is current), so old and new provinces count together."""
    today = datetime.now(UTC).date()
    provinces = {p.id: p for p in taxonomy_service.provinces_on(session, today)}
    links = taxonomy_service.province_links(session)
    every = taxonomy_service.province_names(session)
    rows = []
    for province_id_text, name in every.items():
        province_id = uuid.UUID(str(province_id_text))
        head = _current_head(province_id, links.successors, provinces)
        rows.append((province_id, head or province_id, provinces[head].name if head else name))
    # No provinces yet (reference data not loaded): one row of nulls, which no join matches, since
    # an empty VALUES is not SQL.
    rows = rows or [(None, None, None)]
    return values(
        column("province_id", UUIDStr), column("line_id", UUIDStr), column("line_name", String), name="province_lines"
    ).data(rows)


def _current_head(start: uuid.UUID, successors: dict, current: dict) -> uuid.UUID | None:
    stack, seen = [start], set()
    while stack:
        node = stack.pop()
        if node in current:
            return node
        if node not in seen:
            seen.add(node)
            stack.extend(successors.get(node, ()))
    return None
