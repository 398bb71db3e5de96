"""Translations: translation_of, the family listing, the rules against chains, and bundles
that send every published translation."""

import pytest

from tests.factories import make_material, material_data


def create(client, auth, **fields):
    return client.post("/api/v1/materials", json=material_data(**fields), headers=auth("editor"))


@pytest.fixture
def source(session, users):
    material = make_material(session, users["editor"], status="published", language="vi", ethnic_groups=["Mông"])
    session.commit()
    return material


def test_a_translation_names_its_source_and_the_family_lists_both(client, auth, source):
    created = create(client, auth, language="hnj", translation_of=str(source.id))
    assert created.status_code == 201, created.text
    translation = created.json()
    assert translation["translation_of"] == str(source.id) and translation["status"] == "draft"
    for asked in (source.id, translation["id"]):
        family = client.get(f"/api/v1/materials/{asked}/translations", headers=auth("analyst")).json()
        assert family["source_id"] == str(source.id)
        assert [(i["id"], i["language"], i["is_source"]) for i in family["items"]] == [
            (str(source.id), "vi", True),
            (translation["id"], "hnj", False),
        ]
        assert family["languages"] == ["hnj", "vi"] and family["published_languages"] == ["vi"]
        assert family["next_cursor"] is None  # listed whole, in the shape of every list


def test_a_translation_has_its_own_workflow_and_four_eyes(client, auth, source):
    translation = create(client, auth, language="km", translation_of=str(source.id)).json()
    path = f"/api/v1/materials/{translation['id']}/transitions"
    assert client.post(path, json={"to": "in_review"}, headers=auth("editor")).status_code == 200
    assert client.post(path, json={"to": "approved"}, headers=auth("editor2")).status_code == 403
    assert client.post(path, json={"to": "approved"}, headers=auth("reviewer")).status_code == 200


@pytest.mark.parametrize(
    "case, expected",
    [("same_language", "another language"), ("chain", "itself a translation"), ("unknown", "No material")],
)
def test_bad_links_are_refused_with_the_field_named(client, auth, source, case, expected):
    target = str(source.id)
    language = "vi" if case == "same_language" else "lo"
    if case == "chain":
        target = create(client, auth, language="km", translation_of=str(source.id)).json()["id"]
    if case == "unknown":
        target = "0190d0a8-0000-7000-8000-000000000000"
    response = create(client, auth, language=language, translation_of=target)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "translation_of"]
    assert expected in response.json()["errors"][0]["msg"]


def test_no_self_translation_and_no_source_becoming_a_translation(client, auth, source, session, users):
    other = make_material(session, users["editor"], language="zh")
    session.commit()
    etag = client.get(f"/api/v1/materials/{other.id}", headers=auth("editor")).headers["ETag"]
    itself = client.patch(
        f"/api/v1/materials/{other.id}",
        json={"translation_of": str(other.id)},
        headers={**auth("editor"), "If-Match": etag},
    )
    assert itself.status_code == 422 and "itself" in itself.json()["errors"][0]["msg"]
    create(client, auth, language="lo", translation_of=str(other.id))
    etag = client.get(f"/api/v1/materials/{other.id}", headers=auth("editor")).headers["ETag"]
    chained = client.patch(
        f"/api/v1/materials/{other.id}",
        json={"translation_of": str(source.id)},
        headers={**auth("editor"), "If-Match": etag},
    )
    assert chained.status_code == 422 and "translations of its own" in chained.json()["errors"][0]["msg"]


def test_a_source_with_translations_cannot_be_deleted(client, auth, session, users):
    draft = make_material(session, users["editor"], language="vi")
    session.commit()
    create(client, auth, language="tdd", translation_of=str(draft.id))
    etag = client.get(f"/api/v1/materials/{draft.id}", headers=auth("editor")).headers["ETag"]
    deleted = client.delete(f"/api/v1/materials/{draft.id}", headers={**auth("editor"), "If-Match": etag})
    assert deleted.status_code == 409


def test_family_of_unknown_material_is_404_and_units_are_refused(client, auth, make_unit, source):
    unknown = "/api/v1/materials/0190d0a8-0000-7000-8000-000000000000/translations"
    assert client.get(unknown, headers=auth("admin")).status_code == 404
    unit = make_unit("DB-TR-1")
    assert client.get(f"/api/v1/materials/{source.id}/translations", headers=unit.headers).status_code == 403


def test_a_bundle_item_can_send_every_published_translation(client, auth, session, users, make_unit):
    source = make_material(session, users["editor"], status="approved", language="vi")
    published = make_material(session, users["editor"], status="published", language="hnj", translation_of=source.id)
    make_material(session, users["editor"], status="approved", language="km", translation_of=source.id)
    session.commit()
    unit = make_unit("DB-TR-2")
    body = {
        "title": "Gói có bản dịch",
        "items": [{"material_id": str(source.id), "note": "Kèm bản dịch", "include_translations": True}],
        "targets": {"units": [unit.id]},
    }
    bundle = client.post("/api/v1/bundles", json=body, headers=auth("editor")).json()
    assert bundle["items"][0]["include_translations"] is True
    assert client.post(f"/api/v1/bundles/{bundle['id']}/publish", headers=auth("reviewer")).status_code == 200
    sent = client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=unit.headers).json()
    languages = [item["material"]["language"] for item in sent["items"]]
    assert [item["material_id"] for item in sent["items"]] == [str(source.id), str(published.id)]
    assert languages == ["vi", "hnj"]


def test_search_can_collapse_a_family_into_one_hit_with_its_languages(client, auth, session, users, index_now):
    source = make_material(session, users["editor"], status="published", title="Chính sách hỗ trợ đồng bào Mông")
    make_material(
        session, users["editor"], title="Chính sách hỗ trợ (bản tiếng Mông)", language="hnj", translation_of=source.id
    )
    make_material(session, users["editor"], title="Chính sách hỗ trợ khác")
    session.commit()
    index_now()
    plain = client.get("/api/v1/search", params={"q": "chinh sach ho tro"}, headers=auth("analyst")).json()
    assert plain["total"] == 3 and all("languages" not in item for item in plain["items"])
    params = {"q": "chinh sach ho tro", "collapse": "translations"}
    collapsed = client.get("/api/v1/search", params=params, headers=auth("analyst")).json()
    assert collapsed["total"] == 2
    languages = sorted(item["languages"] for item in collapsed["items"])
    assert languages == [["hnj", "vi"], ["vi"]]
    wrong = client.get("/api/v1/search", params={"collapse": "nope"}, headers=auth("analyst"))
    assert wrong.status_code == 422


@pytest.mark.parametrize("language", ["vi", "VI", "vie", "vi-Latn", "vi-VN", "vi-VN-x-test"])
def test_a_region_or_a_variant_does_not_make_another_language(client, auth, source, language):
    # vi-VN and vi-VN-x-test were accepted as translations of a vi source (an audit found it).
    response = create(client, auth, language=language, translation_of=str(source.id))
    assert response.status_code == 422 and response.json()["errors"][0]["loc"] == ["body", "translation_of"]


def test_a_family_holds_each_language_once(client, auth, source, session, users):
    first = create(client, auth, language="hnj-Latn", translation_of=str(source.id))
    assert first.status_code == 201, first.text
    second = create(client, auth, language="hnj-Latn", translation_of=str(source.id))
    assert second.status_code == 422 and first.json()["id"] in second.json()["errors"][0]["msg"]
    # Another script is another translation: Hmong in Nyiakeng Puachue beside Hmong in Latin letters.
    assert create(client, auth, language="hnj-Hmnp", translation_of=str(source.id)).status_code == 201
    # Changing a translation's language into one the family has is refused on `language`.
    url = f"/api/v1/materials/{first.json()['id']}"
    for language in ("vi-VN", "hnj-Hmnp"):
        moved = client.patch(url, json={"language": language}, headers={**auth("editor"), "If-Match": "*"})
        assert moved.status_code == 422 and moved.json()["errors"][0]["loc"] == ["body", "language"], moved.text
    assert client.patch(url, json={"language": "km"}, headers={**auth("editor"), "If-Match": "*"}).status_code == 200
