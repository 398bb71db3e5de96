"""GET /materials: the filters of search (without q), resolved like API.md says, and paging."""

from datetime import datetime

import pytest

from tests.factories import make_material
from tests.paging import pages


@pytest.fixture
def corpus(session, users):
    author = users["editor"]
    made = {
        "mong_lao": make_material(session, author, ethnic_groups=["08"], border_routes=["VN-LA"], kind="video"),
        "tay_cn": make_material(session, author, ethnic_groups=["02"], border_routes=["VN-CN"], language="hnj"),
        "khmer_kh": make_material(
            session,
            author,
            ethnic_groups=["05"],
            border_routes=["VN-KH"],
            status="published",
            topics=["border-friendship"],
        ),
        "mong_tay": make_material(session, author, ethnic_groups=["08", "02"], classification="internal"),
    }
    session.commit()
    return made


def ids(response):
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.parametrize("value", ["08", "Mông", "mong", "H'Mông"])
def test_ethnic_group_filter_accepts_code_name_and_variants(client, auth, corpus, value):
    got = ids(client.get("/api/v1/materials", params={"ethnic_group": value}, headers=auth("analyst")))
    assert got == {str(corpus["mong_lao"].id), str(corpus["mong_tay"].id)}


def test_values_or_within_a_filter_and_across_filters(client, auth, corpus):
    either = ids(client.get("/api/v1/materials", params={"ethnic_group": ["mong", "khmer"]}, headers=auth("analyst")))
    assert either == {str(corpus[k].id) for k in ("mong_lao", "mong_tay", "khmer_kh")}
    both = ids(
        client.get("/api/v1/materials", params={"ethnic_group": "mong", "border_route": "lao"}, headers=auth("analyst"))
    )
    assert both == {str(corpus["mong_lao"].id)}


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"kind": "video"}, "mong_lao"),
        ({"language": "hnj"}, "tay_cn"),
        ({"status": "published"}, "khmer_kh"),
        ({"topic": "Hữu nghị biên giới"}, "khmer_kh"),
        ({"classification": "internal"}, "mong_tay"),
        ({"border_route": "Trung Quốc"}, "tay_cn"),
    ],
)
def test_each_filter(client, auth, corpus, params, key):
    assert ids(client.get("/api/v1/materials", params=params, headers=auth("analyst"))) == {str(corpus[key].id)}


def test_unknown_and_ambiguous_values_are_422(client, auth, corpus):
    unknown = client.get("/api/v1/materials", params={"ethnic_group": "Không tồn tại"}, headers=auth("analyst"))
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["query", "ethnic_group"]
    assert "Không tồn tại" in unknown.json()["errors"][0]["msg"]
    bad_kind = client.get("/api/v1/materials", params={"kind": "poem"}, headers=auth("analyst"))
    assert bad_kind.status_code == 422


def test_province_filter_follows_the_line_of_succession(client, auth, session, users):
    provinces_then = client.get("/api/v1/provinces", params={"on": "2025-06-30"}, headers=auth("analyst")).json()
    quang_binh = next(p for p in provinces_then["items"] if p["name"] == "Quảng Bình")
    old_tagged = make_material(session, users["editor"], provinces=[quang_binh["id"]])
    new_tagged = make_material(session, users["editor"], provinces=["Quảng Trị"])  # today's Quảng Trị
    session.commit()
    by_new = ids(client.get("/api/v1/materials", params={"province": "Quảng Trị"}, headers=auth("analyst")))
    assert by_new == {str(old_tagged.id), str(new_tagged.id)}
    by_old = ids(client.get("/api/v1/materials", params={"province": quang_binh["id"]}, headers=auth("analyst")))
    assert by_old == {str(old_tagged.id), str(new_tagged.id)}
    by_old_code = ids(
        client.get("/api/v1/materials", params={"province": "44", "on": "2025-06-30"}, headers=auth("analyst"))
    )
    assert by_old_code == by_old


def test_cursor_paging_never_repeats_or_skips(client, auth, session, users):
    made = [make_material(session, users["editor"], kind="leaflet") for _ in range(25)]
    session.commit()
    walked = pages(client, "/api/v1/materials", auth("analyst"), kind="leaflet", limit=7)
    seen = [item["id"] for page in walked for item in page]
    assert len(seen) == len(set(seen)) == 25
    assert seen == [str(m.id) for m in sorted(made, key=lambda m: m.id, reverse=True)]


def test_a_cursor_belongs_to_the_list_that_gave_it(client, auth, session, users):
    """A cursor from another list, or 16 bytes of an id made by hand, is a 422, not a page of
    this list after an id of something else."""
    for _ in range(2):
        make_material(session, users["editor"])
    session.commit()
    cursor = client.get("/api/v1/materials", params={"limit": 1}, headers=auth("admin")).json()["next_cursor"]
    for path in ("/api/v1/units", "/api/v1/bundles", "/api/v1/audit", "/api/v1/users", "/api/v1/claims"):
        refused = client.get(path, params={"cursor": cursor}, headers=auth("admin"))
        assert refused.status_code == 422 and refused.json()["errors"][0]["loc"] == ["query", "cursor"], path
    for made_up in ("AAAAAAAAAAAAAAAAAAAAAA", "_____________________w"):
        assert client.get("/api/v1/materials", params={"cursor": made_up}, headers=auth("admin")).status_code == 422
    assert client.get("/api/v1/materials", params={"cursor": cursor}, headers=auth("admin")).status_code == 200


def test_published_bounds_may_be_dates_meaning_whole_utc_days(client, auth, session, users):
    times = [
        "2026-03-10T23:59:59+00:00",
        "2026-03-11T00:00:00+00:00",
        "2026-03-11T23:59:59+00:00",
        "2026-03-12T00:00:00+00:00",
    ]
    made = []
    for at in times:
        material = make_material(session, users["editor"], status="published", kind="book")
        material.published_at = datetime.fromisoformat(at)
        made.append(str(material.id))
    session.commit()

    def found(**params):
        return ids(client.get("/api/v1/materials", params={"kind": "book", **params}, headers=auth("analyst")))

    assert found(published_from="2026-03-11", published_to="2026-03-11") == set(made[1:3])
    assert found(published_from="2026-03-11") == set(made[1:])
    assert found(published_to="2026-03-11") == set(made[:3])
    # A timestamp is still exact.
    assert found(published_to="2026-03-11T00:00:00Z") == set(made[:2])


@pytest.mark.parametrize(
    "params",
    [
        {"published_from": "2026-02-30"},
        {"published_to": "2026-13-01"},
        {"published_from": "2026-03-12", "published_to": "2026-03-11"},
    ],
)
def test_impossible_dates_are_422_naming_the_bound(client, auth, params):
    response = client.get("/api/v1/materials", params=params, headers=auth("analyst"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][:2] == ["query", next(iter(params))]


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"cursor": "%%%"}, {"published_from": "yesterday"}])
def test_bad_paging_and_dates_are_422(client, auth, params):
    response = client.get("/api/v1/materials", params=params, headers=auth("analyst"))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
