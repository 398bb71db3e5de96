"""Claim reports: who reports, who reads what, and matching on arrival (URL and text)."""

from tests.claims.conftest import LAND


def test_a_unit_reports_and_reads_only_its_own_reports(client, auth, report, make_unit, border_unit):
    created = report(border_unit.headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["Location"] == f"/api/v1/claim-reports/{body['id']}"
    assert body["reporter"] == {"type": "unit", "id": border_unit.id, "label": "DB-DON1"}
    assert body["claim_id"] is None and body["status"] == "new" and body["suggested_claims"] == []
    assert body["ethnic_groups"] == ["08"] and body["border_routes"] == ["VN-LA"]

    other = make_unit("LC-DON2", province="Lào Cai", border_routes=["VN-CN"])
    assert client.get(f"/api/v1/claim-reports/{body['id']}", headers=other.headers).status_code == 404
    assert client.get("/api/v1/claim-reports", headers=other.headers).json()["items"] == []
    mine = client.get("/api/v1/claim-reports", headers=border_unit.headers).json()["items"]
    assert [r["id"] for r in mine] == [body["id"]]
    assert client.get(f"/api/v1/claim-reports/{body['id']}", headers=auth("analyst")).status_code == 200


def test_a_report_naming_the_same_page_joins_its_claim_at_once(client, auth, report, claim_from, border_unit):
    first = report(border_unit.headers).json()
    claim = claim_from([first["id"]])
    assert claim["report_count"] == 1 and claim["provinces"] and claim["ethnic_groups"] == ["08"]
    # Another scheme, no www, other tracking parameters and a fragment: the same page.
    same_page = report(
        auth("editor"),
        summary="Một bài viết khác hẳn",
        excerpt="",
        urls=["http://facebook.com/groups/123/posts/456/?utm_medium=x&gclid=1#comments"],
    )
    assert same_page.status_code == 201
    assert same_page.json()["claim_id"] == claim["id"] and same_page.json()["matched_by"] == "url"
    assert client.get(f"/api/v1/claims/{claim['id']}", headers=auth("analyst")).json()["report_count"] == 2


def test_close_text_without_diacritics_joins_and_distant_text_gets_suggestions(
    client, auth, report, claim_from, border_unit, index_now
):
    claim = claim_from([report(border_unit.headers).json()["id"]])
    index_now()
    folded = report(
        auth("editor"),
        urls=[],
        summary="Tin don nha nuoc se thu hoi toan bo dat rung cua dong bao Mong o Dien Bien",
        excerpt="Bai dang keu goi ba con khong nhan ho tro vi sap bi thu hoi dat rung.",
    ).json()
    assert folded["claim_id"] == claim["id"] and folded["matched_by"] == "text"
    index_now()
    related = report(auth("editor"), urls=[], summary="Có người nói đất rừng của người Mông sắp bị lấy lại", excerpt="")
    body = related.json()
    assert body["claim_id"] is None
    assert body["suggested_claims"][0]["claim_id"] == claim["id"]
    assert 0 < body["suggested_claims"][0]["score"] < 1
    unrelated = report(auth("editor"), urls=[], summary="Giá cà phê tăng mạnh tuần này", excerpt="").json()
    assert unrelated["claim_id"] is None and unrelated["suggested_claims"] == []


def test_a_report_sent_before_the_indexer_ran_joins_the_claim_just_opened_or_edited(client, auth, report):
    """The claim index is drained about every second; a report arriving in that second still joins."""
    title = "Tin giả về dịch bệnh ở Lạng Sơn lan rộng"
    opened = client.post("/api/v1/claims", json={"title": title}, headers=auth("editor")).json()
    same = report(auth("editor"), urls=[], summary=title, excerpt="")
    assert same.json()["claim_id"] == opened["id"] and same.json()["matched_by"] == "text", same.json()

    # Edited, not indexed again yet: the new text is what a report is compared with.
    etag = client.get(f"/api/v1/claims/{opened['id']}", headers=auth("editor")).headers["ETag"]
    edited = client.patch(
        f"/api/v1/claims/{opened['id']}",
        json={"title": "Tin đồn cửa khẩu Tà Lùng ở Cao Bằng sẽ đóng 30 ngày"},
        headers={**auth("editor"), "If-Match": etag},
    )
    assert edited.status_code == 200, edited.text
    later = report(auth("editor"), urls=[], summary="tin don cua khau Ta Lung o Cao Bang se dong 30 ngay", excerpt="")
    assert later.json()["claim_id"] == opened["id"], later.json()


def test_bad_reports_are_422s_naming_the_field(auth, report):
    assert report(auth("editor"), urls=["http://"]).json()["errors"][0]["loc"] == ["body", "urls", 0]
    missing = report(auth("editor"), summary="")
    assert missing.status_code == 422 and missing.json()["errors"][0]["loc"] == ["body", "summary"]
    naive = report(auth("editor"), observed_at="2026-11-30T08:00:00")
    assert naive.status_code == 422 and naive.json()["errors"][0]["loc"] == ["body", "observed_at"]
    unknown = report(auth("editor"), provinces=["Atlantis"])
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["loc"][:2] == ["body", "provinces"]


def test_attachments_of_a_report_are_stored_and_kept_from_other_units(client, auth, report, border_unit, make_unit):
    created = report(border_unit.headers).json()
    url = f"/api/v1/claim-reports/{created['id']}/attachments"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    uploaded = client.post(url, files={"file": ("anh.png", png, "image/png")}, headers=border_unit.headers)
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json()
    assert attachment["media_type"] == "image/png" and attachment["size"] == len(png)
    got = client.get(attachment["url"], headers=border_unit.headers)
    assert got.content == png and got.headers["etag"] == f'"{attachment["sha256"]}"'
    # Served as every stored file is: a current copy is a 304, a part of it a 206.
    current = client.get(attachment["url"], headers={**border_unit.headers, "If-None-Match": got.headers["etag"]})
    assert current.status_code == 304 and current.content == b""
    part = client.get(attachment["url"], headers={**border_unit.headers, "Range": "bytes=0-7"})
    assert part.status_code == 206 and part.content == png[:8]
    other = make_unit("LC-DON3", province="Lào Cai")
    assert client.get(attachment["url"], headers=other.headers).status_code == 404
    assert client.post(url, files={"file": ("a.png", png, "image/png")}, headers=other.headers).status_code == 404
    lying = client.post(url, files={"file": ("a.pdf", png, "application/pdf")}, headers=border_unit.headers)
    assert lying.status_code == 415


def test_a_report_attachment_has_the_upload_limit_not_the_json_one(client, auth, report, border_unit, settings):
    created = report(border_unit.headers).json()
    url = f"/api/v1/claim-reports/{created['id']}/attachments"
    photo = b"\x89PNG\r\n\x1a\n" + b"\x00" * (settings.max_json_body_bytes * 2)  # a phone photo, not JSON
    assert settings.max_json_body_bytes < len(photo) < settings.max_upload_bytes
    uploaded = client.post(url, files={"file": ("anh.png", photo, "image/png")}, headers=border_unit.headers)
    assert uploaded.status_code == 201, uploaded.text
    too_big = b"\x89PNG\r\n\x1a\n" + b"\x00" * settings.max_upload_bytes
    refused = client.post(url, files={"file": ("lon.png", too_big, "image/png")}, headers=border_unit.headers)
    assert refused.status_code == 413


def test_reports_are_audited(client, auth, report):
    created = report(auth("editor"), urls=[]).json()
    records = client.get(
        "/api/v1/audit", params={"entity_type": "claim_report", "entity_id": created["id"]}, headers=auth("admin")
    ).json()["items"]
    assert [r["action"] for r in records] == ["claim_report.created"]
    assert LAND["summary"] in str(records[0]["changes"])
