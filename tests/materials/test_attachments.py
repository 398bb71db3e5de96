"""Attachments: content-addressed storage, media type from the bytes, limits, Range downloads."""

import hashlib
import struct
import zlib

import pytest

from tests.factories import make_material


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"x" * 2000


@pytest.fixture
def material(session, users):
    m = make_material(session, users["editor"])
    session.commit()
    return m


def upload(client, headers, material_id, name, data, content_type="application/octet-stream"):
    return client.post(
        f"/api/v1/materials/{material_id}/attachments", files={"file": (name, data, content_type)}, headers=headers
    )


def test_upload_sniffs_type_and_names_blob_by_sha256(client, auth, material, settings):
    data = png_bytes()
    response = upload(client, auth("editor"), material.id, "ảnh biên giới.png", data, "image/png")
    assert response.status_code == 201, response.text
    body = response.json()
    digest = hashlib.sha256(data).hexdigest()
    assert body["media_type"] == "image/png" and body["size"] == len(data) and body["sha256"] == digest
    assert body["filename"] == "ảnh biên giới.png"
    assert response.headers["location"] == body["url"]
    assert (settings.blob_dir / digest[:2] / digest[2:4] / digest).read_bytes() == data
    assert list((settings.blob_dir / "tmp").iterdir()) == []
    material_now = client.get(f"/api/v1/materials/{material.id}", headers=auth("editor")).json()
    assert material_now["version"] == 2 and material_now["attachments"][0]["sha256"] == digest


def test_identical_content_is_stored_once(client, auth, material, settings):
    first = upload(client, auth("editor"), material.id, "a.pdf", PDF).json()
    second = upload(client, auth("editor"), material.id, "b.pdf", PDF).json()
    assert first["id"] != second["id"] and first["sha256"] == second["sha256"]
    stored = [p for p in settings.blob_dir.rglob(first["sha256"]) if p.is_file()]
    assert len(stored) == 1


def test_declared_type_that_contradicts_the_bytes_is_415(client, auth, material):
    response = upload(client, auth("editor"), material.id, "fake.png", PDF, "image/png")
    assert response.status_code == 415
    assert "application/pdf" in response.json()["detail"]


def test_executables_and_unknown_binaries_are_refused(client, auth, material):
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 100
    assert upload(client, auth("editor"), material.id, "tool", elf).status_code == 415
    junk = bytes(range(256)) * 4
    assert upload(client, auth("editor"), material.id, "junk.bin", junk).status_code == 415


def test_text_is_accepted_and_empty_is_422(client, auth, material):
    ok = upload(client, auth("editor"), material.id, "ghi chú.txt", "Văn bản tiếng Việt".encode(), "text/plain")
    assert ok.status_code == 201 and ok.json()["media_type"] == "text/plain"
    empty = upload(client, auth("editor"), material.id, "empty.txt", b"", "text/plain")
    assert empty.status_code == 422


def test_a_part_without_a_filename_is_422_in_plain_words(client, auth, material):
    # Sent as a plain form field (no filename), the part is text to FastAPI: its message named
    # Python types ("Expected UploadFile, received: <class 'str'>").
    for files in ({"file": ("", b"abc", "text/plain")}, {"file": (None, b"abc")}):
        response = client.post(f"/api/v1/materials/{material.id}/attachments", files=files, headers=auth("editor"))
        assert response.status_code == 422, response.text
        assert response.json()["errors"] == [
            {"loc": ["body", "file"], "msg": "Must be a file: a multipart part with a filename."}
        ]


def test_file_over_the_limit_is_413_and_nothing_is_kept(client, auth, material, settings):
    data = b"a" * (settings.max_upload_bytes + 1)
    response = upload(client, auth("editor"), material.id, "big.txt", data, "text/plain")
    assert response.status_code == 413
    assert client.get(f"/api/v1/materials/{material.id}", headers=auth("editor")).json()["attachments"] == []
    assert not list(settings.blob_dir.rglob(hashlib.sha256(data).hexdigest()))
    assert list((settings.blob_dir / "tmp").iterdir()) == []


def test_only_editors_upload(client, auth, material):
    assert upload(client, auth("analyst"), material.id, "a.pdf", PDF).status_code == 403
    assert upload(client, {}, material.id, "a.pdf", PDF).status_code == 401


def test_upload_to_missing_material_is_404(client, auth):
    assert upload(client, auth("editor"), "0190d0a8-0000-7000-8000-000000000000", "a.pdf", PDF).status_code == 404


def test_download_with_range_etag_and_conditional_get(client, auth, material):
    body = upload(client, auth("editor"), material.id, "tài liệu.pdf", PDF).json()
    whole = client.get(body["url"], headers=auth("analyst"))
    assert whole.status_code == 200 and whole.content == PDF
    assert whole.headers["etag"] == f'"{body["sha256"]}"'
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "application/pdf"
    assert "filename*=utf-8''t%C3%A0i%20li%E1%BB%87u.pdf" in whole.headers["content-disposition"]
    part = client.get(body["url"], headers={**auth("analyst"), "Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == PDF[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(PDF)}"
    resumed = client.get(
        body["url"], headers={**auth("analyst"), "Range": "bytes=100-", "If-Range": whole.headers["etag"]}
    )
    assert resumed.status_code == 206 and resumed.content == PDF[100:]
    not_modified = client.get(body["url"], headers={**auth("analyst"), "If-None-Match": whole.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.content == b""
    # If-None-Match compares weakly: a tag a proxy marked W/, or *, is the same copy.
    for given in (f"W/{whole.headers['etag']}", '"other", ' + whole.headers["etag"], "*"):
        assert client.get(body["url"], headers={**auth("analyst"), "If-None-Match": given}).status_code == 304
    other = client.get(body["url"], headers={**auth("analyst"), "If-None-Match": '"other"'})
    assert other.status_code == 200


def test_head_is_get_without_the_body(client, auth, material):
    body = upload(client, auth("editor"), material.id, "a.pdf", PDF).json()
    got = client.get(body["url"], headers=auth("analyst"))
    head = client.head(body["url"], headers=auth("analyst"))
    assert head.status_code == 200 and head.content == b""
    for name in ("content-length", "content-type", "etag", "accept-ranges", "content-disposition"):
        assert head.headers[name] == got.headers[name], name
    assert client.head(body["url"]).status_code == 401  # the same checks as GET
    health = client.head("/healthz")
    assert health.status_code == 200 and health.content == b""
    # A path with no GET still says what it allows.
    refused = client.head(f"/api/v1/materials/{material.id}/transitions", headers=auth("analyst"))
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"


def test_unsatisfiable_range_is_416(client, auth, material):
    body = upload(client, auth("editor"), material.id, "a.pdf", PDF).json()
    response = client.get(body["url"], headers={**auth("analyst"), "Range": f"bytes={len(PDF) + 5}-"})
    assert response.status_code == 416


def test_attachment_on_published_material_is_refused(client, auth, session, users):
    published = make_material(session, users["editor"], status="published")
    session.commit()
    assert upload(client, auth("editor"), published.id, "a.pdf", PDF).status_code == 409
