"""The audit trail: every write recorded with who, what, when, where; nothing can change it."""

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditRecord
from tests.factories import TEST_PASSWORD, material_data


def audit(client, auth, **params):
    response = client.get("/api/v1/audit", params=params, headers=auth("analyst"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_material_writes_are_audited_with_changes(client, auth, users):
    created = client.post(
        "/api/v1/materials", json=material_data(title="Bản gốc"), headers={**auth("editor"), "X-Request-ID": "req-1"}
    )
    material_id = created.json()["id"]
    client.patch(
        f"/api/v1/materials/{material_id}",
        json={"title": "Bản sửa"},
        headers={**auth("editor"), "If-Match": created.headers["etag"]},
    )
    client.post(f"/api/v1/materials/{material_id}/transitions", json={"to": "in_review"}, headers=auth("editor"))
    records = audit(client, auth, entity_type="material", entity_id=material_id)
    assert [r["action"] for r in records] == ["material.transition:in_review", "material.updated", "material.created"]
    first = records[-1]
    assert first["actor"] == {"type": "user", "id": str(users["editor"].id), "label": "editor@example.test"}
    assert first["request_id"] == "req-1" and first["ip"]
    assert records[1]["changes"] == {"title": ["Bản gốc", "Bản sửa"]}
    assert records[0]["changes"] == {"status": ["draft", "in_review"]}


def test_refused_write_leaves_no_record(client, auth):
    before = audit(client, auth)
    client.post("/api/v1/materials", json=material_data(kind="poem"), headers=auth("editor"))
    assert audit(client, auth) == before


def test_failed_sign_ins_are_recorded_and_then_refused_with_retry_after(client, users):
    for _ in range(5):
        response = client.post("/api/v1/auth/token", data={"username": "editor@example.test", "password": "nope nope"})
        assert response.status_code == 401
    locked = client.post("/api/v1/auth/token", data={"username": "editor@example.test", "password": TEST_PASSWORD})
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert locked.headers["content-type"].startswith("application/problem+json")
    # Another account from the same address is not locked by these five.
    other = client.post("/api/v1/auth/token", data={"username": "admin@example.test", "password": TEST_PASSWORD})
    assert other.status_code == 200


def test_sign_in_failures_show_in_the_trail(client, auth, users):
    client.post("/api/v1/auth/token", data={"username": "ghost@example.test", "password": "whatever!!"})
    records = audit(client, auth, action="auth.sign_in_failed")
    assert records[0]["actor"]["label"] == "ghost@example.test" and records[0]["actor"]["type"] == "anonymous"
    assert "whatever" not in str(records)


def test_only_admins_and_analysts_read_the_trail(client, auth):
    for role, status in (("admin", 200), ("analyst", 200), ("editor", 403), ("reviewer", 403)):
        assert client.get("/api/v1/audit", headers=auth(role)).status_code == status


def test_no_route_changes_or_deletes_records(client, auth):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.request(method, "/api/v1/audit", headers=auth("admin")).status_code == 405


def test_the_database_refuses_to_change_or_delete_records(client, auth, session):
    client.post("/api/v1/materials", json=material_data(), headers=auth("editor"))
    for statement in (update(AuditRecord).values(action="forged"), delete(AuditRecord)):
        with pytest.raises(DBAPIError), session.begin_nested():
            session.execute(statement)
    assert session.execute(text("SELECT count(*) FROM audit_records")).scalar() > 0


def test_filters_and_paging(client, auth):
    for i in range(5):
        client.post("/api/v1/materials", json=material_data(title=f"Tài liệu {i}"), headers=auth("editor"))
    first = client.get("/api/v1/audit", params={"action": "material.created", "limit": 3}, headers=auth("admin")).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    rest = client.get(
        "/api/v1/audit",
        params={"action": "material.created", "limit": 3, "cursor": first["next_cursor"]},
        headers=auth("admin"),
    ).json()
    ids = [r["id"] for r in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == 5
    bad = client.get("/api/v1/audit", params={"since": "2026-01-01T00:00:00"}, headers=auth("admin"))
    assert bad.status_code == 422
    # A date is a whole UTC day: since its start, until its end.
    today = first["items"][0]["at"][:10]
    by_day = client.get(
        "/api/v1/audit", params={"action": "material.created", "since": today, "until": today}, headers=auth("admin")
    ).json()
    assert len(by_day["items"]) == 5 and by_day["next_cursor"] is None
    day_before = (date.fromisoformat(today) - timedelta(days=1)).isoformat()
    earlier = client.get("/api/v1/audit", params={"until": day_before}, headers=auth("admin")).json()
    assert earlier["items"] == []


def test_the_first_and_last_days_there_are_are_bounds_like_any_other(client, auth):
    client.post("/api/v1/materials", json=material_data(), headers=auth("editor"))
    params = {"action": "material.created"}
    everything = client.get(
        "/api/v1/audit", params={**params, "since": "0001-01-01", "until": "9999-12-31"}, headers=auth("admin")
    )
    assert everything.status_code == 200, everything.text
    assert len(everything.json()["items"]) == 1
    last_day = client.get("/api/v1/audit", params={"since": "9999-12-31", "until": "9999-12-31"}, headers=auth("admin"))
    assert last_day.status_code == 200 and last_day.json()["items"] == []
