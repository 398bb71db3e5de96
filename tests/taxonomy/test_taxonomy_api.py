"""The reference-data routes: shapes, filters, hidden names, problem details, credentials."""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.taxonomy.seed import is_derogatory
from tests.paging import pages

Auth = Callable[[str], dict[str, str]]
API = "/api/v1"
ETHNIC_GROUP_FIELDS = {
    "code",
    "code_1979",
    "name",
    "name_ascii",
    "other_names",
    "language_family",
    "population_2019",
    "is_minority",
}
PROVINCE_FIELDS = {"id", "code", "name", "valid_from", "valid_until", "border_routes", "successors", "merged_from"}


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


def test_ethnic_groups_list(client: TestClient, auth: Auth) -> None:
    response = client.get(f"{API}/ethnic-groups", headers=auth("analyst"))

    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    assert [g["code"] for g in body["items"]] == [f"{n:02d}" for n in range(1, 55)]
    mong = body["items"][7]
    assert mong.keys() >= ETHNIC_GROUP_FIELDS
    assert (mong["name"], mong["code_1979"], mong["is_minority"]) == ("Mông", "08", True)
    assert body["items"][3]["code_1979"] == "06"  # Mường: the two code lists differ


@pytest.mark.parametrize("q", [None, "meo", "moi", "man", "mong"])
def test_no_derogatory_name_is_ever_shown(client: TestClient, auth: Auth, q: str | None) -> None:
    params = {"q": q} if q else {}
    listed = client.get(f"{API}/ethnic-groups", params=params, headers=auth("editor")).json()
    one = client.get(f"{API}/ethnic-groups/08", headers=auth("editor")).json()

    shown = list(strings_in(listed)) + list(strings_in(one))
    assert not [text for text in shown if is_derogatory(text)]
    assert not [text for text in shown if any(word in text for word in ("Mọi", "Mèo", "Mẹo", "Mán"))]


def test_ethnic_groups_q_ignores_diacritics_and_matches_hidden_names(client: TestClient, auth: Auth) -> None:
    def codes(q: str) -> list[str]:
        response = client.get(f"{API}/ethnic-groups", params={"q": q}, headers=auth("editor"))
        return [g["code"] for g in response.json()["items"]]

    assert codes("h'mong") == ["08"]
    assert codes("KHƠ MÚ") == codes("kho mu") == ["23"]
    assert codes("meo xanh") == ["08"]
    assert codes("xa la vang") == ["21", "44", "46"]
    assert codes("no such people") == []
    # A code, as a filter takes it: the group it names, and only that one ("1" is not "10").
    assert codes("08") == codes("8") == codes(" 08 ") == ["08"]
    assert codes("1") == ["01"]
    assert codes("99") == []


def test_one_ethnic_group_and_404(client: TestClient, auth: Auth) -> None:
    found = client.get(f"{API}/ethnic-groups/54", headers=auth("reviewer"))
    assert found.status_code == 200 and found.json()["name"] == "Ơ Đu"

    body = assert_problem(client.get(f"{API}/ethnic-groups/99", headers=auth("reviewer")), 404)
    assert "99" in body["detail"]


def test_border_routes(client: TestClient, auth: Auth) -> None:
    body = client.get(f"{API}/border-routes", headers=auth("editor")).json()

    assert body["next_cursor"] is None
    by_code = {r["code"]: r for r in body["items"]}
    assert list(by_code) == ["VN-CN", "VN-KH", "VN-LA"]
    assert by_code["VN-CN"]["length_km"] == pytest.approx(1449.566)
    assert (by_code["VN-LA"]["name"], by_code["VN-LA"]["neighbor_country"]) == ("Việt Nam - Lào", "Laos")


def provinces(client: TestClient, auth: Auth, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/provinces", params=params, headers=auth("analyst"))
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return response.json()["items"]


def test_provinces_default_to_today(client: TestClient, auth: Auth) -> None:
    items = provinces(client, auth)

    assert len(items) == 22
    assert all(p["valid_from"] == "2025-07-01" and p["valid_until"] is None for p in items)
    assert items[0].keys() >= PROVINCE_FIELDS
    counts = {route: len(provinces(client, auth, border_route=route)) for route in ("VN-CN", "lao", "Cambodia")}
    assert counts == {"VN-CN": 7, "lao": 9, "Cambodia": 8}
    assert len(provinces(client, auth, border_route=["VN-KH", "China"])) == 15


def test_provinces_before_the_merger(client: TestClient, auth: Auth) -> None:
    items = provinces(client, auth, on="2025-06-30")

    assert len(items) == 35
    assert {p["name"] for p in items} >= {"Quảng Bình", "Yên Bái", "Huế", "Kon Tum"}
    assert "Thừa Thiên Huế" not in {p["name"] for p in items}
    assert len(provinces(client, auth, on="2025-06-30", border_route="VN-LA")) == 10
    assert len(provinces(client, auth, on="2025-06-30", border_route="Campuchia")) == 10


def test_province_links_are_ids(client: TestClient, auth: Auth) -> None:
    new_quang_tri = next(p for p in provinces(client, auth) if p["name"] == "Quảng Trị")
    before = {p["id"]: p for p in provinces(client, auth, on="2025-06-30")}

    assert new_quang_tri["code"] == "44"
    assert sorted(before[i]["name"] for i in new_quang_tri["merged_from"]) == ["Quảng Bình", "Quảng Trị"]
    old_quang_binh = next(p for p in before.values() if p["name"] == "Quảng Bình")
    assert old_quang_binh["successors"] == [new_quang_tri["id"]]

    one = client.get(f"{API}/provinces/{old_quang_binh['id']}", headers=auth("editor"))
    assert one.status_code == 200 and one.json() == old_quang_binh


def test_province_errors(client: TestClient, auth: Auth) -> None:
    body = assert_problem(client.get(f"{API}/provinces", params={"on": "30/06/2025"}, headers=auth("editor")), 422)
    assert body["errors"][0]["loc"] == ["query", "on"]

    response = client.get(f"{API}/provinces", params={"border_route": "Thái Lan"}, headers=auth("editor"))
    body = assert_problem(response, 422)
    assert body["errors"][0]["loc"] == ["query", "border_route"] and "Thái Lan" in body["detail"]

    missing = "01890000-0000-7000-8000-000000000000"
    assert_problem(client.get(f"{API}/provinces/{missing}", headers=auth("editor")), 404)


def test_topics(client: TestClient, auth: Auth) -> None:
    body = client.get(f"{API}/topics", headers=auth("editor")).json()

    by_slug = {t["slug"]: t for t in body["items"]}
    assert len(by_slug) == 10 and body["next_cursor"] is None
    assert by_slug["ethnic-policy"]["name"] == "Chính sách dân tộc"
    assert by_slug["rights-achievements"]["name_en"] == "Human rights achievements of ethnic minorities"


@pytest.mark.parametrize(
    ("path", "params", "limit"),
    [
        ("/ethnic-groups", {}, 20),
        ("/ethnic-groups", {}, 7),
        ("/ethnic-groups", {"q": "m"}, 2),
        ("/border-routes", {}, 1),
        ("/provinces", {"on": "2025-06-30"}, 5),
        ("/provinces", {"border_route": "VN-LA"}, 3),
        ("/topics", {}, 3),
    ],
)
def test_a_reference_list_pages_with_limit_and_cursor(
    client: TestClient, auth: Auth, path: str, params: dict[str, Any], limit: int
) -> None:
    headers = auth("analyst")
    whole = client.get(f"{API}{path}", params=params, headers=headers).json()
    assert whole["next_cursor"] is None  # without a limit the list is one page

    walked = pages(client, f"{API}{path}", headers, **params, limit=limit)

    assert [item for page in walked for item in page] == whole["items"]
    assert all(len(page) == limit for page in walked[:-1]) and 1 <= len(walked[-1]) <= limit
    assert len(walked) == -(-len(whole["items"]) // limit)


def test_a_limit_of_exactly_the_list_has_no_next_page(client: TestClient, auth: Auth) -> None:
    body = client.get(f"{API}/border-routes", params={"limit": 3}, headers=auth("editor")).json()
    assert len(body["items"]) == 3 and body["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "Ijk5Ig"}, "cursor"),  # a well-formed cursor naming no group ("99")
        ({"cursor": "x" * 600}, "cursor"),
    ],
)
def test_a_bad_limit_or_cursor_on_a_reference_list_is_a_422_naming_it(
    client: TestClient, auth: Auth, params: dict[str, Any], field: str
) -> None:
    body = assert_problem(client.get(f"{API}/ethnic-groups", params=params, headers=auth("editor")), 422)
    assert body["errors"][0]["loc"] == ["query", field]


def test_a_cursor_from_one_reference_list_is_refused_by_another(client: TestClient, auth: Auth) -> None:
    groups = client.get(f"{API}/ethnic-groups", params={"limit": 2}, headers=auth("editor")).json()
    body = assert_problem(
        client.get(f"{API}/topics", params={"cursor": groups["next_cursor"]}, headers=auth("editor")), 422
    )
    assert body["errors"][0]["loc"] == ["query", "cursor"]


@pytest.mark.parametrize(
    "path",
    ["/ethnic-groups", "/ethnic-groups/08", "/border-routes", "/provinces", "/provinces/{id}", "/topics"],
)
def test_every_taxonomy_route_needs_credentials(client: TestClient, path: str) -> None:
    url = API + path.replace("{id}", "01890000-0000-7000-8000-000000000000")

    body = assert_problem(client.get(url), 401)
    assert "traceback" not in str(body).lower()


@pytest.mark.parametrize("path", ["/border-routes", "/provinces", "/ethnic-groups", "/topics"])
def test_reference_lists_carry_an_etag_and_answer_304_to_it(client: TestClient, auth: Auth, path: str) -> None:
    first = client.get(f"{API}{path}", headers=auth("analyst"))
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('"')
    again = client.get(f"{API}{path}", headers={**auth("analyst"), "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = client.get(f"{API}{path}", headers={**auth("analyst"), "If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.json() == first.json()
    # Without credentials the memory answers nothing.
    assert client.get(f"{API}{path}", headers={"If-None-Match": etag}).status_code == 401


def test_a_reference_change_is_served_once_the_memory_runs_out(
    client: TestClient, auth: Auth, session, monkeypatch
) -> None:
    from sqlalchemy import update

    from app.taxonomy import cache
    from app.taxonomy.models import BorderRoute

    monkeypatch.setattr(cache, "REFERENCE_CACHE_SECONDS", 0.0)  # every entry has run out when next read
    before = client.get(f"{API}/border-routes", headers=auth("editor"))
    session.execute(update(BorderRoute).where(BorderRoute.code == "VN-LA").values(name="Biên giới Việt – Lào (sửa)"))
    session.commit()
    after = client.get(f"{API}/border-routes", headers={**auth("editor"), "If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert "Biên giới Việt – Lào (sửa)" in {route["name"] for route in after.json()["items"]}
