"""GET /materials/{id}/ninjs checked against IPTC ninjs 3.1 as its specification defines it.

The checks below are written from the specification (the properties it defines, their types,
enumerations and required members), not from a copy of its schema file: an object may carry
only defined properties, `uri` is required, dates are RFC 3339 date-times, URIs are absolute,
and each headline, description and body needs a `value`, each rendition a `name`, each
association a `name` and a `uri`.
"""

from datetime import datetime
from urllib.parse import urlparse

import pytest

from tests.factories import make_material

ROOT_PROPERTIES = {
    "uri", "type", "representationType", "profile", "version", "firstCreated", "versionCreated",
    "contentCreated", "embargoedUntil", "pubStatus", "urgency", "copyrightHolder", "copyrightNotice",
    "usageTerms", "edNote", "language", "descriptions", "bodies", "headlines", "people", "organisations",
    "places", "subjects", "events", "eventDetails", "plannedCoverage", "objects", "infoSources", "title",
    "by", "slugline", "located", "renditions", "associations", "altIds", "trustIndicators", "standard",
    "genres", "expires", "rightsInfo", "digitalSourceType",
}  # fmt: skip
NATURES = {"text", "audio", "video", "picture", "graphic", "composite", "component", "event", "planning"}
PUB_STATUSES = {"usable", "withheld", "canceled"}
TEXT_ITEM = {"role": str, "contentType": str, "value": str}
BODY_ITEM = {**TEXT_ITEM, "charCount": int, "wordCount": int}
SUBJECT = {"name": str, "rel": str, "uri": str, "literal": str, "creator": str, "relevance": int, "confidence": int}
RENDITION = {
    "name": str, "href": str, "contentType": str, "title": str, "width": int, "height": int,
    "sizeInBytes": int, "duration": (int, float), "format": str, "aspectRatio": str, "videoCodec": str,
    "frameRate": (int, float), "poi": dict, "transportProtocol": str, "scanType": str, "bitrate": str,
}  # fmt: skip
ALT_ID = {"role": str, "value": str}
GENRE = {"name": str, "uri": str, "literal": str}
INFO_SOURCE = {"name": str, "role": str, "uri": str, "literal": str, "contactInfo": list}
STANDARD = {"name": str, "version": str, "schema": str}


def absolute_uri(value: str) -> bool:
    parsed = urlparse(value)
    return bool(parsed.scheme) and bool(parsed.netloc or parsed.path)


def check_items(items, allowed: dict, required: set[str]) -> None:
    assert isinstance(items, list)
    for item in items:
        assert set(item) <= set(allowed), set(item) - set(allowed)
        assert required <= set(item)
        for key, value in item.items():
            assert isinstance(value, allowed[key]) and not isinstance(value, bool), (key, value)


def check_ninjs(document: dict, *, association: bool = False) -> None:
    allowed = ROOT_PROPERTIES | ({"name", "rel"} if association else set())
    assert set(document) <= allowed, set(document) - allowed
    assert "uri" in document and absolute_uri(document["uri"])
    if association:
        assert isinstance(document["name"], str) and isinstance(document.get("rel", ""), str)
    for key in ("version", "language", "title"):
        assert isinstance(document.get(key, ""), str)
    assert document.get("type", "text") in NATURES
    assert document.get("pubStatus", "usable") in PUB_STATUSES
    for key in ("firstCreated", "versionCreated", "contentCreated", "embargoedUntil", "expires"):
        if key in document:
            assert datetime.fromisoformat(document[key]).tzinfo is not None
    check_items(document.get("headlines", []), TEXT_ITEM, {"value"})
    check_items(document.get("descriptions", []), TEXT_ITEM, {"value"})
    check_items(document.get("bodies", []), BODY_ITEM, {"value"})
    check_items(document.get("subjects", []), SUBJECT, set())
    check_items(document.get("renditions", []), RENDITION, {"name"})
    check_items(document.get("altIds", []), ALT_ID, set())
    check_items(document.get("genres", []), GENRE, set())
    check_items(document.get("infoSources", []), INFO_SOURCE, set())
    for subject in document.get("subjects", []):
        assert absolute_uri(subject["uri"]) and 0 <= subject.get("relevance", 0) <= 100
    for rendition in document.get("renditions", []):
        assert absolute_uri(rendition["href"])
    if "standard" in document:
        assert set(document["standard"]) <= set(STANDARD)
    for associated in document.get("associations", []):
        check_ninjs(associated, association=True)


@pytest.fixture
def family(session, users):
    source = make_material(
        session, users["editor"], status="published", kind="infographic", language="vi",
        ethnic_groups=["Mông"], topics=["ethnic-policy"], provinces=["Lào Cai"], border_routes=["VN-CN"],
        source="Ban Dân tộc tỉnh",
    )  # fmt: skip
    translation = make_material(session, users["editor"], language="hnj", translation_of=source.id)
    session.commit()
    return source, translation


def test_ninjs_follows_the_specification_and_maps_what_it_has_a_place_for(client, auth, family):
    source, translation = family
    attached = client.post(
        f"/api/v1/materials/{translation.id}/attachments",
        files={"file": ("tho.txt", "Bài thơ".encode(), "text/plain")},
        headers=auth("editor"),
    )
    assert attached.status_code == 201, attached.text
    response = client.get(f"/api/v1/materials/{source.id}/ninjs", headers=auth("analyst"))
    assert response.status_code == 200
    document = response.json()
    check_ninjs(document)
    assert document["uri"] == f"urn:ttdn:material:{source.id}" and document["type"] == "graphic"
    assert document["pubStatus"] == "usable" and document["language"] == "vi" and document["version"] == "4"
    assert document["headlines"][0]["value"] == source.title
    assert document["bodies"][0]["contentType"] == "text/markdown"
    subjects = {(s["rel"], s["uri"]) for s in document["subjects"]}
    assert ("ethnicGroup", "urn:ttdn:ethnic-group:08") in subjects
    assert ("topic", "urn:ttdn:topic:ethnic-policy") in subjects
    assert any(rel == "province" for rel, _ in subjects) and ("borderRoute", "urn:ttdn:border-route:VN-CN") in subjects
    (association,) = document["associations"]
    assert association["rel"] == "translation" and association["language"] == "hnj"
    assert association["uri"] == f"urn:ttdn:material:{translation.id}" and association["pubStatus"] == "withheld"

    other = client.get(f"/api/v1/materials/{translation.id}/ninjs", headers=auth("analyst")).json()
    check_ninjs(other)
    (rendition,) = other["renditions"]
    assert rendition["contentType"].startswith("text/plain") and rendition["sizeInBytes"] == len("Bài thơ".encode())
    assert rendition["href"].endswith(f"/api/v1/attachments/{attached.json()['id']}/content")
    assert other["associations"][0]["rel"] == "source"


def test_the_checks_catch_what_the_specification_forbids():
    with pytest.raises(AssertionError):
        check_ninjs({"uri": "urn:x:1", "headline": "not a ninjs property"})
    with pytest.raises(AssertionError):
        check_ninjs({"type": "text"})  # uri is required
    with pytest.raises(AssertionError):
        check_ninjs({"uri": "urn:x:1", "headlines": [{"role": "main"}]})  # value is required


def test_ninjs_of_an_unknown_material_is_404(client, auth):
    response = client.get("/api/v1/materials/0190d0a8-0000-7000-8000-000000000000/ninjs", headers=auth("editor"))
    assert response.status_code == 404
