"""Claims: deadlines by severity, triage, overdue, merge, move, comments."""

from datetime import datetime, timedelta

from app.claims.models import Claim
from app.db import utcnow


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_the_deadline_follows_the_severity_and_moves_when_it_is_raised(client, auth, claim_from):
    claim = claim_from([], severity="low")
    first = _parse(claim["first_reported_at"])
    assert _parse(claim["deadline_at"]) - first == timedelta(days=30)
    url = f"/api/v1/claims/{claim['id']}"
    etag = client.get(url, headers=auth("analyst")).headers["ETag"]
    raised = client.patch(
        url, json={"severity": "critical", "status": "triaged"}, headers={**auth("reviewer"), "If-Match": etag}
    )
    assert raised.status_code == 200, raised.text
    body = raised.json()
    assert _parse(body["deadline_at"]) - first == timedelta(hours=24)
    assert body["status"] == "triaged" and body["triaged_at"] is not None and body["version"] == 2


def test_claim_writes_need_if_match_and_a_legal_status(client, auth, claim_from):
    claim = claim_from([])
    url = f"/api/v1/claims/{claim['id']}"
    assert client.patch(url, json={"severity": "high"}, headers=auth("editor")).status_code == 428
    refused = client.patch(url, json={"status": "rebutted"}, headers={**auth("editor"), "If-Match": "*"})
    assert refused.status_code == 409 and "rebuttal" in refused.json()["detail"]
    assert client.patch(url, json={"severity": "high"}, headers={**auth("analyst"), "If-Match": "*"}).status_code == 403
    unknown = client.get("/api/v1/claims/0190d0a8-0000-7000-8000-000000000000", headers=auth("analyst"))
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"


def test_overdue_lists_open_claims_past_their_deadline(client, auth, claim_from, session):
    late = claim_from([], title="Tin giả quá hạn")
    done = claim_from([], title="Tin giả đã đóng")
    claim_from([], title="Tin giả còn hạn")
    for claim_id in (late["id"], done["id"]):
        session.get(Claim, claim_id).deadline_at = utcnow() - timedelta(hours=1)
    session.get(Claim, done["id"]).status = "closed"
    session.commit()
    overdue = client.get("/api/v1/claims", params={"overdue": "true"}, headers=auth("analyst")).json()["items"]
    assert [c["id"] for c in overdue] == [late["id"]] and overdue[0]["overdue"] is True


def test_claims_filter_by_place_severity_text_and_organisation(client, auth, claim_from, index_now):
    organisation = client.post(
        "/api/v1/organisations",
        json={"code": "SO-DB", "name": "Sở Dân tộc Điện Biên", "kind": "provincial_department"},
        headers=auth("admin"),
    ).json()
    mong = claim_from([], ethnic_groups=["Mông"], severity="high", organisation_ids=[organisation["id"]])
    claim_from([], title="Video giả về thủy điện", border_routes=["VN-CN"])
    index_now()

    def ids(**params):
        return [c["id"] for c in client.get("/api/v1/claims", params=params, headers=auth("analyst")).json()["items"]]

    assert ids(ethnic_group="mong") == [mong["id"]]
    assert ids(severity="high") == [mong["id"]]
    assert ids(organisation="so-db") == [mong["id"]]
    assert ids(q="dat rung") == [mong["id"]]
    bad = client.get("/api/v1/claims", params={"organisation": "nope"}, headers=auth("analyst"))
    assert bad.status_code == 422


def test_merge_moves_the_reports_and_refuses_self_and_unknown_claims(client, auth, report, claim_from, border_unit):
    a = claim_from([report(border_unit.headers, urls=[]).json()["id"]], severity="normal")
    b = claim_from([report(auth("editor"), urls=[]).json()["id"]], severity="critical")
    url = f"/api/v1/claims/{a['id']}/merge"
    itself = client.post(url, json={"claim_ids": [a["id"]]}, headers=auth("editor"))
    assert itself.status_code == 422 and itself.json()["errors"][0]["loc"] == ["body", "claim_ids", 0]
    unknown = client.post(url, json={"claim_ids": ["0190d0a8-0000-7000-8000-000000000000"]}, headers=auth("editor"))
    assert unknown.status_code == 422
    merged = client.post(url, json={"claim_ids": [b["id"]]}, headers=auth("editor"))
    assert merged.status_code == 200, merged.text
    assert merged.json()["report_count"] == 2 and merged.json()["severity"] == "critical"
    gone = client.get(f"/api/v1/claims/{b['id']}", headers=auth("analyst")).json()
    assert gone["merged_into_id"] == a["id"] and gone["status"] == "closed"
    reports = client.get(f"/api/v1/claims/{a['id']}/reports", headers=auth("analyst")).json()["items"]
    assert len(reports) == 2 and {r["claim_id"] for r in reports} == {a["id"]}
    again = client.post(url, json={"claim_ids": [b["id"]]}, headers=auth("editor"))
    assert again.status_code == 422
    # A filter not given does not restrict: the merged claim is still listed, closed, saying where it went.
    listed = {c["id"]: c for c in client.get("/api/v1/claims", headers=auth("analyst")).json()["items"]}
    assert set(listed) == {a["id"], b["id"]} and listed[b["id"]]["merged_into_id"] == a["id"]


def test_a_report_moves_to_another_claim(client, auth, report, claim_from, border_unit):
    created = report(border_unit.headers, urls=[]).json()
    a = claim_from([created["id"]])
    b = claim_from([])
    moved = client.post(
        f"/api/v1/claim-reports/{created['id']}/move", json={"claim_id": b["id"]}, headers=auth("reviewer")
    )
    assert moved.status_code == 200 and moved.json()["claim_id"] == b["id"] and moved.json()["matched_by"] == "staff"
    assert client.get(f"/api/v1/claims/{a['id']}", headers=auth("analyst")).json()["report_count"] == 0
    assert client.get(f"/api/v1/claims/{b['id']}", headers=auth("analyst")).json()["report_count"] == 1
    unknown = client.post(
        f"/api/v1/claim-reports/{created['id']}/move",
        json={"claim_id": "0190d0a8-0000-7000-8000-000000000000"},
        headers=auth("reviewer"),
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["loc"] == ["body", "claim_id"]


def test_a_new_claim_that_takes_a_report_from_another_says_so(client, auth, report, claim_from, border_unit):
    created = report(border_unit.headers, urls=[]).json()
    a = claim_from([created["id"]])
    b = claim_from([created["id"]])
    assert client.get(f"/api/v1/claims/{a['id']}", headers=auth("analyst")).json()["report_count"] == 0
    assert client.get(f"/api/v1/claims/{a['id']}/reports", headers=auth("analyst")).json()["items"] == []
    assert b["report_count"] == 1
    audit = client.get(
        "/api/v1/audit",
        params={"entity_type": "claim_report", "entity_id": created["id"], "action": "claim_report.moved"},
        headers=auth("admin"),
    ).json()["items"]
    assert [r["changes"]["claim_id"] for r in audit] == [[a["id"], b["id"]]]


def test_any_claim_writer_comments_and_an_analyst_may_not(client, auth, claim_from, users, session):
    organisation = client.post(
        "/api/v1/organisations",
        json={"code": "UBDT-TT", "name": "Vụ Tuyên truyền", "kind": "ministry_unit"},
        headers=auth("admin"),
    ).json()
    users["editor"].organisation_id = organisation["id"]
    session.commit()
    claim = claim_from([], lead_organisation_id=organisation["id"])
    url = f"/api/v1/claims/{claim['id']}/comments"
    posted = client.post(url, json={"body": "Đã liên hệ Công an tỉnh."}, headers=auth("editor"))
    assert posted.status_code == 201, posted.text
    assert posted.json()["author"]["label"] == "editor@example.test"
    # Outside the claim's organisations, a reviewer writes claims and so comments on them too.
    other = client.post(url, json={"body": "Biên phòng tỉnh đã nắm được."}, headers=auth("reviewer"))
    assert other.status_code == 201, other.text
    assert client.post(url, json={"body": "Chỉ đọc."}, headers=auth("analyst")).status_code == 403
    comments = client.get(url, headers=auth("analyst")).json()["items"]
    assert [c["body"] for c in comments] == ["Đã liên hệ Công an tỉnh.", "Biên phòng tỉnh đã nắm được."]


def test_a_new_comment_is_located_at_its_own_url(client, auth, claim_from):
    claim, other = claim_from([]), claim_from([])
    url = f"/api/v1/claims/{claim['id']}/comments"
    posted = client.post(url, json={"body": "Đã chuyển Công an tỉnh."}, headers=auth("editor"))
    assert posted.status_code == 201
    location = posted.headers["location"]
    assert location.endswith(f"{url}/{posted.json()['id']}")
    assert client.get(location, headers=auth("analyst")).json() == posted.json()
    # Not through another claim, nor as a comment that does not exist.
    elsewhere = client.get(f"/api/v1/claims/{other['id']}/comments/{posted.json()['id']}", headers=auth("analyst"))
    assert elsewhere.status_code == 404
    assert client.get(f"{url}/{other['id']}", headers=auth("analyst")).status_code == 404
    assert client.get(f"{url}/not-an-id", headers=auth("analyst")).status_code == 422


def test_claim_writes_are_audited(client, auth, claim_from):
    claim = claim_from([])
    client.patch(
        f"/api/v1/claims/{claim['id']}", json={"status": "triaged"}, headers={**auth("editor"), "If-Match": "*"}
    )
    records = client.get(
        "/api/v1/audit", params={"entity_type": "claim", "entity_id": claim["id"]}, headers=auth("admin")
    ).json()["items"]
    assert [r["action"] for r in records] == ["claim.updated", "claim.created"]
