"""One file of a bundle by itself: a unit on a poor link fetches only the attachment it needs,
as it was sent, with Range and its SHA-256 as the ETag; never a file outside its bundles."""

import hashlib
import uuid

import pytest

from tests.factories import make_material
from tests.html_checks import elements, outside_references

CN = {"border_routes": ["VN-CN"]}
CONTENT = "Bài phát thanh song ngữ Việt - Mông, bản ghi âm kèm theo.\n".encode() * 300
SHA = hashlib.sha256(CONTENT).hexdigest()


def _upload(client, auth, material_id: str, name: str, content: bytes) -> dict:
    files = {"file": (name, content, "text/plain")}
    uploaded = client.post(f"/api/v1/materials/{material_id}/attachments", files=files, headers=auth("editor"))
    assert uploaded.status_code == 201, uploaded.text
    return uploaded.json()


@pytest.fixture
def sent(client, auth, session, users, make_unit, publish):
    """A unit on VN-CN and a published bundle whose material has one text attachment."""
    unit = make_unit("FILE-POST", border_routes=["VN-CN"])
    material = make_material(session, users["editor"], title="Bản tin song ngữ", border_routes=["VN-CN"])
    session.commit()
    attachment = _upload(client, auth, str(material.id), "bản tin.txt", CONTENT)
    for to, who in (("in_review", "editor"), ("approved", "reviewer")):
        moved = client.post(f"/api/v1/materials/{material.id}/transitions", json={"to": to}, headers=auth(who))
        assert moved.status_code == 200, moved.text
    bundle = publish(CN, materials=[str(material.id)])
    return unit, bundle, str(material.id), attachment


def _url(bundle: dict, attachment_id: str) -> str:
    return f"/api/v1/feed/bundles/{bundle['id']}/attachments/{attachment_id}"


def test_the_bundle_links_each_file_and_the_link_serves_it(client, sent):
    unit, bundle, _, attachment = sent
    shown = client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=unit.headers).json()
    listed = shown["items"][0]["material"]["attachments"][0]
    assert listed["url"] == _url(bundle, attachment["id"]) and listed["sha256"] == SHA
    got = client.get(listed["url"], headers=unit.headers)
    assert got.status_code == 200 and got.content == CONTENT
    assert got.headers["etag"] == f'"{SHA}"' and got.headers["content-type"].startswith("text/plain")
    assert "attachment" in got.headers["content-disposition"] and got.headers["accept-ranges"] == "bytes"
    by_basic = client.get(listed["url"], headers=unit.basic)
    assert by_basic.status_code == 200 and by_basic.content == CONTENT


def test_an_interrupted_download_resumes_and_a_current_copy_is_a_304(client, sent):
    unit, bundle, _, attachment = sent
    url, cut = _url(bundle, attachment["id"]), len(CONTENT) // 3
    head = client.get(url, headers={**unit.headers, "Range": f"bytes=0-{cut - 1}"})
    assert head.status_code == 206 and head.content == CONTENT[:cut]
    tail = client.get(url, headers={**unit.headers, "Range": f"bytes={cut}-", "If-Range": f'"{SHA}"'})
    assert tail.status_code == 206 and head.content + tail.content == CONTENT
    current = client.get(url, headers={**unit.headers, "If-None-Match": f'"{SHA}"'})
    assert current.status_code == 304 and current.content == b"" and current.headers["etag"] == f'"{SHA}"'
    beyond = client.get(url, headers={**unit.headers, "Range": f"bytes={len(CONTENT) + 1}-"})
    assert beyond.status_code == 416 and beyond.headers["content-type"] == "application/problem+json"


def test_only_what_the_bundle_sent_to_this_unit(client, auth, make_unit, publish, sent):
    unit, bundle, material_id, attachment = sent
    url = _url(bundle, attachment["id"])
    elsewhere = make_unit("FILE-LAOS", border_routes=["VN-LA"])
    refused = client.get(url, headers=elsewhere.headers)
    assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
    assert CONTENT not in refused.content
    assert client.get(url, headers=auth("admin")).status_code == 403  # staff use the staff route
    assert client.get(_url(bundle, str(uuid.uuid4())), headers=unit.headers).status_code == 404
    assert client.get(_url(bundle, "not-an-id"), headers=unit.headers).status_code == 422
    # A file of another bundle, even one the unit also gets, is not a file of this one.
    other = publish(CN, materials=None)
    assert client.get(_url(other, attachment["id"]), headers=unit.headers).status_code == 404


def test_a_file_added_after_sending_is_not_in_the_bundle(client, auth, sent):
    unit, bundle, material_id, attachment = sent
    client.post(f"/api/v1/materials/{material_id}/transitions", json={"to": "draft"}, headers=auth("editor"))
    later = _upload(client, auth, material_id, "bổ sung.txt", "Tệp thêm sau khi gửi.\n".encode())
    assert client.get(_url(bundle, later["id"]), headers=unit.headers).status_code == 404
    assert client.get(_url(bundle, attachment["id"]), headers=unit.headers).content == CONTENT


def test_a_recalled_bundles_files_are_gone(client, auth, sent):
    unit, bundle, _, attachment = sent
    assert client.post(f"/api/v1/bundles/{bundle['id']}/recall", headers=auth("reviewer")).status_code == 200
    gone = client.get(_url(bundle, attachment["id"]), headers=unit.headers)
    assert gone.status_code == 410 and gone.headers["content-type"] == "application/problem+json"


def test_the_bundle_page_links_the_file_and_the_package_does_not_leave_itself(client, sent):
    unit, bundle, _, attachment = sent
    page = client.get(f"/api/v1/feed/bundles/{bundle['id']}.html", headers=unit.basic)
    assert page.status_code == 200 and outside_references(page.text) == []
    assert _url(bundle, attachment["id"]) in [a.get("href") for a in elements(page.text, "a")]
    assert "media-src 'self'" in page.headers["content-security-policy"]
    package = client.get(f"/api/v1/feed/bundles/{bundle['id']}/package", headers=unit.headers)
    assert package.status_code == 200 and _url(bundle, attachment["id"]).encode() not in package.content
