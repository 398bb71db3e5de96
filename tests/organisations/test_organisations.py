"""Organisations: admins manage them with If-Match, staff read them, users belong to one."""

from app.accounts.models import User

MINISTRY = {"code": "BKHCN-TTDN", "name": "Bộ Khoa học và Công nghệ", "kind": "ministry_unit"}


def test_admin_creates_reads_renames_and_deletes_an_organisation(client, auth):
    created = client.post("/api/v1/organisations", json=MINISTRY, headers=auth("admin"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["Location"] == f"/api/v1/organisations/{body['id']}"
    assert body["kind"] == "ministry_unit" and body["version"] == 1
    url = f"/api/v1/organisations/{body['id']}"
    read = client.get(url, headers=auth("analyst"))
    assert read.status_code == 200 and read.json()["name"] == MINISTRY["name"]
    listed = client.get("/api/v1/organisations", params={"kind": "ministry_unit"}, headers=auth("editor")).json()
    assert [o["code"] for o in listed["items"]] == ["BKHCN-TTDN"]

    assert client.patch(url, json={"name": "Tên mới"}, headers=auth("admin")).status_code == 428
    stale = client.patch(url, json={"name": "Tên mới"}, headers={**auth("admin"), "If-Match": '"x-v0"'})
    assert stale.status_code == 412
    renamed = client.patch(url, json={"name": "Tên mới"}, headers={**auth("admin"), "If-Match": read.headers["ETag"]})
    assert renamed.status_code == 200 and renamed.json()["version"] == 2
    deleted = client.delete(url, headers={**auth("admin"), "If-Match": renamed.headers["ETag"]})
    assert deleted.status_code == 204
    assert client.get(url, headers=auth("admin")).status_code == 404


def test_duplicate_codes_and_unknown_kinds_are_refused(client, auth):
    assert client.post("/api/v1/organisations", json=MINISTRY, headers=auth("admin")).status_code == 201
    again = client.post("/api/v1/organisations", json={**MINISTRY, "code": "bkhcn-ttdn"}, headers=auth("admin"))
    assert again.status_code == 409
    wrong = client.post("/api/v1/organisations", json={**MINISTRY, "code": "X1", "kind": "army"}, headers=auth("admin"))
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["loc"] == ["body", "kind"]


def test_users_belong_to_an_organisation_and_it_cannot_be_deleted_under_them(client, auth, session):
    organisation = client.post("/api/v1/organisations", json=MINISTRY, headers=auth("admin")).json()
    user = client.post(
        "/api/v1/users",
        json={
            "email": "can.bo@example.test",
            "password": "một mật khẩu đủ dài và khó đoán 2026",
            "roles": ["editor"],
            "organisation_id": organisation["id"],
        },
        headers=auth("admin"),
    )
    assert user.status_code == 201, user.text
    assert user.json()["organisation_id"] == organisation["id"]
    refused = client.delete(f"/api/v1/organisations/{organisation['id']}", headers={**auth("admin"), "If-Match": "*"})
    assert refused.status_code == 409
    moved = client.patch(
        f"/api/v1/users/{user.json()['id']}",
        json={"organisation_id": None},
        headers={**auth("admin"), "If-Match": user.headers["ETag"]},
    )
    assert moved.status_code == 200 and moved.json()["organisation_id"] is None
    assert session.get(User, user.json()["id"]) is not None


def test_an_unknown_organisation_is_a_422_on_the_user(client, auth, users):
    response = client.patch(
        f"/api/v1/users/{users['editor'].id}",
        json={"organisation_id": "0190d0a8-0000-7000-8000-000000000000"},
        headers={**auth("admin"), "If-Match": "*"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "organisation_id"]


def test_organisation_writes_are_audited(client, auth):
    organisation = client.post("/api/v1/organisations", json=MINISTRY, headers=auth("admin")).json()
    records = client.get(
        "/api/v1/audit", params={"entity_type": "organisation", "entity_id": organisation["id"]}, headers=auth("admin")
    ).json()["items"]
    assert [r["action"] for r in records] == ["organisation.created"]


def test_an_organisation_on_a_claim_is_kept_for_it_and_says_so(client, auth):
    lead, other = (
        client.post("/api/v1/organisations", json={**MINISTRY, "code": code}, headers=auth("admin")).json()
        for code in ("LEAD-1", "COORD-1")
    )
    claim = client.post(
        "/api/v1/claims",
        json={"title": "Tin đồn", "lead_organisation_id": lead["id"], "organisation_ids": [other["id"]]},
        headers=auth("editor"),
    )
    assert claim.status_code == 201, claim.text
    for organisation in (lead, other):
        refused = client.delete(
            f"/api/v1/organisations/{organisation['id']}", headers={**auth("admin"), "If-Match": "*"}
        )
        # Was a 409 saying "another change made at the same moment", which no retry could mend.
        assert refused.status_code == 409 and "1 claim(s)" in refused.json()["detail"], refused.text
        assert client.get(f"/api/v1/organisations/{organisation['id']}", headers=auth("admin")).status_code == 200
