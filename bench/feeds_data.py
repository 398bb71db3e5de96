"""Data for the feeds benchmark, built in-process through the services (no HTTP): units with
keys, approved materials, published bundles, and a package of large attachments.

Import only after the environment (DATA_DIR, SECRET_KEY, ...) is set: app.config reads it once.
"""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.deps import Principal
from app.accounts.models import User
from app.bundles import publishing
from app.bundles import service as bundles_service
from app.bundles.schemas import BundleCreate
from app.config import get_settings
from app.materials import attachments
from app.materials import service as materials_service
from app.materials.models import Attachment
from app.materials.schemas import MaterialCreate
from app.materials.storage import BlobStore
from app.units import keys
from app.units import service as units_service
from app.units.schemas import UnitCreate

UNIT_TYPES = ["border_guard_post", "police", "commune", "provincial_department", "ethnic_affairs_office", "other"]


@dataclass(frozen=True)
class Actors:
    editor: Principal
    reviewer: Principal


def actors(session: Session) -> Actors:
    made = {}
    for name, roles in (("editor", ["editor"]), ("reviewer", ["reviewer"])):
        user = User(email=f"feeds-bench-{name}@ttdn.local", password_hash="!", roles=roles)
        session.add(user)
        session.flush()
        made[name] = Principal(type="user", id=user.id, label=user.email, roles=frozenset(roles))
    session.commit()
    return Actors(**made)


def make_units(session: Session, count: int) -> list[uuid.UUID]:
    ids = []
    for i in range(count):
        data = UnitCreate(code=f"FB{i:05d}", name=f"Đơn vị thử {i}", type=UNIT_TYPES[i % len(UNIT_TYPES)])
        ids.append(units_service.create_unit(session, data, None).id)
        if i % 500 == 499:
            session.commit()
    session.commit()
    return ids


def issue_key(session: Session, unit_id: uuid.UUID) -> str:
    _, key = keys.issue_key(session, unit_id, None)
    session.commit()
    return key


def material(session: Session, who: Actors, n: int, attachment: bytes | None = None) -> uuid.UUID:
    body = {
        "title": f"Tài liệu thử {n}",
        "summary": "Tóm tắt.",
        "body": "Nội dung.",
        "kind": "article",
        "language": "vi",
    }
    created = materials_service.create_material(session, MaterialCreate(**body), who.editor)
    if attachment is not None:
        attachments.add_attachment(
            session, get_settings(), created.id, io.BytesIO(attachment), f"tep-{n}.pdf", "application/pdf", who.editor
        )
    materials_service.transition(session, created.id, "in_review", who.editor)
    materials_service.transition(session, created.id, "approved", who.reviewer)
    return created.id


def approved_materials(session: Session, who: Actors, count: int) -> list[str]:
    ids = [str(material(session, who, n)) for n in range(count)]
    session.commit()
    return ids


def create_draft(session: Session, who: Actors, items: list[str], targets: dict) -> uuid.UUID:
    data = BundleCreate(
        title="Gói thử",
        description="Gói cho đo hiệu năng.",
        items=[{"material_id": m, "note": ""} for m in items],
        targets=targets,
    )
    return bundles_service.create_bundle(session, data, who.editor).id


def publish(session: Session, who: Actors, items: list[str], targets: dict) -> uuid.UUID:
    """Create and publish one bundle (flushed, not committed)."""
    bundle_id = create_draft(session, who, items, targets)
    publishing.publish_bundle(session, bundle_id, who.reviewer, None)
    return bundle_id


def publish_many(session: Session, who: Actors, units: list[uuid.UUID], mats: list[str], count: int) -> None:
    """`count` bundles of 2 materials, each to 3 units; the first unit also gets every 20th."""
    n = len(units)
    for i in range(count):
        chosen = {units[i % n], units[(i * 7 + 1) % n], units[(i * 13 + 2) % n]}
        if i % 20 == 0:
            chosen.add(units[0])
        picked = [mats[i % len(mats)], mats[(i + 1) % len(mats)]]
        publish(session, who, picked, {"units": [str(u) for u in chosen]})
        if i % 200 == 199:
            session.commit()
    session.commit()


def pdf_bytes(size: int, seed: int) -> bytes:
    """PDF-headed bytes that pass media sniffing; random so that every blob is distinct."""
    head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + f"% feeds-bench {seed}\n".encode()
    return head + os.urandom(size - len(head) - 6) + b"\n%%EOF"


def blob_paths(session: Session, material_ids: list[str]) -> list[Path]:
    store = BlobStore(get_settings().blob_dir)
    rows = session.scalars(select(Attachment.sha256).where(Attachment.material_id.in_(material_ids)))
    return [store.path_for(sha) for sha in rows]


def package_bundle(
    session: Session, who: Actors, unit_id: uuid.UUID, count: int, each: int
) -> tuple[uuid.UUID, list[Path]]:
    mats = []
    for n in range(count):
        mats.append(str(material(session, who, 100_000 + n, pdf_bytes(each, n))))
        if n % 20 == 19:
            session.commit()
    bundle_id = publish(session, who, mats, {"units": [str(unit_id)]})
    session.commit()
    return bundle_id, blob_paths(session, mats)
