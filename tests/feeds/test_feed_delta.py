"""A unit's feed: isolation between units, delta sync with tombstones, paging, scheduled release
and expiry behind no cursor, recall."""

import base64
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.bundles.models import BundlePublication
from app.bundles.release import BackgroundReleaser, release_due
from tests.bundles.kit import feed_ids

CN = {"border_routes": ["VN-CN"]}


def feed(client, unit, **params):
    response = client.get("/api/v1/feed", params=params, headers=unit.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_unit_a_never_sees_unit_b_bundles(client, make_unit, publish):
    unit_a = make_unit("UNIT-A", border_routes=["VN-CN"])
    unit_b = make_unit("UNIT-B", border_routes=["VN-KH"])
    for_a = publish(CN)
    for_b = publish({"units": ["UNIT-B"]})
    assert feed_ids(client, unit_a) == [for_a["id"]]
    assert feed_ids(client, unit_b) == [for_b["id"]]
    for path in ("", "/package"):
        assert client.get(f"/api/v1/feed/bundles/{for_b['id']}{path}", headers=unit_a.headers).status_code == 404
    refused = client.post(f"/api/v1/feed/bundles/{for_b['id']}/ack", headers=unit_a.headers)
    assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
    assert client.get(f"/api/v1/feed/bundles/{uuid.uuid4()}", headers=unit_a.headers).status_code == 404
    for path in ("/api/v1/feed.atom", "/api/v1/feed.json"):
        body = client.get(path, headers=unit_a.headers).text
        assert for_a["id"] in body and for_b["id"] not in body


def test_feed_routes_refuse_anonymous_and_staff(client, auth, make_unit, publish):
    bundle = publish(CN)
    paths = ["/api/v1/feed", "/api/v1/feed.atom", "/api/v1/feed.json", f"/api/v1/feed/bundles/{bundle['id']}"]
    paths.append(f"/api/v1/feed/bundles/{bundle['id']}/package")
    for path in paths:
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers=auth("admin")).status_code == 403, path
    assert client.post(f"/api/v1/feed/bundles/{bundle['id']}/ack", headers=auth("admin")).status_code == 403
    assert client.get("/api/v1/feed/signing-key").status_code == 401


def test_since_returns_exactly_the_later_changes_including_tombstones(client, auth, make_unit, publish):
    unit = make_unit("DELTA-POST", border_routes=["VN-CN"])
    first = publish(CN)
    second = publish(CN)
    everything = feed(client, unit)
    assert {i["bundle_id"] for i in everything["items"]} == {first["id"], second["id"]}
    assert everything["next_cursor"] is None
    checkpoint = everything["cursor"]
    assert feed(client, unit, since=checkpoint)["items"] == []
    third = publish(CN)
    client.post(f"/api/v1/bundles/{first['id']}/recall", headers=auth("reviewer"))
    delta = feed(client, unit, since=checkpoint)
    states = {i["bundle_id"]: (i["status"], i["change"]) for i in delta["items"]}
    assert states == {third["id"]: ("published", "published"), first["id"]: ("recalled", "recalled")}
    assert feed(client, unit, since=delta["cursor"])["items"] == []
    latest = {i["bundle_id"]: i["status"] for i in feed(client, unit)["items"]}
    assert latest == {first["id"]: "recalled", second["id"]: "published", third["id"]: "published"}


def test_a_bundle_changed_twice_appears_once_in_its_latest_state(client, auth, make_unit, publish):
    unit = make_unit("DEDUP-POST", border_routes=["VN-CN"])
    checkpoint = feed(client, unit)["cursor"]
    bundle = publish(CN)
    url = f"/api/v1/bundles/{bundle['id']}"
    client.patch(url, json={"title": "Bản 2"}, headers={**auth("editor"), "If-Match": "*"})
    client.post(f"{url}/publish", headers=auth("reviewer"))
    items = feed(client, unit, since=checkpoint)["items"]
    assert [(i["bundle_id"], i["title"], i["version"], i["change"]) for i in items] == [
        (bundle["id"], "Bản 2", 2, "updated")
    ]


def test_paging_is_urgent_first_then_newest_and_loses_nothing(client, make_unit, publish):
    unit = make_unit("PAGED-POST", border_routes=["VN-CN"])
    normal = [publish(CN)["id"] for _ in range(3)]
    urgent = publish(CN, priority="urgent")["id"]
    newest = publish(CN)["id"]
    seen, since, pages = [], None, 0
    while True:
        page = feed(client, unit, limit=2, **({"since": since} if since else {}))
        seen += [(i["bundle_id"], i["priority"]) for i in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            final = page["cursor"]
            break
        since = page["next_cursor"]
    assert pages == 3
    assert [b for b, _ in seen] == [urgent, newest, *reversed(normal)]
    assert feed(client, unit, since=final)["items"] == []
    later = publish(CN)["id"]
    assert feed_ids(client, unit, since=final) == [later]


def test_a_change_made_while_paging_comes_with_the_next_sync(client, make_unit, publish):
    unit = make_unit("BUSY-POST", border_routes=["VN-CN"])
    first, second = publish(CN)["id"], publish(CN)["id"]
    page = feed(client, unit, limit=1)
    assert page["next_cursor"] and page["cursor"]
    third = publish(CN)["id"]
    rest = feed(client, unit, limit=1, since=page["next_cursor"])
    assert [i["bundle_id"] for i in page["items"] + rest["items"]] == [second, first]
    assert rest["next_cursor"] is None
    assert feed_ids(client, unit, since=rest["cursor"]) == [third]


def test_a_cursor_this_feed_did_not_make_is_422(client, make_unit):
    unit = make_unit("GARBAGE-POST")
    shapes = ("[1, null, 3]", "[-1]", "[]", '{"a": 1}', '["1"]', "[true]", "[1, 2, 3]")
    encoded = [base64.urlsafe_b64encode(shape.encode()).decode().rstrip("=") for shape in shapes]
    for bad in ("not-base64!", *encoded):
        response = client.get("/api/v1/feed", params={"since": bad}, headers=unit.headers)
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["loc"] == ["query", "since"]
    assert client.get("/api/v1/feed", params={"limit": 101}, headers=unit.headers).status_code == 422


def test_scheduled_bundle_appears_only_when_due_and_never_behind_a_cursor(client, session, make_unit, publish):
    unit = make_unit("SCHEDULED-POST", border_routes=["VN-CN"])
    soon = datetime.now(UTC) + timedelta(hours=2)
    scheduled = publish(CN, publish_at=soon.isoformat())
    assert scheduled["status"] == "published" and scheduled["published_at"].startswith(soon.isoformat()[:16])
    visible_now = publish(CN)
    synced = feed(client, unit)
    assert [i["bundle_id"] for i in synced["items"]] == [visible_now["id"]]
    assert client.get(f"/api/v1/feed/bundles/{scheduled['id']}", headers=unit.headers).status_code == 404
    assert release_due(session, soon - timedelta(minutes=1)).released == 0
    report = release_due(session, soon + timedelta(seconds=1))
    session.commit()
    assert report.released == 1
    delta = feed(client, unit, since=synced["cursor"])
    assert [(i["bundle_id"], i["change"]) for i in delta["items"]] == [(scheduled["id"], "published")]
    assert client.get(f"/api/v1/feed/bundles/{scheduled['id']}", headers=unit.headers).status_code == 200
    assert release_due(session, soon + timedelta(seconds=2)).released == 0  # released once only


def test_expiry_leaves_an_expired_tombstone(client, session, make_unit, publish):
    unit = make_unit("EXPIRY-POST", border_routes=["VN-CN"])
    ends = datetime.now(UTC) + timedelta(days=1)
    bundle = publish(CN, expires_at=ends.isoformat())
    synced = feed(client, unit)
    assert release_due(session, ends - timedelta(seconds=1)).expired == 0
    assert release_due(session, ends + timedelta(seconds=1)).expired == 1
    session.commit()
    delta = feed(client, unit, since=synced["cursor"])["items"]
    assert [(i["bundle_id"], i["status"], i["change"]) for i in delta] == [(bundle["id"], "recalled", "expired")]
    assert client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=unit.headers).status_code == 410
    assert client.get(f"/api/v1/feed/bundles/{bundle['id']}/package", headers=unit.headers).status_code == 410


def test_recall_leaves_a_tombstone_and_content_answers_410(client, auth, make_unit, publish):
    unit = make_unit("RECALL-POST", border_routes=["VN-CN"])
    bundle = publish(CN)
    assert client.get(f"/api/v1/feed/bundles/{bundle['id']}/package", headers=unit.headers).status_code == 200
    synced = feed(client, unit)
    assert client.post(f"/api/v1/bundles/{bundle['id']}/recall", headers=auth("reviewer")).status_code == 200
    tombstone = feed(client, unit, since=synced["cursor"])["items"]
    assert [(i["bundle_id"], i["status"]) for i in tombstone] == [(bundle["id"], "recalled")]
    for path in ("", "/package"):
        gone = client.get(f"/api/v1/feed/bundles/{bundle['id']}{path}", headers=unit.headers)
        assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json"
    assert client.post(f"/api/v1/feed/bundles/{bundle['id']}/ack", headers=unit.headers).status_code == 410


def test_scheduled_bundle_recalled_before_release_never_appears(client, auth, session, make_unit, publish):
    unit = make_unit("NEVER-POST", border_routes=["VN-CN"])
    soon = datetime.now(UTC) + timedelta(hours=1)
    bundle = publish(CN, publish_at=soon.isoformat())
    client.post(f"/api/v1/bundles/{bundle['id']}/recall", headers=auth("reviewer"))
    assert release_due(session, soon + timedelta(minutes=1)).released == 0
    assert feed(client, unit)["items"] == []


def test_out_of_range_numbers_are_422_not_500(client, auth, make_unit, publish):
    unit = make_unit("HUGE-POST", border_routes=["VN-CN"])
    bundle = publish(CN)
    huge = base64.urlsafe_b64encode(b"[99999999999999999999999]").decode().rstrip("=")
    assert client.get("/api/v1/feed", params={"since": huge}, headers=unit.headers).status_code == 422
    ack = client.post(f"/api/v1/feed/bundles/{bundle['id']}/ack", json={"version": 2**40}, headers=unit.headers)
    assert ack.status_code == 422
    publication = client.get(f"/api/v1/bundles/{bundle['id']}/publications/{2**40}", headers=auth("analyst"))
    assert publication.status_code == 422


def test_the_background_releaser_releases_what_is_due(client, session, session_factory, settings, make_unit, publish):
    unit = make_unit("BACKGROUND-POST", border_routes=["VN-CN"])
    bundle = publish(CN, publish_at=(datetime.now(UTC) + timedelta(hours=3)).isoformat())
    session.execute(update(BundlePublication).values(due_at=datetime.now(UTC) - timedelta(seconds=1)))
    session.commit()
    report = BackgroundReleaser(session_factory, settings).run_once()
    assert report is not None and report.released == 1
    assert feed_ids(client, unit) == [bundle["id"]]


def test_the_feed_pages_with_cursor_as_every_list_does(client, make_unit, publish):
    """`cursor` is `since` under the name every other list takes; two different ones are a 422."""
    unit = make_unit("CURSOR-POST", border_routes=["VN-CN"])
    first, second = publish(CN)["id"], publish(CN)["id"]
    page = feed(client, unit, limit=1)
    rest = feed(client, unit, limit=1, cursor=page["next_cursor"])
    assert [i["bundle_id"] for i in page["items"] + rest["items"]] == [second, first]
    same = feed(client, unit, limit=1, since=page["next_cursor"], cursor=page["next_cursor"])
    assert same["items"] == rest["items"]
    both = client.get(
        "/api/v1/feed", params={"since": page["cursor"], "cursor": page["next_cursor"]}, headers=unit.headers
    )
    assert both.status_code == 422 and both.json()["errors"][0]["loc"] == ["query", "cursor"]
