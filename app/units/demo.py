"""The demo units: a small, clearly fictional set on each border route, names starting "[Demo]".

Loaded only into a register that has no units yet (`ttdn seed --demo-if-empty`), through the
same importer as `ttdn import-units`, and marked `is_demo`.
"""

from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.units import importer
from app.units.models import Unit

DEMO_FILE = Path(__file__).resolve().parents[2] / "seed" / "demo_units.csv"


def load_demo_units(session: Session, path: Path = DEMO_FILE) -> int:
    """Add the demo units when there are none at all; returns how many were added."""
    if session.scalar(select(exists().where(Unit.id.isnot(None)))):
        return 0
    with path.open(encoding="utf-8", newline="") as source:
        report = importer.import_units(session, source)
    if report.errors:
        raise ValueError(f"the demo unit file is broken: {report.errors}")
    for unit in report.created:
        unit.is_demo = True
    session.flush()
    return len(report.created)
