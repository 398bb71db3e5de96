"""Publishing resolves targets to one delivery per unit; deliveries' statuses; the overdue list;
units created or re-activated later receive live bundles; publishing is a handful of statements."""

import uuid
from datetime import timedelta

from sqlalchemy import event, insert, select, update

from app.bundles import publishing
from app.bundles.models import BundlePublication, Delivery
from app.db import new_id, utcnow
from app.units.models import Unit
from tests.bundles.kit import feed_ids
from tests.factories import principal_for
from tests.paging import pages


def deliveries(client, auth, bundle_id, **params):
    response = client.get(f"/api/v1/bundles/{bundle_id}/deliveries", params=params, headers=auth("analyst"))
    assert response.status_code == 200, response.text
    return {d["unit"]["code"]: d for d in response.json()["items"]}


def test_targets_resolve_to_one_delivery_per_active_unit(client, auth, make_unit, publish):
    make_unit("LA-POST", province="Nghệ An", border_routes=["VN-LA"])
    make_unit("CN-POST", province="Lạng Sơn", border_routes=["VN-CN"])
    make_unit("KH-POLICE", province="Tây Ninh", border_routes=["VN-KH"], type="police")
    make_unit("KH-COMMUNE", province="An Giang", border_routes=["VN-KH"], type="commune")
    explicit = make_unit("LISTED", province="Gia Lai", type="other")
    inactive = make_unit("ASLEEP", province="Nghệ An", border_routes=["VN-LA"])
    client.delete(f"/api/v1/units/{inactive.id}", headers={**auth("admin"), "If-Match": "*"})
    targets = {"units": [explicit.code], "border_routes": ["Lào"], "unit_types": ["police"], "provinces": ["Lạng Sơn"]}
    bundle = publish(targets)
    got = deliveries(client, auth, bundle["id"])
    assert set(got) == {"LA-POST", "CN-POST", "KH-POLICE", "LISTED"}
    assert {d["status"] for d in got.values()} == {"pending"} and {d["version"] for d in got.values()} == {1}
    assert got["LISTED"]["unit"]["id"] == explicit.id and got["LISTED"]["fetched_at"] is None


def test_province_selector_covers_the_line_of_succession(client, auth, make_unit, publish):
    provinces = client.get("/api/v1/provinces", params={"on": "2025-01-01"}, headers=auth("editor")).json()["items"]
    old_quang_binh = next(p["id"] for p in provinces if p["name"] == "Quảng Bình")
    make_unit("NEW-QUANG-TRI", province="Quảng Trị")  # today's Quảng Trị absorbed Quảng Bình
    make_unit("ELSEWHERE", province="Nghệ An")
    bundle = publish({"provinces": [old_quang_binh]})
    assert set(deliveries(client, auth, bundle["id"])) == {"NEW-QUANG-TRI"}


def test_status_goes_pending_fetched_acknowledged_with_timestamps(client, auth, make_unit, publish):
    unit = make_unit("STATUS-POST", border_routes=["VN-LA"])
    bundle = publish({"border_routes": ["VN-LA"]})
    assert deliveries(client, auth, bundle["id"])["STATUS-POST"]["status"] == "pending"
    assert client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=unit.headers).status_code == 200
    fetched = deliveries(client, auth, bundle["id"])["STATUS-POST"]
    assert fetched["status"] == "fetched" and fetched["fetched_at"] and fetched["acknowledged_at"] is None
    assert client.post(f"/api/v1/feed/bundles/{bundle['id']}/ack", headers=unit.headers).status_code == 204
    acknowledged = deliveries(client, auth, bundle["id"])["STATUS-POST"]
    assert acknowledged["status"] == "acknowledged" and acknowledged["acknowledged_at"] >= fetched["fetched_at"]
    assert acknowledged["fetched_at"] == fetched["fetched_at"] and acknowledged["acknowledged_version"] == 1
    only_pending = deliveries(client, auth, bundle["id"], status="pending")
    assert only_pending == {}


def test_units_see_deliveries_list_as_forbidden_and_unknown_bundle_is_404(client, auth, make_unit):
    unit = make_unit("NOSY")
    assert client.get(f"/api/v1/bundles/{uuid.uuid4()}/deliveries", headers=unit.headers).status_code == 403
    assert client.get(f"/api/v1/bundles/{uuid.uuid4()}/deliveries", headers=auth("analyst")).status_code == 404


def test_unit_created_later_matching_a_selector_receives_the_live_bundle(client, auth, make_unit, publish):
    bundle = publish({"border_routes": ["VN-KH"]})
    other = publish({"border_routes": ["VN-CN"]})
    latecomer = make_unit("LATE-KH", province="An Giang", border_routes=["VN-KH"])
    assert feed_ids(client, latecomer) == [bundle["id"]]
    assert deliveries(client, auth, bundle["id"])["LATE-KH"]["status"] == "pending"
    assert "LATE-KH" not in deliveries(client, auth, other["id"])
    assert client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=latecomer.headers).status_code == 200


def test_recalled_bundles_do_not_reach_new_units(client, auth, make_unit, publish):
    bundle = publish({"unit_types": ["commune"]})
    client.post(f"/api/v1/bundles/{bundle['id']}/recall", headers=auth("reviewer"))
    latecomer = make_unit("LATE-COMMUNE", type="commune")
    assert feed_ids(client, latecomer) == []


def test_reactivated_unit_receives_what_it_missed(client, auth, make_unit, publish):
    unit = make_unit("SLEEPER", border_routes=["VN-LA"])
    client.delete(f"/api/v1/units/{unit.id}", headers={**auth("admin"), "If-Match": "*"})
    bundle = publish({"border_routes": ["VN-LA"]})
    assert "SLEEPER" not in deliveries(client, auth, bundle["id"])
    woken = client.patch(f"/api/v1/units/{unit.id}", json={"active": True}, headers={**auth("admin"), "If-Match": "*"})
    assert woken.status_code == 200
    assert feed_ids(client, unit) == [bundle["id"]]
    assert deliveries(client, auth, bundle["id"])["SLEEPER"]["status"] == "pending"


def test_overdue_lists_urgent_unacknowledged_deliveries_per_unit_and_province(
    client, auth, session, make_unit, publish
):
    late = make_unit("SLOW-POST", province="Nghệ An", border_routes=["VN-LA"])
    prompt = make_unit("QUICK-POST", province="Nghệ An", border_routes=["VN-LA"])
    urgent = publish({"border_routes": ["VN-LA"]}, priority="urgent")
    normal = publish({"border_routes": ["VN-LA"]})
    assert client.get("/api/v1/deliveries/overdue", headers=auth("analyst")).json()["items"] == []
    session.execute(update(BundlePublication).values(release_at=utcnow() - timedelta(hours=30)))
    session.commit()
    client.post(f"/api/v1/feed/bundles/{urgent['id']}/ack", headers=prompt.headers)
    overdue = client.get("/api/v1/deliveries/overdue", headers=auth("analyst")).json()
    assert overdue["hours"] == 24
    assert [(i["bundle_id"], i["unit"]["code"]) for i in overdue["items"]] == [(urgent["id"], late.code)]
    assert overdue["provinces"][0]["province"]["name"] == "Nghệ An"
    assert (overdue["provinces"][0]["units"], overdue["provinces"][0]["deliveries"]) == (1, 1)
    assert normal["id"] not in {i["bundle_id"] for i in overdue["items"]}
    relaxed = client.get("/api/v1/deliveries/overdue", params={"hours": 48}, headers=auth("analyst")).json()
    assert relaxed["items"] == [] and relaxed["provinces"] == []
    client.post(f"/api/v1/feed/bundles/{urgent['id']}/ack", headers=late.headers)
    assert client.get("/api/v1/deliveries/overdue", headers=auth("analyst")).json()["items"] == []


def test_republishing_an_edit_renews_deliveries_and_withdraws_dropped_units(client, auth, make_unit, publish):
    kept = make_unit("KEPT", border_routes=["VN-LA"], type="border_guard_post")
    dropped = make_unit("DROPPED", border_routes=["VN-LA"], type="police")
    bundle = publish({"border_routes": ["VN-LA"]})
    client.post(f"/api/v1/feed/bundles/{bundle['id']}/ack", headers=kept.headers)
    url = f"/api/v1/bundles/{bundle['id']}"
    edit = {"title": "Bản sửa", "targets": {"unit_types": ["border_guard_post"]}}
    etag = client.get(url, headers=auth("editor")).headers["etag"]
    edited = client.patch(url, json=edit, headers={**auth("editor"), "If-Match": etag})
    assert edited.status_code == 200 and edited.json()["status"] == "published"
    assert edited.json()["version"] == 2 and edited.json()["published_version"] == 1
    republished = client.post(f"{url}/publish", headers=auth("reviewer"))
    assert republished.status_code == 200 and republished.json()["published_version"] == 2
    got = deliveries(client, auth, bundle["id"])
    assert set(got) == {"KEPT"} and got["KEPT"]["status"] == "pending" and got["KEPT"]["version"] == 2
    assert client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=kept.headers).json()["title"] == "Bản sửa"
    assert client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=dropped.headers).status_code == 410
    dropped_feed = client.get("/api/v1/feed", headers=dropped.headers).json()["items"]
    assert [(i["status"], i["version"]) for i in dropped_feed] == [("recalled", 1)]


def test_publishing_to_2000_units_is_a_handful_of_statements(session, users, approved, make_bundle, connection):
    now = utcnow()
    rows = [
        {
            "id": new_id(),
            "code": f"BULK-{n:04d}",
            "name": f"Đơn vị {n}",
            "type": "commune",
            "border_routes": ["VN-CN"],
            "active": True,
            "is_demo": False,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }
        for n in range(2000)
    ]
    session.execute(insert(Unit), rows)
    session.commit()
    bundle = make_bundle({"border_routes": ["VN-CN"]})
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(connection, "before_cursor_execute", listener)
    try:
        publishing.publish_bundle(session, uuid.UUID(bundle["id"]), principal_for(users["reviewer"]), None)
        session.flush()
    finally:
        event.remove(connection, "before_cursor_execute", listener)
    delivered = session.scalars(select(Delivery.unit_id).where(Delivery.bundle_id == bundle["id"])).all()
    assert len(delivered) == 2000
    print(f"publishing to 2000 units: {len(statements)} statements")
    assert len(statements) <= 40, "\n".join(statements)


def test_deliveries_page_by_unit(client, auth, make_unit, publish):
    units = [make_unit(f"LA-{n}", border_routes=["VN-LA"]) for n in range(5)]
    bundle = publish({"border_routes": ["VN-LA"]})
    walked = pages(client, f"/api/v1/bundles/{bundle['id']}/deliveries", auth("analyst"), limit=2)
    assert [len(page) for page in walked] == [2, 2, 1]
    assert sorted(d["unit"]["id"] for page in walked for d in page) == sorted(u.id for u in units)
