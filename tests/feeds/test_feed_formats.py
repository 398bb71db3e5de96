"""Conditional GET, gzip and Vary; Atom read by feedparser; JSON Feed 1.1 against its schema."""

import json
import time
import uuid
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import jsonschema
import pytest

CN = {"border_routes": ["VN-CN"]}
FEEDS = ["/api/v1/feed", "/api/v1/feed.atom", "/api/v1/feed.json"]
SCHEMA = json.loads((Path(__file__).parent / "jsonfeed-1.1.schema.json").read_text(encoding="utf-8"))
formats = jsonschema.FormatChecker()


@formats.checks("date-time", raises=ValueError)
def _rfc3339(value: str) -> bool:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@formats.checks("uri", raises=ValueError)
def _uri(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme and (parts.netloc or parts.path))


@pytest.fixture
def unit(make_unit):
    return make_unit("FORMAT-POST", border_routes=["VN-CN"])


@pytest.mark.parametrize("path", FEEDS)
def test_etag_gives_304_with_empty_body_until_something_changes(client, unit, publish, path):
    publish(CN)
    first = client.get(path, headers=unit.headers)
    assert first.status_code == 200 and first.headers["cache-control"] == "private, no-cache"
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(path, headers={**unit.headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    publish(CN)
    changed = client.get(path, headers={**unit.headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


@pytest.mark.parametrize("path", FEEDS)
def test_if_modified_since_gives_304_until_something_changes(client, unit, publish, path):
    publish(CN)
    time.sleep(1.1)  # Last-Modified is announced once the second of the latest change is over
    first = client.get(path, headers=unit.headers)
    modified = first.headers["last-modified"]
    assert first.status_code == 200 and modified.endswith("GMT")
    assert client.get(path, headers={**unit.headers, "If-Modified-Since": modified}).status_code == 304
    publish(CN)
    changed = client.get(path, headers={**unit.headers, "If-Modified-Since": modified})
    assert changed.status_code == 200


@pytest.mark.parametrize("path", FEEDS)
def test_last_modified_is_always_sent_and_a_second_change_in_one_second_is_never_a_304(
    client, session, unit, publish, path, monkeypatch
):
    from app.bundles import changelog
    from app.feeds import responses

    publish(CN)
    _, stamp = changelog.feed_version(session, uuid.UUID(unit.id))  # the feed's latest change
    # Serve as if the clock were still in the second of that change.
    frozen = stamp.replace(microsecond=999_999)

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return frozen

    monkeypatch.setattr(responses, "datetime", Clock)
    during = client.get(path, headers=unit.headers)
    modified = parsedate_to_datetime(during.headers["last-modified"])
    assert modified == stamp.replace(microsecond=0) - timedelta(seconds=1)  # the second before the change
    # A copy from that second never earns a 304 by date: a later change in it would be missed.
    assert (
        client.get(path, headers={**unit.headers, "If-Modified-Since": during.headers["last-modified"]}).status_code
        == 200
    )
    # Once the second is over, the change's own second is announced and honoured.
    frozen = stamp.replace(microsecond=0) + timedelta(seconds=1)
    after = client.get(path, headers=unit.headers)
    assert parsedate_to_datetime(after.headers["last-modified"]) == stamp.replace(microsecond=0)
    assert (
        client.get(path, headers={**unit.headers, "If-Modified-Since": after.headers["last-modified"]}).status_code
        == 304
    )
    old = format_datetime(datetime(2020, 1, 1).astimezone(), usegmt=True)
    assert client.get(path, headers={**unit.headers, "If-Modified-Since": old}).status_code == 200
    # A date past the server's clock says nothing about the client's copy: ignored.
    future = format_datetime(datetime(2099, 1, 1).astimezone(), usegmt=True)
    assert client.get(path, headers={**unit.headers, "If-Modified-Since": future}).status_code == 200


@pytest.mark.parametrize("path", FEEDS)
def test_text_feeds_are_gzipped_when_allowed_and_vary_on_accept_encoding(client, unit, publish, path):
    publish(CN)
    zipped = client.get(path, headers={**unit.headers, "Accept-Encoding": "gzip"})
    plain = client.get(path, headers={**unit.headers, "Accept-Encoding": "identity"})
    refused = client.get(path, headers={**unit.headers, "Accept-Encoding": "gzip;q=0, *;q=1"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == plain.content
    assert "content-encoding" not in plain.headers and "content-encoding" not in refused.headers
    for response in (zipped, plain):
        assert "Accept-Encoding" in response.headers["vary"]
    assert zipped.headers["etag"] != plain.headers["etag"]
    not_modified = client.get(
        path, headers={**unit.headers, "Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]}
    )
    assert not_modified.status_code == 304 and "Accept-Encoding" in not_modified.headers["vary"]
    # Either tag names the same version: a client polling with another encoding than it fetched
    # with (curl, then a library that asks for gzip) still gets its 304.
    for encoding, tag in (("identity", zipped.headers["etag"]), ("gzip", plain.headers["etag"])):
        crossed = client.get(path, headers={**unit.headers, "Accept-Encoding": encoding, "If-None-Match": tag})
        assert crossed.status_code == 304


def test_atom_is_read_by_feedparser_without_errors(client, auth, unit, publish):
    urgent = publish(CN, priority="urgent", title="Khẩn: <b>tin</b> & cảnh báo")
    recalled = publish(CN)
    client.post(f"/api/v1/bundles/{recalled['id']}/recall", headers=auth("reviewer"))
    response = client.get("/api/v1/feed.atom", headers=unit.basic)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert [e.id for e in parsed.entries] == [f"urn:uuid:{urgent['id']}", f"urn:uuid:{recalled['id']}"]
    first, tombstone = parsed.entries
    assert first.title == "Khẩn: <b>tin</b> & cảnh báo"
    assert {t.term for t in first.tags} == {"published", "urgent"}
    assert any(link.rel == "enclosure" and link.href.endswith("/package") for link in first.links)
    assert {t.term for t in tombstone.tags} == {"recalled", "normal"} and tombstone.title.startswith("[Thu hồi]")
    assert parsed.feed.id == f"urn:uuid:{unit.id}"


def test_empty_atom_feed_is_valid_too(client, unit):
    parsed = feedparser.parse(client.get("/api/v1/feed.atom", headers=unit.headers).content)
    assert parsed.bozo == 0 and parsed.entries == []


def test_json_feed_matches_the_json_feed_1_1_schema(client, auth, unit, publish):
    live = publish(CN, priority="urgent")
    recalled = publish(CN)
    client.post(f"/api/v1/bundles/{recalled['id']}/recall", headers=auth("reviewer"))
    response = client.get("/api/v1/feed.json", headers=unit.headers)
    assert response.headers["content-type"].startswith("application/feed+json")
    document = response.json()
    jsonschema.validate(document, SCHEMA, format_checker=formats)
    items = {item["id"]: item for item in document["items"]}
    assert items[f"urn:uuid:{live['id']}"]["attachments"][0]["mime_type"] == "application/zip"
    assert items[f"urn:uuid:{recalled['id']}"]["_ttdn"]["status"] == "recalled"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**document, "version": "https://jsonfeed.org/version/1"}, SCHEMA, format_checker=formats)
