"""GET /api/v1/search: materials written through the service, indexed from the outbox."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.taxonomy.models import Province
from tests.factories import make_material

SEARCH = "/api/v1/search"
ITEM_FIELDS = {
    "id",
    "title",
    "summary",
    "kind",
    "language",
    "ethnic_groups",
    "border_routes",
    "provinces",
    "topics",
    "status",
    "published_at",
    "highlights",
}
FACETS = ["ethnic_group", "border_route", "province", "kind", "language", "topic"]


@pytest.fixture
def corpus(session, users, index_now):
    author = users["editor"]
    made = {
        "mong": make_material(
            session,
            author,
            title="Tài liệu cho đồng bào dân tộc Mông",
            summary="Phong tục <b>đón Tết</b> của người Mông",
            body="Người Mông ở Hà Giang. " * 20 + "Lễ hội Gầu Tào của dân tộc Mông.",
            ethnic_groups=["08"],
            border_routes=["VN-CN"],
            provinces=["Điện Biên"],
            topics=["ethnic-policy"],
            kind="video",
            status="published",
        ),
        "tay": make_material(
            session, author, title="Tiếng Tày cho cán bộ biên phòng", summary="Ghi chú", ethnic_groups=["02"]
        ),
        "mong_draft": make_material(
            session, author, title="Bản nháp về người Mông", summary="Ghi chú", ethnic_groups=["08"], language="hnj"
        ),
    }
    session.commit()
    assert index_now() >= 3
    return made


def search(client, auth, **params):
    response = client.get(SEARCH, params=params, headers=auth("analyst"))
    assert response.status_code == 200, response.text
    return response.json()


def test_response_has_the_documented_shape(client, auth, corpus):
    body = search(client, auth, q="dan toc mong")
    assert list(body) == ["total", "items", "facets", "next_cursor"]
    assert body["total"] == 1
    (item,) = body["items"]
    assert set(item) == ITEM_FIELDS
    material = corpus["mong"]
    assert item["id"] == str(material.id)
    assert item["title"] == material.title
    assert item["ethnic_groups"] == ["08"] and item["border_routes"] == ["VN-CN"]
    assert item["provinces"] == [str(p) for p in material.tag_values("province")]
    assert item["status"] == "published" and item["published_at"] is not None
    assert list(body["facets"]) == FACETS
    assert body["next_cursor"] is None


def test_highlights_mark_the_original_text_and_escape_the_rest(client, auth, corpus):
    (item,) = search(client, auth, q="dan toc mong")["items"]
    highlights = item["highlights"]
    assert highlights["title"] == ["Tài liệu cho đồng bào <mark>dân</mark> <mark>tộc</mark> <mark>Mông</mark>"]
    assert highlights["summary"] == ["Phong tục &lt;b&gt;đón Tết&lt;/b&gt; của người <mark>Mông</mark>"]
    assert 1 <= len(highlights["body"]) <= 3
    assert all("<mark>Mông</mark>" in fragment and len(fragment) < 260 for fragment in highlights["body"])
    (item,) = search(client, auth, q="gau tao")["items"]
    assert list(item["highlights"]) == ["body"]
    assert item["highlights"]["body"][0].endswith("Lễ hội <mark>Gầu</mark> <mark>Tào</mark> của dân tộc Mông.")


def test_a_name_written_as_one_word_finds_and_marks_it_written_apart(client, auth, session, users, index_now):
    """The reference data's spellings reach the search: "Ede" is Ê Đê, "Hmong" H'Mông and Mông."""
    e_de = make_material(session, users["editor"], title="Sử thi của người Ê Đê", summary="Đắk Lắk", status="published")
    session.commit()
    index_now()
    (item,) = search(client, auth, q="ede")["items"]
    assert item["id"] == str(e_de.id)
    assert item["highlights"]["title"] == ["Sử thi của người <mark>Ê Đê</mark>"]
    assert search(client, auth, q="bana")["total"] == 0


def test_hmong_finds_mong(client, auth, corpus):
    found = {item["id"] for item in search(client, auth, q="Hmong")["items"]}
    assert found == {str(corpus["mong"].id), str(corpus["mong_draft"].id)}


def test_facets_carry_names(client, auth, corpus):
    facets = search(client, auth)["facets"]
    assert {"value": "08", "name": "Mông", "count": 2} in facets["ethnic_group"]
    assert {"value": "video", "name": "Video", "count": 1} in facets["kind"]
    assert facets["topic"] == [{"value": "ethnic-policy", "name": "Chính sách dân tộc", "count": 1}]
    (province,) = facets["province"]
    assert province["value"] == str(corpus["mong"].tag_values("province")[0])
    assert province["name"] == "Điện Biên"


def test_filters_resolve_names_and_facets_stay_disjunctive(client, auth, corpus):
    body = search(client, auth, ethnic_group="mong", kind="video")
    assert [item["id"] for item in body["items"]] == [str(corpus["mong"].id)]
    kinds = {facet["value"]: facet["count"] for facet in body["facets"]["kind"]}
    assert kinds == {"video": 1, "article": 1}


def test_published_bounds_may_be_dates(client, auth, corpus):
    published = corpus["mong"].published_at.date()
    day, before, after = published.isoformat(), (published - timedelta(days=1)), (published + timedelta(days=1))
    mong = [str(corpus["mong"].id)]
    assert [i["id"] for i in search(client, auth, published_from=day, published_to=day)["items"]] == mong
    assert search(client, auth, published_to=before.isoformat())["items"] == []
    assert search(client, auth, published_from=after.isoformat())["items"] == []


def test_staff_see_every_status_unless_status_is_given(client, auth, corpus):
    everything = {item["id"] for item in search(client, auth, q="mong")["items"]}
    assert everything == {str(corpus["mong"].id), str(corpus["mong_draft"].id)}
    published = search(client, auth, q="mong", status="published")["items"]
    assert [item["id"] for item in published] == [str(corpus["mong"].id)]


def test_exact_spelling_ranks_first(client, auth, corpus):
    items = search(client, auth, q="Mông")["items"]
    assert items[0]["id"] in {str(corpus["mong"].id), str(corpus["mong_draft"].id)}
    assert {item["id"] for item in items} == {str(corpus["mong"].id), str(corpus["mong_draft"].id)}


def test_next_cursor_walks_every_page(client, auth, corpus):
    first = search(client, auth, sort="newest", limit=2)
    assert len(first["items"]) == 2 and first["total"] == 3
    second = search(client, auth, sort="newest", limit=2, cursor=first["next_cursor"])
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert sorted(seen) == sorted(str(m.id) for m in corpus.values())


def test_a_material_gone_from_the_database_is_left_out(client, auth, session, corpus):
    session.delete(corpus["tay"])  # gone, and its deletion not yet indexed
    session.commit()
    body = search(client, auth, q="tieng tay")
    assert body["items"] == []


def test_a_copy_older_than_the_material_shows_the_material_as_it_is_now(client, auth, session, corpus):
    # Changed (and its version raised) after it was indexed, its outbox row not yet drained:
    # the index still finds it by the old text, and the item shows the database's text.
    material = corpus["tay"]
    material.title, material.status, material.version = "Tiếng Tày, sửa lần hai", "archived", material.version + 1
    session.commit()
    (item,) = search(client, auth, q="tieng tay")["items"]
    assert (item["title"], item["status"]) == ("Tiếng Tày, sửa lần hai", "archived")
    assert item["highlights"]["title"] == ["<mark>Tiếng</mark> <mark>Tày</mark>, sửa lần hai"]


def test_an_item_shows_the_material_as_the_database_holds_it(client, auth, session, corpus):
    material = corpus["mong"]
    (item,) = search(client, auth, q="gau tao")["items"]
    assert item["id"] == str(material.id)
    assert (item["title"], item["summary"], item["kind"], item["language"], item["status"]) == (
        material.title,
        material.summary,
        material.kind,
        material.language,
        material.status,
    )
    assert (item["ethnic_groups"], item["border_routes"], item["topics"]) == (["08"], ["VN-CN"], ["ethnic-policy"])
    assert item["provinces"] == material.tag_values("province")
    assert datetime.fromisoformat(item["published_at"]) == material.published_at


def test_needs_credentials(client, corpus):
    response = client.get(SEARCH, params={"q": "mong"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"limit": 0}, ["query", "limit"]),
        ({"limit": 101}, ["query", "limit"]),
        ({"sort": "oldest"}, ["query", "sort"]),
        ({"cursor": "not-a-cursor"}, ["query", "cursor"]),
        ({"ethnic_group": "không có dân tộc này"}, ["query", "ethnic_group"]),
        ({"kind": "poster"}, ["query", "kind"]),
    ],
)
def test_bad_parameters_are_422_naming_the_parameter(client, auth, corpus, params, loc):
    response = client.get(SEARCH, params=params, headers=auth("analyst"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(error["loc"][:2] == loc for error in response.json()["errors"])


def test_a_cursor_for_another_sort_is_422(client, auth, corpus):
    cursor = search(client, auth, q="mong", limit=1)["next_cursor"]
    response = client.get(SEARCH, params={"q": "mong", "sort": "newest", "cursor": cursor}, headers=auth("analyst"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "cursor"]


def test_province_facets_count_what_filtering_on_them_finds(client, auth, session, users, index_now):
    """The facet counts each of today's provinces with its predecessors, as its filter matches
    them: material tagged with the old Quảng Bình counts under the new Quảng Trị, once even
    when tagged with both, and the old province has no entry of its own."""
    old = session.scalar(select(Province).where(Province.name == "Quảng Bình"))
    new = session.scalar(select(Province).where(Province.name == "Quảng Trị", Province.valid_until.is_(None)))
    for provinces in ([str(old.id)], [str(new.id)], [str(old.id), str(new.id)], ["Điện Biên"]):
        make_material(session, users["editor"], title="Tin vùng biên", provinces=provinces, status="published")
    session.commit()
    index_now()
    facets = search(client, auth)["facets"]["province"]
    assert {"value": str(new.id), "name": "Quảng Trị", "count": 3} in facets
    assert str(old.id) not in {f["value"] for f in facets}
    for facet in facets:
        assert search(client, auth, province=facet["value"])["total"] == facet["count"], facet["name"]
