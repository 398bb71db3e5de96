"""Receipts: POST /feed/bundles/{id}/ack is idempotent and records the version and manifest hash."""

import hashlib
import io
import zipfile

import pytest

CN = {"border_routes": ["VN-CN"]}


@pytest.fixture
def delivered(make_unit, publish):
    unit = make_unit("ACK-POST", border_routes=["VN-CN"])
    return unit, publish(CN)


def delivery(client, auth, bundle_id):
    items = client.get(f"/api/v1/bundles/{bundle_id}/deliveries", headers=auth("analyst")).json()["items"]
    return items[0]


def acks(client, auth, bundle_id):
    records = client.get("/api/v1/audit", params={"entity_id": bundle_id}, headers=auth("admin")).json()["items"]
    return [r for r in records if r["action"] == "delivery.acknowledged"]


def test_empty_ack_confirms_the_current_version_once(client, auth, delivered):
    unit, bundle = delivered
    url = f"/api/v1/feed/bundles/{bundle['id']}/ack"
    first = client.post(url, headers=unit.headers)
    assert first.status_code == 204 and first.content == b""
    recorded = delivery(client, auth, bundle["id"])
    assert recorded["status"] == "acknowledged" and recorded["acknowledged_version"] == 1
    assert client.post(url, headers=unit.headers).status_code == 204
    assert client.post(url, json={}, headers=unit.headers).status_code == 204
    assert delivery(client, auth, bundle["id"])["acknowledged_at"] == recorded["acknowledged_at"]
    audit = acks(client, auth, bundle["id"])
    assert len(audit) == 1 and audit[0]["actor"] == {**audit[0]["actor"], "type": "unit", "label": "ACK-POST"}


def test_ack_records_the_manifest_hash_and_refuses_a_wrong_one(client, auth, delivered):
    unit, bundle = delivered
    package = client.get(f"/api/v1/feed/bundles/{bundle['id']}/package", headers=unit.headers).content
    manifest = zipfile.ZipFile(io.BytesIO(package)).read("manifest.json")
    digest = hashlib.sha256(manifest).hexdigest()
    url = f"/api/v1/feed/bundles/{bundle['id']}/ack"
    wrong = client.post(url, json={"version": 1, "manifest_sha256": "0" * 64}, headers=unit.headers)
    assert wrong.status_code == 409 and wrong.headers["content-type"] == "application/problem+json"
    assert delivery(client, auth, bundle["id"])["status"] == "fetched"
    ok = client.post(url, json={"version": 1, "manifest_sha256": digest.upper()}, headers=unit.headers)
    assert ok.status_code == 204
    recorded = delivery(client, auth, bundle["id"])
    assert (recorded["status"], recorded["acknowledged_version"], recorded["manifest_sha256"]) == (
        "acknowledged",
        1,
        digest,
    )
    assert client.post(url, json={"version": 1, "manifest_sha256": digest}, headers=unit.headers).status_code == 204
    assert len(acks(client, auth, bundle["id"])) == 1


def test_ack_of_another_version_is_409_and_malformed_bodies_422(client, delivered):
    unit, bundle = delivered
    url = f"/api/v1/feed/bundles/{bundle['id']}/ack"
    stale = client.post(url, json={"version": 2}, headers=unit.headers)
    assert stale.status_code == 409 and stale.json()["current_version"] == 1
    for body in ({"version": 0}, {"manifest_sha256": "xyz"}, {"version": 1, "extra": True}):
        assert client.post(url, json=body, headers=unit.headers).status_code == 422


def test_a_new_version_needs_a_new_ack(client, auth, delivered):
    unit, bundle = delivered
    url = f"/api/v1/feed/bundles/{bundle['id']}/ack"
    client.post(url, headers=unit.headers)
    client.patch(
        f"/api/v1/bundles/{bundle['id']}", json={"title": "Bản 2"}, headers={**auth("editor"), "If-Match": "*"}
    )
    client.post(f"/api/v1/bundles/{bundle['id']}/publish", headers=auth("reviewer"))
    renewed = delivery(client, auth, bundle["id"])
    assert (renewed["status"], renewed["version"], renewed["acknowledged_version"]) == ("pending", 2, 1)
    assert client.post(url, json={"version": 1}, headers=unit.headers).status_code == 409
    assert client.post(url, json={"version": 2}, headers=unit.headers).status_code == 204
    done = delivery(client, auth, bundle["id"])
    assert (done["status"], done["acknowledged_version"]) == ("acknowledged", 2)
