"""Factories that build valid objects; a test names only what it cares about."""

import functools
import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.accounts import security
from app.accounts.deps import Principal
from app.accounts.models import User
from app.db import build_engine, build_session_factory
from app.materials import service as materials_service
from app.materials.models import Material
from app.materials.schemas import MaterialCreate

_counter = itertools.count(1)
TEST_PASSWORD = "correct horse battery staple"


@functools.cache
def hashed_test_password() -> str:
    """TEST_PASSWORD hashed once per run: Argon2 is slow by design (about 0.13 s a hash here), and
    600 tests make their users with it; every user made from it signs in with TEST_PASSWORD."""
    return security.hash_password(TEST_PASSWORD)


def principal_for(user: User) -> Principal:
    return Principal(type="user", id=user.id, label=user.email, roles=frozenset(user.roles))


def material_data(**fields: Any) -> dict[str, Any]:
    n = next(_counter)
    data: dict[str, Any] = {
        "title": f"Tài liệu tuyên truyền số {n}",
        "summary": "Tóm tắt ngắn về chính sách dân tộc.",
        "body": "Nội dung tài liệu.",
        "kind": "article",
        "language": "vi",
    }
    data.update(fields)
    return data


def make_material(session: Session, author: User | None = None, *, status: str = "draft", **fields: Any) -> Material:
    """A material created through the service; `status` walks it through the workflow
    (with a built-in reviewer so the four-eyes rule holds)."""
    actor = principal_for(author) if author else None
    material = materials_service.create_material(session, MaterialCreate(**material_data(**fields)), actor)
    path = {
        "draft": [],
        "in_review": ["in_review"],
        "approved": ["in_review", "approved"],
        "published": ["in_review", "approved", "published"],
        "archived": ["in_review", "approved", "published", "archived"],
    }[status]
    reviewer = _factory_reviewer(session)
    for to in path:
        actor_for_move = principal_for(author) if (to == "in_review" and author) else reviewer
        materials_service.transition(session, material.id, to, actor_for_move)
    session.flush()
    return material


def _factory_reviewer(session: Session) -> Principal:
    user = session.query(User).filter_by(email="factory-reviewer@example.test").one_or_none()
    if user is None:
        user = User(email="factory-reviewer@example.test", password_hash="!", roles=["admin", "reviewer"])
        session.add(user)
        session.flush()
    return principal_for(user)


def count_rows(model: type, data_dir: Path) -> int:
    """Rows of `model` in the scratch SQLite database the `ttdn` command wrote under data_dir."""
    engine = build_engine(f"sqlite:///{data_dir / 'ttdn.sqlite3'}")
    with build_session_factory(engine)() as session:
        n = session.scalar(select(func.count()).select_from(model)) or 0
    engine.dispose()
    return n
