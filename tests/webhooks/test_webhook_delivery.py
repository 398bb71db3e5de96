"""Deliveries to a real HTTP receiver on a loopback port: signed per Standard Webhooks and
verified with the library's verifier, retried with backoff under one webhook-id, never sent
twice, disabled after repeated failures with an audit event, nothing sent for a rolled-back change."""

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select
from standardwebhooks import Webhook

from app.bundles import publishing, release
from app.db import utcnow
from app.webhooks import sender, service
from app.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from app.webhooks.sender import WebhookSender
from tests.factories import principal_for


@pytest.fixture
def run_sender(session_factory, settings) -> Iterator[Callable[..., WebhookSender]]:
    """run_sender(**settings) -> a sender (not started) with retries due at once unless told."""
    made = []

    def make(**overrides) -> WebhookSender:
        values = {"webhook_retry_base_seconds": 0, **overrides}
        worker = WebhookSender(session_factory, settings.model_copy(update=values))
        made.append(worker)
        return worker

    yield make
    for worker in made:
        worker.stop()


@pytest.fixture
def subscribe(client, auth) -> Callable[..., dict]:
    def make(url: str, events=("bundle.published", "bundle.recalled"), **body) -> dict:
        created = client.post(
            "/api/v1/webhooks", json={"url": url, "events": list(events), **body}, headers=auth("admin")
        )
        assert created.status_code == 201, created.text
        return created.json()

    return make


def log(client, auth, hook) -> list[dict]:
    response = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=auth("admin"))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def failures_total() -> float:
    return REGISTRY.get_sample_value("ttdn_webhook_delivery_failures_total") or 0.0


def test_publish_and_recall_are_delivered_signed_to_the_right_subscriptions(
    client, auth, receiver, subscribe, make_unit, publish, run_sender
):
    addressed = make_unit("HOOK-CN", border_routes=["VN-CN"])
    elsewhere = make_unit("HOOK-KH", border_routes=["VN-KH"])
    everything = subscribe(receiver.url + "/global")
    mine = subscribe(receiver.url + "/cn", unit_id=addressed.id)
    subscribe(receiver.url + "/kh", unit_id=elsewhere.id)
    subscribe(receiver.url + "/recalls", events=["bundle.recalled"])
    bundle = publish({"border_routes": ["VN-CN"]})
    report = run_sender().run_once()
    assert report.delivered == 2 and report.failed == 0
    assert sorted(r.path for r in receiver.requests) == ["/hook/cn", "/hook/global"]
    for received in receiver.requests:
        secret = everything["secret"] if received.path == "/hook/global" else mine["secret"]
        event = Webhook(secret).verify(received.body, received.headers)
        assert event["type"] == "bundle.published"
        assert event["data"]["bundle_id"] == bundle["id"] and event["data"]["version"] == 1
        with pytest.raises(Exception, match="signature"):
            Webhook(secret).verify(received.body.replace(b"VN", b"XX") + b" ", received.headers)
    assert received.headers["content-type"] == "application/json"
    recall = client.post(f"/api/v1/bundles/{bundle['id']}/recall", headers=auth("reviewer"))
    assert recall.status_code == 200, recall.text
    receiver.requests.clear()
    assert run_sender().run_once().delivered == 3
    assert sorted(r.path for r in receiver.requests) == ["/hook/cn", "/hook/global", "/hook/recalls"]
    assert {json.loads(r.body)["type"] for r in receiver.requests} == {"bundle.recalled"}
    assert [d["status"] for d in log(client, auth, mine)] == ["delivered", "delivered"]


def test_retried_after_two_500s_under_one_webhook_id_and_never_sent_again(
    client, auth, receiver, subscribe, publish, run_sender, caplog
):
    caplog.set_level(logging.WARNING, logger="ttdn.webhooks")
    hook = subscribe(receiver.url)
    receiver.answers = [500, 500]
    publish({"border_routes": ["VN-CN"]})
    worker = run_sender()
    before = failures_total()
    for _ in range(5):
        worker.run_once()
    assert len(receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1
    for received in receiver.requests:
        Webhook(hook["secret"]).verify(received.body, received.headers)
    assert failures_total() - before == 2
    # An operator reading the logs sees each failure, with what the subscriber answered.
    failed = [r.getMessage() for r in caplog.records if r.name == "ttdn.webhooks" and "failed" in r.getMessage()]
    assert len(failed) == 2 and all(hook["id"] in m and "HTTP 500" in m and "next try at" in m for m in failed)
    [entry] = log(client, auth, hook)
    assert entry["id"] == receiver.requests[0].headers["webhook-id"]
    assert entry["status"] == "delivered" and entry["attempts"] == 3 and entry["last_status_code"] == 200
    assert entry["next_attempt_at"] is None and entry["delivered_at"]
    metrics = client.get("/metrics").text
    assert "ttdn_webhook_delivery_failures_total" in metrics


def test_a_failed_attempt_is_logged_and_retried_later_with_backoff(
    client, auth, receiver, subscribe, publish, run_sender
):
    hook = subscribe(receiver.url)
    receiver.answers = [503]
    publish({"border_routes": ["VN-CN"]})
    worker = run_sender(webhook_retry_base_seconds=60)
    started = utcnow()
    worker.run_once()
    [entry] = log(client, auth, hook)
    assert entry["status"] == "pending" and entry["attempts"] == 1 and entry["last_status_code"] == 503
    assert entry["last_error"] == "answered HTTP 503"
    next_at = datetime.fromisoformat(entry["next_attempt_at"])
    assert started + timedelta(seconds=29) <= next_at <= utcnow() + timedelta(seconds=61)
    assert worker.run_once().delivered == 0 and len(receiver.requests) == 1
    assert worker.run_once(now=next_at + timedelta(seconds=1)).delivered == 1
    assert len(receiver.requests) == 2


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    values = settings.model_copy(update={"webhook_retry_base_seconds": 10, "webhook_retry_max_seconds": 300})
    delays = [sender.retry_delay(n, values).total_seconds() for n in range(1, 9)]
    for n, delay in enumerate(delays[:5], start=1):
        assert 10 * 2 ** (n - 1) / 2 <= delay <= 10 * 2 ** (n - 1)
    assert all(150 <= d <= 300 for d in delays[5:])


def test_a_claimed_delivery_is_not_taken_by_a_second_worker_until_its_lease_ends(
    session, settings, receiver, subscribe, publish
):
    subscribe(receiver.url)
    publish({"border_routes": ["VN-CN"]})
    now, lease = utcnow(), timedelta(minutes=1)
    first = sender.claim_due(session, now, lease)
    session.commit()
    assert len(first) == 1
    assert sender.claim_due(session, now, lease) == []
    again = sender.claim_due(session, now + lease + timedelta(seconds=1), lease)
    assert [c.delivery_id for c in again] == [first[0].delivery_id] and again[0].token != first[0].token
    # The first worker's late result no longer counts: its claim was taken over.
    assert sender.record(session, first[0], sender.Outcome(status_code=200), settings, now) is None
    assert sender.record(session, again[0], sender.Outcome(status_code=200), settings, now) is False
    session.commit()
    assert sender.claim_due(session, now + 2 * lease, lease) == []


def test_disabled_after_repeated_failures_with_an_audit_event(
    client, auth, session, receiver, subscribe, publish, run_sender
):
    hook = subscribe(receiver.url)
    receiver.answers = [500] * 10
    publish({"border_routes": ["VN-CN"]})
    worker = run_sender(webhook_disable_after_failures=3, webhook_disable_after_seconds=0)
    for _ in range(6):
        worker.run_once()
    assert len(receiver.requests) == 3
    read = client.get(f"/api/v1/webhooks/{hook['id']}", headers=auth("admin")).json()
    assert read["active"] is False and read["disabled_at"] and "3 failed attempts" in read["disabled_reason"]
    assert read["failing_since"] is not None
    audit = client.get("/api/v1/audit", params={"action": "webhook.disabled"}, headers=auth("admin")).json()["items"]
    assert [(a["entity_id"], a["actor"]["type"]) for a in audit] == [(hook["id"], "system")]
    publish({"border_routes": ["VN-CN"]})
    worker.run_once()
    assert len(receiver.requests) == 3


def test_a_short_outage_does_not_switch_a_webhook_off_and_a_success_ends_the_run(
    client, auth, receiver, subscribe, publish, run_sender
):
    """Many failed attempts in a burst (a receiver restarting while events pour in) are not a
    receiver gone: it is switched off only once it has also been failing for
    webhook_disable_after_seconds (a day by default)."""
    hook = subscribe(receiver.url)
    receiver.answers = [500] * 3 + [200] * 10
    publish({"border_routes": ["VN-CN"]})
    worker = run_sender(webhook_disable_after_failures=3)
    for _ in range(3):
        worker.run_once()
    failing = client.get(f"/api/v1/webhooks/{hook['id']}", headers=auth("admin")).json()
    assert failing["active"] is True and failing["consecutive_failures"] == 3 and failing["failing_since"]
    worker.run_once()
    [entry] = log(client, auth, hook)
    assert entry["status"] == "delivered"
    healthy = client.get(f"/api/v1/webhooks/{hook['id']}", headers=auth("admin")).json()
    assert healthy["consecutive_failures"] == 0 and healthy["failing_since"] is None


def test_a_delivery_gives_up_after_its_last_attempt(client, auth, receiver, subscribe, publish, run_sender):
    hook = subscribe(receiver.url)
    receiver.answers = [500] * 10
    publish({"border_routes": ["VN-CN"]})
    worker = run_sender(webhook_max_attempts=2)
    for _ in range(4):
        worker.run_once()
    assert len(receiver.requests) == 2
    [entry] = log(client, auth, hook)
    assert entry["status"] == "failed" and entry["attempts"] == 2 and entry["next_attempt_at"] is None


def test_nothing_is_sent_for_a_change_that_rolled_back(session, users, receiver, subscribe, make_bundle, run_sender):
    subscribe(receiver.url)
    bundle = make_bundle({"border_routes": ["VN-CN"]})
    publishing.publish_bundle(session, uuid.UUID(bundle["id"]), principal_for(users["reviewer"]), None)
    session.flush()
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
    session.rollback()
    assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
    assert run_sender().run_once().delivered == 0 and receiver.requests == []


def test_emit_refuses_an_unknown_event(session):
    with pytest.raises(ValueError, match="unknown webhook event"):
        service.emit(session, "bundle.exploded", {})


def test_production_checks_the_address_again_at_delivery_time(
    session, client, auth, receiver, subscribe, publish, run_sender
):
    """A name that resolved to a public address when subscribed and to loopback now (DNS
    rebinding) reaches nothing: the same check runs before every attempt."""
    hook = subscribe(receiver.url.replace("http://", "https://"))
    publish({"border_routes": ["VN-CN"]})
    worker = run_sender(app_env="production")
    assert worker.run_once().failed == 1
    assert receiver.requests == []
    [entry] = log(client, auth, hook)
    assert entry["status"] == "pending" and "non-public" in entry["last_error"]
    assert session.get(WebhookSubscription, hook["id"]).consecutive_failures == 1


def test_a_connection_refused_is_a_logged_failure(client, auth, subscribe, publish, run_sender):
    hook = subscribe("http://127.0.0.1:9/closed")
    publish({"border_routes": ["VN-CN"]})
    assert run_sender().run_once().failed == 1
    [entry] = log(client, auth, hook)
    assert entry["last_status_code"] is None and "ConnectError" in entry["last_error"]


def test_signature_matches_the_specifications_example():
    """The example in the Standard Webhooks specification's reference tests."""
    headers = sender.signed_headers(
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        '{"test": 2432232314}',
        datetime.fromtimestamp(1614265330, UTC),
    )
    assert headers["webhook-timestamp"] == "1614265330"
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_scheduled_bundle_is_announced_when_it_is_released(
    session, receiver, subscribe, make_unit, publish, run_sender
):
    unit = make_unit("HOOK-LATER", border_routes=["VN-CN"])
    subscribe(receiver.url, unit_id=unit.id)
    publish_at = utcnow() + timedelta(hours=2)
    bundle = publish({"border_routes": ["VN-CN"]}, publish_at=publish_at.isoformat())
    assert run_sender().run_once().delivered == 0
    release.release_due(session, now=publish_at + timedelta(seconds=1))
    session.commit()
    assert run_sender().run_once().delivered == 1
    assert json.loads(receiver.requests[0].body)["data"]["bundle_id"] == bundle["id"]


def test_an_event_reaches_its_organisations_units_and_global_subscriptions_only(
    client, auth, session, receiver, subscribe, make_unit, run_sender
):
    lead, partner, other = (
        client.post(
            "/api/v1/organisations", json={"code": code, "name": code, "kind": "ministry_unit"}, headers=auth("admin")
        ).json()["id"]
        for code in ("HOOK-LEAD", "HOOK-PARTNER", "HOOK-OTHER")
    )
    unit = make_unit("HOOK-REPORTER")
    subscribe(receiver.url + "/lead", events=["claim.updated"], organisation_id=lead)
    subscribe(receiver.url + "/partner", events=["claim.updated"], organisation_id=partner)
    subscribe(receiver.url + "/other", events=["claim.updated"], organisation_id=other)
    subscribe(receiver.url + "/unit", events=["claim.updated", "rebuttal.published"], unit_id=unit.id)
    subscribe(receiver.url + "/global", events=["claim.updated"])
    subscribe(receiver.url + "/created-only", events=["claim.created"])
    payload = {"claim_id": str(uuid.uuid4()), "lead_organisation_id": lead, "organisation_ids": [partner]}
    service.on_event(session, "claim.updated", payload)
    service.on_event(session, "rebuttal.published", {"unit_ids": [unit.id], "organisation_ids": []})
    session.commit()
    assert run_sender().run_once().delivered == 4
    paths = sorted((r.path, json.loads(r.body)["type"]) for r in receiver.requests)
    assert paths == [
        ("/hook/global", "claim.updated"),
        ("/hook/lead", "claim.updated"),
        ("/hook/partner", "claim.updated"),
        ("/hook/unit", "rebuttal.published"),
    ]
