"""Rebuttals: published through the workflow, they rebut their claims, draft an urgent bundle,
reach units that report later at once, and show up as ClaimReview and on the timeline."""

import pytest

from tests.bundles.kit import feed_ids

REQUIRED_CLAIMREVIEW = ("claimReviewed", "reviewRating", "author", "datePublished", "url")


def rebuttal_body(claim_ids, **fields):
    return {
        "title": "Sự thật về chính sách đất rừng cho đồng bào Mông",
        "kind": "rebuttal",
        "language": "vi",
        "body": "Không có chủ trương thu hồi đất rừng đã giao cho đồng bào.",
        "rebuts": [{"claim_id": c, "verdict": "false"} for c in claim_ids],
        **fields,
    }


def walk(client, auth, material_id, *moves):
    for who, to in moves:
        moved = client.post(f"/api/v1/materials/{material_id}/transitions", json={"to": to}, headers=auth(who))
        assert moved.status_code == 200, moved.text


@pytest.fixture
def rebutted(client, auth, report, claim_from, border_unit, index_now):
    """A claim reported by the border unit, and a rebuttal of it published by the reviewer."""
    first = report(border_unit.headers).json()
    claim = claim_from([first["id"]])
    index_now()
    material = client.post("/api/v1/materials", json=rebuttal_body([claim["id"]]), headers=auth("editor")).json()
    walk(client, auth, material["id"], ("editor", "in_review"), ("reviewer", "approved"), ("reviewer", "published"))
    claim = client.get(f"/api/v1/claims/{claim['id']}", headers=auth("analyst")).json()
    return {"claim": claim, "material": material, "report": first}


def test_rebuts_are_checked(client, auth, claim_from):
    claim = claim_from([])
    twice = client.post("/api/v1/materials", json=rebuttal_body([claim["id"], claim["id"]]), headers=auth("editor"))
    assert twice.status_code == 422 and "twice" in twice.json()["errors"][0]["msg"]
    unknown = client.post(
        "/api/v1/materials", json=rebuttal_body(["0190d0a8-0000-7000-8000-000000000000"]), headers=auth("editor")
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["body", "rebuts", 0, "claim_id"]
    article = client.post(
        "/api/v1/materials", json=rebuttal_body([claim["id"]], kind="article"), headers=auth("editor")
    )
    assert article.status_code == 422


def test_a_rebuttal_cannot_be_published_without_claims(client, auth):
    material = client.post("/api/v1/materials", json=rebuttal_body([]), headers=auth("editor")).json()
    walk(client, auth, material["id"], ("editor", "in_review"), ("reviewer", "approved"))
    refused = client.post(
        f"/api/v1/materials/{material['id']}/transitions", json={"to": "published"}, headers=auth("reviewer")
    )
    assert refused.status_code == 409
    assert client.get(f"/api/v1/materials/{material['id']}", headers=auth("editor")).json()["status"] == "approved"


def test_publishing_a_rebuttal_rebuts_its_claims_and_drafts_an_urgent_bundle(
    client, auth, users, rebutted, border_unit
):
    claim, material = rebutted["claim"], rebutted["material"]
    assert claim["status"] == "rebutted" and claim["rebutted_at"] is not None
    (link,) = claim["rebuttals"]
    assert link["material_id"] == material["id"] and link["verdict"] == "false"
    bundle = client.get(f"/api/v1/bundles/{link['bundle_id']}", headers=auth("analyst")).json()
    assert bundle["status"] == "draft" and bundle["priority"] == "urgent"
    assert bundle["items"][0]["material_id"] == material["id"]
    assert bundle["targets"]["units"] == [border_unit.id]
    assert bundle["targets"]["border_routes"] == ["VN-LA"] and len(bundle["targets"]["provinces"]) == 1
    # Its words are the rebuttal's writer's (the editor): the reviewer who published the rebuttal
    # wrote none of it and may send it out at once (four eyes: writer and publisher differ).
    assert bundle["created_by"] == str(users["editor"].id)
    url = f"/api/v1/bundles/{bundle['id']}/publish"
    assert client.post(url, headers=auth("editor")).status_code == 403  # an editor never publishes
    assert client.post(url, headers=auth("reviewer")).status_code == 200
    assert bundle["id"] in feed_ids(client, border_unit)
    mine = client.get(f"/api/v1/claim-reports/{rebutted['report']['id']}", headers=border_unit.headers).json()
    assert mine["claim_status"] == "rebutted" and mine["rebuttal_material_ids"] == [material["id"]]


def test_whoever_edits_the_drafted_bundle_no_longer_publishes_it(client, auth, rebutted):
    bundle_id = rebutted["claim"]["rebuttals"][0]["bundle_id"]
    url = f"/api/v1/bundles/{bundle_id}"
    etag = client.get(url, headers=auth("admin")).headers["etag"]
    edited = client.patch(
        url, json={"description": "Thêm ghi chú cho đồn biên phòng."}, headers={**auth("admin"), "If-Match": etag}
    )
    assert edited.status_code == 200, edited.text
    refused = client.post(f"{url}/publish", headers=auth("admin"))
    assert refused.status_code == 403 and "Four eyes" in refused.json()["detail"]
    assert client.post(f"{url}/publish", headers=auth("reviewer")).status_code == 200


def test_a_unit_reporting_a_rebutted_claim_gets_the_rebuttal_at_once(client, auth, rebutted, report, make_unit):
    bundle_id = rebutted["claim"]["rebuttals"][0]["bundle_id"]
    assert client.post(f"/api/v1/bundles/{bundle_id}/publish", headers=auth("reviewer2")).status_code == 200
    late = make_unit("LC-DON9", province="Lào Cai", border_routes=["VN-CN"])
    assert bundle_id not in feed_ids(client, late)
    joined = report(late.headers, summary="Lại thấy bài này", excerpt="").json()
    assert joined["claim_id"] == rebutted["claim"]["id"] and joined["claim_status"] == "rebutted"
    assert bundle_id in feed_ids(client, late)
    deliveries = client.get(f"/api/v1/bundles/{bundle_id}/deliveries", headers=auth("analyst")).json()["items"]
    assert {d["unit"]["code"] for d in deliveries} == {"DB-DON1", "LC-DON9"}


def test_a_unit_reporting_before_the_bundle_is_published_is_added_to_it(client, auth, rebutted, report, make_unit):
    bundle_id = rebutted["claim"]["rebuttals"][0]["bundle_id"]
    late = make_unit("LC-DON8", province="Lào Cai", border_routes=["VN-CN"])
    report(late.headers, summary="Lại thấy bài này", excerpt="")
    assert late.id in client.get(f"/api/v1/bundles/{bundle_id}", headers=auth("analyst")).json()["targets"]["units"]
    assert client.post(f"/api/v1/bundles/{bundle_id}/publish", headers=auth("reviewer2")).status_code == 200
    assert bundle_id in feed_ids(client, late)


def test_claimreview_carries_what_fact_check_markup_requires(client, auth, rebutted, claim_from):
    response = client.get(f"/api/v1/claims/{rebutted['claim']['id']}/claimreview", headers=auth("analyst"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    (review,) = response.json()
    assert review["@context"] == "https://schema.org" and review["@type"] == "ClaimReview"
    for name in REQUIRED_CLAIMREVIEW:
        assert review[name], name
    assert review["claimReviewed"] == rebutted["claim"]["title"]
    rating = review["reviewRating"]
    assert rating["@type"] == "Rating" and rating["alternateName"] == "false"
    assert rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    assert review["url"].endswith(f"/api/v1/materials/{rebutted['material']['id']}")
    assert review["author"]["@type"] == "Organization" and review["author"]["name"]
    assert review["itemReviewed"]["appearance"][0]["url"].startswith("https://www.facebook.com/")
    # One review per published rebuttal: none yet is an empty list; a claim that is not there, a 404.
    not_yet = client.get(f"/api/v1/claims/{claim_from([])['id']}/claimreview", headers=auth("analyst"))
    assert not_yet.status_code == 200 and not_yet.json() == []
    assert not_yet.headers["content-type"].startswith("application/ld+json")
    missing = client.get("/api/v1/claims/0190d0a8-0000-7000-8000-000000000000/claimreview", headers=auth("analyst"))
    assert missing.status_code == 404


def test_the_timeline_runs_from_the_first_report_to_the_last_acknowledgement(
    client, auth, rebutted, report, make_unit, border_unit
):
    claim_id = rebutted["claim"]["id"]
    bundle_id = rebutted["claim"]["rebuttals"][0]["bundle_id"]
    client.post(f"/api/v1/bundles/{bundle_id}/publish", headers=auth("reviewer2"))
    late = make_unit("LC-DON7", province="Lào Cai", border_routes=["VN-CN"])
    report(late.headers, summary="Lại thấy bài này", excerpt="")

    def events():
        items = client.get(f"/api/v1/claims/{claim_id}/timeline", headers=auth("analyst")).json()["items"]
        assert [i["at"] for i in items] == sorted(i["at"] for i in items)
        return [i["event"] for i in items]

    assert events() == ["first_report", "triaged", "rebuttal_published", "bundle_published"]
    assert client.get(f"/api/v1/feed/bundles/{bundle_id}", headers=border_unit.headers).status_code == 200
    assert client.post(f"/api/v1/feed/bundles/{bundle_id}/ack", headers=border_unit.headers).status_code == 204
    assert events()[-3:] == ["first_fetch", "acknowledged_50", "last_acknowledgement"]
    assert client.post(f"/api/v1/feed/bundles/{bundle_id}/ack", headers=late.headers).status_code == 204
    assert events()[-2:] == ["acknowledged_100", "last_acknowledgement"]
    last = client.get(f"/api/v1/claims/{claim_id}/timeline", headers=auth("analyst")).json()["items"][-1]
    assert (last["acknowledged"], last["units"]) == (2, 2)


def test_the_timeline_ends_at_the_last_acknowledgement_however_few_units_sent_one(
    client, auth, rebutted, make_unit, border_unit
):
    claim_id = rebutted["claim"]["id"]
    bundle_id = rebutted["claim"]["rebuttals"][0]["bundle_id"]
    for n in range(3):  # three more units on the claim's route: one acknowledgement of four is under half
        make_unit(f"DB-DON{n + 5}", province="Điện Biên", border_routes=["VN-LA"])
    assert client.post(f"/api/v1/bundles/{bundle_id}/publish", headers=auth("reviewer2")).status_code == 200
    assert client.post(f"/api/v1/feed/bundles/{bundle_id}/ack", headers=border_unit.headers).status_code == 204
    items = client.get(f"/api/v1/claims/{claim_id}/timeline", headers=auth("analyst")).json()["items"]
    assert [i["event"] for i in items][-2:] == ["first_fetch", "last_acknowledgement"]
    assert (items[-1]["acknowledged"], items[-1]["units"]) == (1, 4)
