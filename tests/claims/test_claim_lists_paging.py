"""Paging of the false-information, organisation and webhook lists: with a small `limit` every item
comes exactly once, in the list's order, and the last page says there is no next one."""

from tests.paging import pages

HOOK = "http://127.0.0.1:9/hook"


def flat(walked: list[list[dict]]) -> list[str]:
    return [item["id"] for page in walked for item in page]


def test_claims_and_a_units_reports_page_newest_first(client, auth, report, border_unit):
    reported = [report(border_unit.headers, summary=f"Tin đồn số {n} về đất rừng", urls=[]).json() for n in range(5)]
    claims = [
        client.post("/api/v1/claims", json={"title": f"Tin đồn {n}"}, headers=auth("editor")).json() for n in range(5)
    ]
    walked = pages(client, "/api/v1/claims", auth("analyst"), limit=2)
    assert [len(page) for page in walked] == [2, 2, 1]
    assert flat(walked) == [c["id"] for c in reversed(claims)]
    mine = pages(client, "/api/v1/claim-reports", border_unit.headers, limit=2)
    assert flat(mine) == [r["id"] for r in reversed(reported)]


def test_comments_page_oldest_first(client, auth):
    claim = client.post("/api/v1/claims", json={"title": "Tin đồn"}, headers=auth("editor")).json()
    url = f"/api/v1/claims/{claim['id']}/comments"
    written = [client.post(url, json={"body": f"Ghi chú {n}"}, headers=auth("editor")).json() for n in range(5)]
    assert flat(pages(client, url, auth("analyst"), limit=2)) == [c["id"] for c in written]


def test_organisations_page_by_id(client, auth):
    made = [
        client.post(
            "/api/v1/organisations",
            json={"code": f"SO-{n}", "name": f"Sở {n}", "kind": "provincial_department"},
            headers=auth("admin"),
        ).json()
        for n in range(5)
    ]
    walked = pages(client, "/api/v1/organisations", auth("editor"), limit=2)
    assert flat(walked) == [o["id"] for o in made]


def test_webhooks_and_their_deliveries_page(client, auth):
    hooks = [
        client.post("/api/v1/webhooks", json={"url": HOOK, "events": ["claim.created"]}, headers=auth("admin")).json()
        for _ in range(3)
    ]
    assert flat(pages(client, "/api/v1/webhooks", auth("admin"), limit=2)) == [h["id"] for h in hooks]
    for n in range(5):
        client.post("/api/v1/claims", json={"title": f"Tin đồn {n}"}, headers=auth("editor"))
    walked = pages(client, f"/api/v1/webhooks/{hooks[0]['id']}/deliveries", auth("admin"), limit=2)
    assert [len(page) for page in walked] == [2, 2, 1]
    ids = flat(walked)
    assert len(set(ids)) == 5 and ids == sorted(ids, reverse=True)
