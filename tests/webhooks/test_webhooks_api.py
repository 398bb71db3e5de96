"""Subscriptions through the API: the secret shown once and kept encrypted, clear 422s for bad
input, https and public addresses only in production, If-Match, re-enabling."""

import base64
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditRecord
from app.main import create_app
from app.webhooks import secrets
from app.webhooks.models import WebhookSubscription

LOCAL = "http://127.0.0.1:9/hook"


def create(client, auth, **body):
    return client.post(
        "/api/v1/webhooks", json={"url": LOCAL, "events": ["bundle.published"], **body}, headers=auth("admin")
    )


def test_secret_is_shown_once_and_stored_encrypted(client, auth, session, settings):
    created = create(client, auth, events=["bundle.published", "bundle.recalled"])
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_") and len(base64.b64decode(body["secret"][6:])) == 32
    assert body["events"] == ["bundle.published", "bundle.recalled"] and body["active"] is True
    read = client.get(f"/api/v1/webhooks/{body['id']}", headers=auth("admin"))
    assert read.status_code == 200 and "secret" not in read.json() and read.headers["ETag"]
    listed = client.get("/api/v1/webhooks", headers=auth("admin")).json()["items"]
    assert [w["id"] for w in listed] == [body["id"]] and "secret" not in listed[0]
    stored = session.get(WebhookSubscription, body["id"])
    assert body["secret"] not in stored.secret_encrypted
    assert secrets.decrypt(stored.secret_encrypted, settings.secret_key) == body["secret"]
    with pytest.raises(secrets.SecretUnreadable):
        secrets.decrypt(stored.secret_encrypted, "another-secret-key-that-is-long-enough-0123")
    audit = session.scalars(select(AuditRecord).where(AuditRecord.entity_id == body["id"])).all()
    assert [a.action for a in audit] == ["webhook.created"]
    assert "secret" not in str(audit[0].changes)


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"events": ["bundle.exploded"]}, ["body", "events", 0]),
        ({"events": []}, ["body", "events"]),
        ({"url": "not a url"}, ["body", "url"]),
        ({"url": "ftp://127.0.0.1/hook"}, ["body", "url"]),
        ({"url": "http://user:pw@127.0.0.1/hook"}, ["body", "url"]),
        ({"url": "http://127.0.0.1:99999/hook"}, ["body", "url"]),
        ({"url": "http://127.0.0.1:0/hook"}, ["body", "url"]),
        ({"unit_id": "0190d0a8-0000-7000-8000-000000000000"}, ["body", "unit_id"]),
        ({"organisation_id": "0190d0a8-0000-7000-8000-000000000002"}, ["body", "organisation_id"]),
    ],
)
def test_bad_input_is_a_clear_422(client, auth, body, loc):
    response = create(client, auth, **body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["loc"][: len(loc)] for e in response.json()["errors"]] == [loc]


def test_both_an_organisation_and_a_unit_is_refused(client, auth, make_unit):
    unit = make_unit("HOOK-UNIT")
    response = create(client, auth, unit_id=unit.id, organisation_id="0190d0a8-0000-7000-8000-000000000001")
    assert response.status_code == 422
    assert "not both" in response.text


def test_an_organisation_with_subscriptions_is_not_deleted(client, auth, session):
    body = {"code": "HOOK-ORG", "name": "Sở Dân tộc", "kind": "provincial_department"}
    organisation = client.post("/api/v1/organisations", json=body, headers=auth("admin")).json()
    hook = create(client, auth, organisation_id=organisation["id"]).json()
    assert hook["organisation_id"] == organisation["id"]
    url = f"/api/v1/organisations/{organisation['id']}"
    refused = client.delete(url, headers={**auth("admin"), "If-Match": "*"})
    assert refused.status_code == 409 and "webhook" in refused.json()["detail"]
    assert client.get(url, headers=auth("admin")).status_code == 200
    assert session.get(WebhookSubscription, hook["id"]).organisation_id is not None
    hook_url = f"/api/v1/webhooks/{hook['id']}"
    etag = client.get(hook_url, headers=auth("admin")).headers["ETag"]
    assert client.delete(hook_url, headers={**auth("admin"), "If-Match": etag}).status_code == 204
    assert client.delete(url, headers={**auth("admin"), "If-Match": "*"}).status_code == 204


def test_deleting_a_webhook_needs_if_match_and_takes_its_log(client, auth, session):
    hook = create(client, auth).json()
    url = f"/api/v1/webhooks/{hook['id']}"
    assert client.delete(url, headers=auth("admin")).status_code == 428
    assert client.delete(url, headers={**auth("admin"), "If-Match": '"x-v0"'}).status_code == 412
    assert client.delete(url, headers={**auth("editor"), "If-Match": "*"}).status_code == 403
    etag = client.get(url, headers=auth("admin")).headers["ETag"]
    assert client.delete(url, headers={**auth("admin"), "If-Match": etag}).status_code == 204
    assert client.get(url, headers=auth("admin")).status_code == 404
    assert client.get(f"{url}/deliveries", headers=auth("admin")).status_code == 404
    assert client.delete(url, headers={**auth("admin"), "If-Match": "*"}).status_code == 404
    session.expire_all()
    records = session.scalars(select(AuditRecord).where(AuditRecord.action == "webhook.deleted")).all()
    assert [r.entity_id for r in records] == [hook["id"]]
    assert records[0].changes["url"] == ["http://127.0.0.1:9/…", None]  # the host only (see below)


@pytest.fixture
def production_client(settings, session_factory, search_backend):
    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    production = settings.model_copy(
        update={"app_env": "production", "package_signing_key": base64.b64encode(raw).decode()}
    )
    app = create_app(production, session_factory=session_factory, search_backend=search_backend)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://93.184.215.14/hook", "https"),
        ("https://127.0.0.1/hook", "non-public"),
        ("https://localhost/hook", "non-public"),
        ("https://[::1]/hook", "non-public"),
        ("https://10.1.2.3/hook", "non-public"),
        ("https://192.168.0.10/hook", "non-public"),
        ("https://169.254.169.254/latest/meta-data", "non-public"),
        ("https://[fe80::1]/hook", "non-public"),
        ("https://[::ffff:127.0.0.1]/hook", "non-public"),
        ("https://[2002:7f00:1::]/hook", "non-public"),  # 6to4 carrying 127.0.0.1
        ("https://[2002:a01:203::]/hook", "non-public"),  # 6to4 carrying 10.1.2.3
        ("https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", "non-public"),  # Teredo, client 127.0.0.1
        ("https://93.184.215.14:99999/hook", "port"),
    ],
)
def test_production_needs_https_to_a_public_address(production_client, auth, url, reason):
    response = create(production_client, auth, url=url)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["body", "url"]
    msg = response.json()["errors"][0]["msg"]
    assert reason in msg
    # One sentence about the URL ("The webhook URL the host ... resolves" read as broken English).
    assert re.match(r"The webhook URL (must|is|names) ", msg), msg


def test_production_accepts_https_to_a_public_address(production_client, auth):
    assert create(production_client, auth, url="https://93.184.215.14/hook").status_code == 201


def test_development_allows_http_to_loopback(client, auth):
    assert create(client, auth, url="http://localhost:8080/hook").status_code == 201


def test_update_needs_if_match_and_re_enabling_clears_failures(client, auth, session):
    hook = create(client, auth).json()
    url = f"/api/v1/webhooks/{hook['id']}"
    assert client.patch(url, json={"active": False}, headers=auth("admin")).status_code == 428
    etag = client.get(url, headers=auth("admin")).headers["ETag"]
    stale = client.patch(url, json={"active": False}, headers={**auth("admin"), "If-Match": '"x-v0"'})
    assert stale.status_code == 412
    off = client.patch(url, json={"active": False}, headers={**auth("admin"), "If-Match": etag})
    assert off.status_code == 200 and off.json()["active"] is False
    stored = session.get(WebhookSubscription, hook["id"])
    stored.consecutive_failures, stored.disabled_reason = 7, "failing"
    session.commit()
    on = client.patch(url, json={"active": True}, headers={**auth("admin"), "If-Match": off.headers["ETag"]})
    assert (
        on.json()["active"] is True and on.json()["consecutive_failures"] == 0 and on.json()["disabled_reason"] is None
    )
    bad = client.patch(url, json={"events": ["nope"]}, headers={**auth("admin"), "If-Match": on.headers["ETag"]})
    assert bad.status_code == 422
    null = client.patch(url, json={"url": None}, headers={**auth("admin"), "If-Match": on.headers["ETag"]})
    assert null.status_code == 422


def test_deliveries_of_an_unknown_webhook_is_404(client, auth):
    response = client.get("/api/v1/webhooks/0190d0a8-0000-7000-8000-000000000000/deliveries", headers=auth("admin"))
    assert response.status_code == 404


def test_the_audit_log_keeps_a_webhook_url_only_to_its_host(client, auth):
    # Receivers put their token in the path or the query; analysts read the audit log (not the
    # webhooks), and an audit record can never be removed.
    hook = create(client, auth, url="http://127.0.0.1:8123/services/T0/B0/s3cr3t?token=t0k3n").json()
    etag = client.get(f"/api/v1/webhooks/{hook['id']}", headers=auth("admin")).headers["ETag"]
    changed = client.patch(
        f"/api/v1/webhooks/{hook['id']}",
        json={"url": "http://[::1]:8124/other/s3cr3t"},
        headers={**auth("admin"), "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert client.get("/api/v1/webhooks", headers=auth("analyst")).status_code == 403
    records = client.get(
        "/api/v1/audit", params={"entity_type": "webhook", "entity_id": hook["id"]}, headers=auth("analyst")
    ).json()["items"]
    urls = [r["changes"]["url"] for r in records]
    assert urls == [["http://127.0.0.1:8123/…", "http://[::1]:8124/…"], [None, "http://127.0.0.1:8123/…"]]
    assert not any(word in str(records) for word in ("s3cr3t", "t0k3n"))
