"""The demo set: about 30 short materials written for this project, marked as demo.

Loaded only into a database that has no materials yet, so `ttdn seed --demo-if-empty` can run
on every start without duplicating anything.
"""

import json
from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from app.materials import service as materials_service
from app.materials.models import Material
from app.materials.schemas import MaterialCreate

DEMO_FILE = Path(__file__).resolve().parents[2] / "seed" / "demo_materials.json"


def load_demo(session: Session, path: Path = DEMO_FILE) -> int:
    """Add the demo set when there are no materials at all; returns how many were added."""
    if session.scalar(select(exists().where(Material.id.isnot(None)))):
        return 0
    items = json.loads(path.read_text(encoding="utf-8"))
    for item in items:
        status = item.pop("status", "published")
        data = MaterialCreate.model_validate(item)
        tags = materials_service.resolve_tags(session, {f: getattr(data, f) for f in materials_service.TAG_FIELDS})
        material = materials_service.build_material(data, tags, None, status=status, is_demo=True)
        session.add(material)
        materials_service.record_version(session, material, None, "demo", before={})
    return len(items)
