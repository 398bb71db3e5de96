"""Shared fixtures for bundles and feeds tests: units with keys, approved materials, published
bundles. Imported by tests/bundles/conftest.py and tests/feeds/conftest.py."""

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.factories import make_material


@dataclass(frozen=True)
class FeedUnit:
    id: str
    code: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @property
    def basic(self) -> dict[str, str]:
        raw = base64.b64encode(f"{self.code}:{self.key}".encode()).decode()
        return {"Authorization": f"Basic {raw}"}


@pytest.fixture
def make_unit(client, auth) -> Callable[..., FeedUnit]:
    """make_unit("CODE", province=..., border_routes=[...], type=...) -> a unit with an API key."""

    def make(code: str, **fields: Any) -> FeedUnit:
        body = {"code": code, "name": f"Đơn vị {code}", "type": "border_guard_post", **fields}
        created = client.post("/api/v1/units", json=body, headers=auth("admin"))
        assert created.status_code == 201, created.text
        unit_id = created.json()["id"]
        key = client.post(f"/api/v1/units/{unit_id}/keys", headers=auth("admin")).json()["key"]
        return FeedUnit(id=unit_id, code=code, key=key)

    return make


@pytest.fixture
def approved(session: Session, users) -> Callable[..., list[str]]:
    """approved(n, **fields) -> ids of n approved materials written by the editor."""

    def make(n: int = 1, **fields: Any) -> list[str]:
        ids = [str(make_material(session, users["editor"], status="approved", **fields).id) for _ in range(n)]
        session.commit()
        return ids

    return make


@pytest.fixture
def make_bundle(client, auth, approved) -> Callable[..., dict]:
    """make_bundle(targets, materials=None, **fields) -> the created draft (JSON), by the editor."""

    def make(targets: dict, materials: list[str] | None = None, **fields: Any) -> dict:
        materials = materials if materials is not None else approved(2)
        body = {
            "title": "Gói tài liệu tuyên truyền biên giới",
            "description": "Tài liệu cho các đồn biên phòng.",
            "items": [{"material_id": m, "note": f"Ghi chú {i}"} for i, m in enumerate(materials)],
            "targets": targets,
            **fields,
        }
        created = client.post("/api/v1/bundles", json=body, headers=auth("editor"))
        assert created.status_code == 201, created.text
        return created.json()

    return make


@pytest.fixture
def publish(client, auth, make_bundle) -> Callable[..., dict]:
    """publish(targets, **fields) -> a bundle created by the editor and published by the reviewer."""

    def make(targets: dict, **fields: Any) -> dict:
        bundle = make_bundle(targets, **fields)
        published = client.post(f"/api/v1/bundles/{bundle['id']}/publish", headers=auth("reviewer"))
        assert published.status_code == 200, published.text
        return published.json()

    return make


def feed_ids(client, unit: FeedUnit, since: str | None = None) -> list[str]:
    params = {"since": since} if since else {}
    return [
        item["bundle_id"] for item in client.get("/api/v1/feed", params=params, headers=unit.headers).json()["items"]
    ]
