"""The contract every search backend keeps, run against the backend the configuration builds.

TTDN_TEST_CONFIG=sqlite: the database backend on SQLite. TTDN_TEST_CONFIG=postgres-es:
Elasticsearch, and the database backend on PostgreSQL too. Documents are given directly, as
the indexer would send them.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.search.backend import ClaimDocument, InvalidCursor, SearchBackend, SearchDocument, SearchQuery

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


def doc(title: str = "Tài liệu", **fields: Any) -> SearchDocument:
    values: dict[str, Any] = {
        "id": uuid.uuid4(),
        "version": 1,
        "title": title,
        "summary": "",
        "body": "",
        "kind": "article",
        "language": "vi",
        "classification": "public",
        "status": "published",
        "ethnic_groups": [],
        "border_routes": [],
        "provinces": [],
        "topics": [],
        "published_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    return SearchDocument(**values)


def put(backend: SearchBackend, *docs: SearchDocument) -> None:
    backend.index_many(list(docs))
    backend.refresh()


def ids(backend: SearchBackend, **query: Any) -> list[uuid.UUID]:
    return [hit.id for hit in backend.search(SearchQuery(**query)).hits]


def fillers(count: int = 4) -> list[SearchDocument]:
    """Unrelated documents, so that word statistics look like a real collection."""
    return [doc(f"Bản tin thời tiết vùng cao {n}", body="Mưa rào và dông rải rác.") for n in range(count)]


def test_query_without_diacritics_finds_text_with_them(backend: SearchBackend) -> None:
    mong = doc("Tài liệu tuyên truyền cho đồng bào dân tộc Mông")
    dak_lak = doc("Hội nghị ở Đắk Lắk", summary="Biên bản")
    put(backend, mong, dak_lak, *fillers())
    assert ids(backend, text="dan toc mong") == [mong.id]
    assert ids(backend, text="DÂN TỘC MÔNG") == [mong.id]
    assert ids(backend, text="dak lak") == [dak_lak.id]


def test_every_word_must_match_somewhere(backend: SearchBackend) -> None:
    spread = doc("Cột mốc biên giới", summary="Đồn biên phòng", body="Tuần tra song phương")
    put(backend, spread, doc("Cột mốc"), *fillers())
    assert ids(backend, text="cot moc don tuan tra") == [spread.id]
    assert ids(backend, text="cot moc thai") == []


def test_exact_diacritics_rank_first(backend: SearchBackend) -> None:
    exact = doc("Phong tục người Mông")
    plain = doc("Phong tục người mong")
    other = doc("Phong tục người Móng")
    put(backend, plain, other, exact, *fillers())
    found = ids(backend, text="Mông")
    assert found[0] == exact.id
    assert set(found) == {exact.id, plain.id, other.id}
    assert ids(backend, text="mong")[0] == plain.id


def test_words_typed_together_rank_above_the_same_words_apart(backend: SearchBackend) -> None:
    """ "Cơ Lao" is a people; "lao động ở cơ sở" only holds its words, in its title too."""
    together = doc("Lễ hội truyền thống", summary="Lễ hội của đồng bào Cơ Lao ở Hà Giang.")
    apart = [doc(f"Lao động ở cơ sở {n}", summary="Giải quyết việc làm ở cơ sở.") for n in range(3)]
    put(backend, *apart, together, *fillers())
    assert ids(backend, text="Cơ Lao")[0] == together.id
    assert ids(backend, text="co lao")[0] == together.id


def test_a_name_typed_with_its_letter_and_apostrophe_finds_it_written_without(backend: SearchBackend) -> None:
    """ "H'Mông" is also written "Mông"; "M'Nông" "Mnông" less often, but always "Nông" after M'."""
    with_prefix = doc("Đồng bào H'Mông giữ rừng")
    without = doc("Người Mông ở Hà Giang")
    put(backend, without, with_prefix, *fillers())
    assert ids(backend, text="H'Mông") == [with_prefix.id, without.id]
    assert set(ids(backend, text="h’mong")) == {with_prefix.id, without.id}  # no exact spelling to rank by


# What the reference data gives for these names (tests/taxonomy checks it is what it gives).
SPELLINGS = {"hmong": (("mong",),), "ede": (("e", "de"),)}


def test_a_name_written_as_one_word_finds_it_written_apart(backend: SearchBackend) -> None:
    """ "Hmong" and "Ede" are how H'Mông and Ê Đê are written in one word (and in English)."""
    h_mong = doc("Đồng bào H'Mông giữ rừng")
    mong = doc("Người Mông ở Hà Giang")
    hmong = doc("Tiếng Hmong trên sóng phát thanh")
    e_de = doc("Lễ hội của người Ê Đê", summary="Đắk Lắk")
    e_de_hyphen = doc("Sử thi Ê-đê được số hóa")
    apart = doc("Để bà con hiểu rõ", body="Mùa ê chề đã qua.")  # "e" and "de", not together
    put(backend, h_mong, mong, hmong, e_de, e_de_hyphen, apart, *fillers())
    assert set(ids(backend, text="Hmong", spellings=SPELLINGS)) == {h_mong.id, mong.id, hmong.id}
    assert ids(backend, text="Hmong", spellings=SPELLINGS)[0] == hmong.id  # as typed ranks first
    assert set(ids(backend, text="ede", spellings=SPELLINGS)) == {e_de.id, e_de_hyphen.id}
    assert set(ids(backend, text="le hoi Ede", spellings=SPELLINGS)) == {e_de.id}
    assert ids(backend, text="Ede Hmong", spellings=SPELLINGS) == []
    # Without the reference data's spellings, a word is only itself.
    assert ids(backend, text="ede") == []
    assert ids(backend, text="Hmong") == [hmong.id]


def test_a_word_typed_twice_asks_for_nothing_more(backend: SearchBackend) -> None:
    wanted = doc("Đồn biên phòng tuần tra", body="Tuần tra song phương trên tuyến biên giới.")
    put(backend, wanted, doc("Tuần tra"), *fillers())
    assert ids(backend, text="biên " * 200) == ids(backend, text="biên") == [wanted.id]
    assert ids(backend, text="tuần tra biên tuần tra biên") == [wanted.id]


@pytest.mark.parametrize(
    ("name", "field", "wanted", "other"),
    [
        ("ethnic_group", "ethnic_groups", ["08"], ["02"]),
        ("border_route", "border_routes", ["VN-LA"], ["VN-CN"]),
        ("province", "provinces", [str(uuid.UUID(int=1))], [str(uuid.UUID(int=2))]),
        ("topic", "topics", ["ethnic-policy"], ["border-friendship"]),
        ("kind", "kind", "video", "article"),
        ("language", "language", "hnj", "vi"),
        ("status", "status", "draft", "published"),
        ("classification", "classification", "internal", "public"),
    ],
)
def test_each_filter_keeps_only_matching_documents(
    backend: SearchBackend, name: str, field: str, wanted: Any, other: Any
) -> None:
    match, miss = doc("Tin vùng biên", **{field: wanted}), doc("Tin vùng biên", **{field: other})
    put(backend, match, miss)
    value = wanted[0] if isinstance(wanted, list) else wanted
    assert ids(backend, filters={name: [value]}) == [match.id]
    assert ids(backend, text="tin vung bien", filters={name: [value]}) == [match.id]
    assert backend.search(SearchQuery(filters={name: [value]})).total == 1


def test_values_or_within_a_filter_and_across_filters(backend: SearchBackend) -> None:
    mong_video = doc(ethnic_groups=["08"], kind="video")
    tay_video = doc(ethnic_groups=["02"], kind="video")
    thai_video = doc(ethnic_groups=["03"], kind="video")
    mong_audio = doc(ethnic_groups=["08", "02"], kind="audio")
    put(backend, mong_video, tay_video, thai_video, mong_audio)
    either = set(ids(backend, filters={"ethnic_group": ["08", "02"]}))
    assert either == {mong_video.id, tay_video.id, mong_audio.id}
    both = set(ids(backend, filters={"ethnic_group": ["08", "02"], "kind": ["video"]}))
    assert both == {mong_video.id, tay_video.id}


def test_published_range_is_inclusive_and_leaves_out_unpublished(backend: SearchBackend) -> None:
    early, late = doc(published_at=T0), doc(published_at=T0 + timedelta(days=10))
    never = doc(published_at=None, status="draft")
    put(backend, early, late, never)
    assert set(ids(backend, published_from=T0)) == {early.id, late.id}
    assert ids(backend, published_from=T0 + timedelta(days=1)) == [late.id]
    assert ids(backend, published_to=T0) == [early.id]


def test_facets_are_disjunctive(backend: SearchBackend) -> None:
    videos = [doc("Phim tài liệu", kind="video", ethnic_groups=["08"]) for _ in range(3)]
    articles = [doc("Bài viết", kind="article", ethnic_groups=["02"]) for _ in range(2)]
    leaflet = doc("Tờ rơi", kind="leaflet", ethnic_groups=["08"], language="hnj")
    put(backend, *videos, *articles, leaflet)
    page = backend.search(SearchQuery(filters={"kind": ["video"]}))
    assert page.total == 3
    counts = {facet: {c.value: c.count for c in values} for facet, values in page.facets.items()}
    # Choosing a kind still shows how many there are of the others...
    assert counts["kind"] == {"video": 3, "article": 2, "leaflet": 1}
    # ...while every other facet counts within the chosen kind only.
    assert counts["ethnic_group"] == {"08": 3}
    assert counts["language"] == {"vi": 3}
    page = backend.search(SearchQuery(filters={"kind": ["video"], "ethnic_group": ["02"]}))
    counts = {facet: {c.value: c.count for c in values} for facet, values in page.facets.items()}
    assert page.total == 0
    assert counts["kind"] == {"article": 2}
    assert counts["ethnic_group"] == {"08": 3}
    assert [c.value for c in backend.search(SearchQuery()).facets["kind"]] == ["video", "article", "leaflet"]


def test_facets_and_total_follow_the_text(backend: SearchBackend) -> None:
    put(backend, doc("Lễ hội Gầu Tào", kind="video"), doc("Lễ hội xuống đồng", kind="audio"), *fillers(3))
    page = backend.search(SearchQuery(text="le hoi", limit=1))
    assert page.total == 2
    assert len(page.hits) == 1
    assert {c.value: c.count for c in page.facets["kind"]} == {"video": 1, "audio": 1}


def test_an_older_version_never_replaces_a_newer_one(backend: SearchBackend) -> None:
    first = doc("Bản nháp cũ", version=1)
    second = doc("Bản cuối cùng", id=first.id, version=2)
    put(backend, second)
    put(backend, first)
    assert ids(backend, text="ban cuoi cung") == [first.id]
    assert ids(backend, text="ban nhap cu") == []


def test_a_stale_upsert_after_a_delete_does_not_resurrect(backend: SearchBackend) -> None:
    material = doc("Tài liệu sẽ bị xoá", version=3)
    put(backend, material)
    backend.delete_many([(material.id, 4)])
    backend.refresh()
    assert ids(backend, text="tai lieu") == []
    put(backend, material)
    assert ids(backend, text="tai lieu") == []
    assert backend.search(SearchQuery()).total == 0


def test_a_delete_older_than_the_document_is_ignored(backend: SearchBackend) -> None:
    material = doc("Bản mới", version=5)
    put(backend, material)
    backend.delete_many([(material.id, 4), (uuid.uuid4(), 1)])
    backend.refresh()
    assert ids(backend) == [material.id]


def _collection() -> list[SearchDocument]:
    """45 documents with ties in score and in dates, and some never published."""
    docs = []
    for n in range(45):
        repeats = " biên giới" * (n % 4)
        published = None if n % 7 == 0 else T0 + timedelta(days=n % 5)
        docs.append(doc(f"Tin biên giới{repeats}", body=f"Số {n}", published_at=published, updated_at=T0))
    return docs


@pytest.mark.parametrize(("text", "sort"), [("bien gioi", "relevance"), ("bien gioi", "newest"), (None, "newest")])
def test_cursor_pages_cover_the_full_ordering_exactly(backend: SearchBackend, text: str | None, sort: str) -> None:
    put(backend, *_collection(), *fillers(3))
    full = backend.search(SearchQuery(text=text, sort=sort, limit=100))
    expected = 45 if text else 48
    assert full.total == expected and full.next_cursor is None
    paged, cursor = [], None
    for _ in range(10):
        page = backend.search(SearchQuery(text=text, sort=sort, limit=10, cursor=cursor, with_facets=False))
        paged.extend(hit.id for hit in page.hits)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == [hit.id for hit in full.hits]
    assert len(set(paged)) == expected


def test_relevance_orders_by_score_then_id(backend: SearchBackend) -> None:
    put(backend, *_collection())
    hits = backend.search(SearchQuery(text="bien gioi", limit=100)).hits
    keys = [(-(hit.score or 0.0), str(hit.id)) for hit in hits]
    assert keys == sorted(keys)


def test_newest_orders_by_publication_then_update_and_puts_unpublished_last(backend: SearchBackend) -> None:
    older = doc(published_at=T0, updated_at=T0 + timedelta(hours=5))
    newer = doc(published_at=T0 + timedelta(days=1), updated_at=T0)
    same_time_later_update = doc(published_at=T0, updated_at=T0 + timedelta(hours=6))
    unpublished = doc(published_at=None, status="draft", updated_at=T0 + timedelta(days=30))
    put(backend, older, unpublished, newer, same_time_later_update)
    expected = [newer.id, same_time_later_update.id, older.id, unpublished.id]
    assert ids(backend, sort="newest") == expected
    assert ids(backend, sort="relevance") == expected  # no text: relevance sorts like newest


@pytest.mark.parametrize("cursor", ["not a cursor", "e30", "eyJzIjoibmV3ZXN0IiwiYSI6WzEsMiwzXX0", "%%%", "W10"])
def test_a_cursor_it_did_not_make_is_refused(backend: SearchBackend, cursor: str) -> None:
    put(backend, doc())
    with pytest.raises(InvalidCursor):
        backend.search(SearchQuery(cursor=cursor, sort="newest"))


def test_a_cursor_made_for_another_sort_is_refused(backend: SearchBackend) -> None:
    put(backend, *_collection())
    relevance_cursor = backend.search(SearchQuery(text="bien gioi", limit=5)).next_cursor
    newest_cursor = backend.search(SearchQuery(text="bien gioi", sort="newest", limit=5)).next_cursor
    assert relevance_cursor and newest_cursor
    with pytest.raises(InvalidCursor):
        backend.search(SearchQuery(text="bien gioi", sort="newest", cursor=relevance_cursor))
    with pytest.raises(InvalidCursor):
        backend.search(SearchQuery(text="bien gioi", sort="relevance", cursor=newest_cursor))
    with pytest.raises(InvalidCursor):
        backend.search(SearchQuery(sort="relevance", cursor=relevance_cursor))  # no text: newest order


def test_a_cursor_made_for_another_search_is_refused(backend: SearchBackend) -> None:
    """A cursor holds the last hit's sort values; after them, another search's page is meaningless."""
    put(backend, *_collection())
    first = backend.search(SearchQuery(text="bien gioi", limit=2, filters={"kind": ["article"]}))
    assert first.next_cursor
    same = SearchQuery(text="bien gioi", limit=3, filters={"kind": ["article"]}, cursor=first.next_cursor)
    assert backend.search(same).hits  # another limit is the same search
    for other in (
        SearchQuery(text="an ninh", filters={"kind": ["article"]}, cursor=first.next_cursor),
        SearchQuery(text="bien gioi", filters={"kind": ["video"]}, cursor=first.next_cursor),
        SearchQuery(text="bien gioi", cursor=first.next_cursor),
    ):
        with pytest.raises(InvalidCursor, match="another search"):
            backend.search(other)


def test_rebuild_keeps_results_identical_and_drops_what_is_gone(backend: SearchBackend) -> None:
    docs = [*_collection(), doc("Lễ hội Gầu Tào", kind="video", ethnic_groups=["08"], topics=["ethnic-policy"])]
    put(backend, *docs)
    queries = [
        SearchQuery(text="bien gioi", limit=100),
        SearchQuery(sort="newest", limit=100, filters={"kind": ["video"]}),
    ]
    before = [backend.search(q) for q in queries]
    progress: list[int] = []
    assert backend.rebuild(iter(docs), progress.append) == len(docs)
    backend.refresh()
    after = [backend.search(q) for q in queries]
    for old, new in zip(before, after, strict=True):
        assert [h.id for h in new.hits] == [h.id for h in old.hits]
        assert (new.total, new.facets) == (old.total, old.facets)
    assert progress and progress[-1] == len(docs)
    assert backend.rebuild(iter(docs[:10])) == 10
    backend.refresh()
    assert backend.search(SearchQuery()).total == 10


# --- the claim index -------------------------------------------------------------------------------


def claim_doc(text: str, *, version: int = 1, status: str = "new", claim_id: uuid.UUID | None = None) -> ClaimDocument:
    return ClaimDocument(id=claim_id or uuid.uuid4(), version=version, status=status, text=text)


def test_claims_match_on_shared_words_with_or_without_diacritics(backend: SearchBackend) -> None:
    land = claim_doc("Tin đồn thu hồi đất rừng của đồng bào Mông ở Điện Biên")
    water = claim_doc("Video giả nói nhà máy thủy điện xả lũ gây ngập làng")
    backend.index_claims([land, water])
    backend.refresh()
    hits = backend.match_claims("se thu hoi dat rung cua nguoi Mong", 5)
    assert hits and hits[0].id == land.id
    assert water.id not in [h.id for h in hits]
    assert backend.match_claims("Thu hồi đất rừng", 5)[0].id == land.id


def test_claims_keep_the_newest_version_and_merged_claims_are_never_matched(backend: SearchBackend) -> None:
    claim_id = uuid.uuid4()
    backend.index_claims([claim_doc("Tin giả về lũ quét", version=2, claim_id=claim_id)])
    backend.index_claims([claim_doc("Chuyện khác hẳn về trường học", version=1, claim_id=claim_id)])
    backend.refresh()
    assert [h.id for h in backend.match_claims("lũ quét", 5)] == [claim_id]
    assert backend.match_claims("trường học", 5) == []
    backend.index_claims([claim_doc("Tin giả về lũ quét", version=3, status="merged", claim_id=claim_id)])
    backend.refresh()
    assert backend.match_claims("lũ quét", 5) == []


def test_claims_match_nothing_for_no_words(backend: SearchBackend) -> None:
    backend.index_claims([claim_doc("Tin giả về lũ quét")])
    backend.refresh()
    assert backend.match_claims(" ,.!", 5) == []


@pytest.mark.parametrize("sort", ["relevance", "newest"])
def test_collapse_gives_one_hit_per_translation_family(backend: SearchBackend, sort: str) -> None:
    source = doc("Chính sách dân tộc cho đồng bào Mông", published_at=T0)
    hmong = doc(
        "Chính sách dân tộc (tiếng Mông)", language="hnj", family=source.id, published_at=T0 + timedelta(days=2)
    )
    khmer = doc(
        "Chính sách dân tộc (tiếng Khmer)", language="km", family=source.id, published_at=T0 + timedelta(days=1)
    )
    alone = [doc(f"Chính sách dân tộc số {n}", published_at=T0 - timedelta(days=n + 1)) for n in range(3)]
    put(backend, source, hmong, khmer, *alone, *fillers(3))
    plain = backend.search(SearchQuery(text="chinh sach dan toc", sort=sort))
    collapsed = backend.search(SearchQuery(text="chinh sach dan toc", sort=sort, collapse=True))
    assert plain.total == 6 and collapsed.total == 4
    family = {source.id, hmong.id, khmer.id}
    assert len([hit for hit in collapsed.hits if hit.id in family]) == 1
    if sort == "newest":
        assert [hit.id for hit in collapsed.hits] == [hmong.id, *(d.id for d in alone)]
    paged, cursor = [], None
    for _ in range(6):
        page = backend.search(SearchQuery(text="chinh sach dan toc", sort=sort, collapse=True, limit=1, cursor=cursor))
        paged.extend(hit.id for hit in page.hits)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert paged == [hit.id for hit in collapsed.hits]


def test_a_plain_cursor_is_refused_when_collapsing(backend: SearchBackend) -> None:
    put(backend, *_collection())
    cursor = backend.search(SearchQuery(sort="newest", limit=2)).next_cursor
    with pytest.raises(InvalidCursor):
        backend.search(SearchQuery(sort="newest", limit=2, cursor=cursor, collapse=True))
