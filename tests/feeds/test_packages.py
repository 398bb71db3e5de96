"""Offline packages end to end: signed manifest, verify-package, same bytes, Range resume, 410,
materials frozen as published, HTML escaped."""

import hashlib
import io
import json
import zipfile

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from tests.factories import make_material

CN = {"border_routes": ["VN-CN"]}
ATTACHMENT = "Bản tin phát thanh: nội dung tiếng Việt có dấu.\n".encode() * 200
runner = CliRunner()


@pytest.fixture
def with_attachment(client, auth, session, users):
    """An approved material with a text attachment; returns its id."""
    material = make_material(session, users["editor"], title="Tài liệu <script>alert(1)</script> & bạn")
    session.commit()
    files = {"file": ("bản tin.txt", ATTACHMENT, "text/plain")}
    uploaded = client.post(f"/api/v1/materials/{material.id}/attachments", files=files, headers=auth("editor"))
    assert uploaded.status_code == 201, uploaded.text
    for to, who in (("in_review", "editor"), ("approved", "reviewer")):
        moved = client.post(f"/api/v1/materials/{material.id}/transitions", json={"to": to}, headers=auth(who))
        assert moved.status_code == 200
    return str(material.id)


@pytest.fixture
def shipped(client, make_unit, publish, approved, with_attachment):
    unit = make_unit("PACKAGE-POST", border_routes=["VN-CN"])
    bundle = publish(CN, materials=[with_attachment, *approved(1)])
    response = client.get(f"/api/v1/feed/bundles/{bundle['id']}/package", headers=unit.headers)
    assert response.status_code == 200, response.text
    return unit, bundle, response


def verify(path, *options):
    return runner.invoke(cli, ["verify-package", str(path), *options])


def public_key(client, unit):
    return client.get("/api/v1/feed/signing-key", headers=unit.headers).json()["public_key"]


def test_package_holds_signed_manifest_materials_and_attachments(client, shipped, with_attachment, tmp_path):
    unit, bundle, response = shipped
    assert response.headers["content-type"] == "application/zip" and response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert names[:5] == ["manifest.json", "manifest.sig", "signer.json", "bundle.json", "index.html"]
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["bundle_id"] == bundle["id"] and manifest["version"] == 1
    listed = {f["path"]: f for f in manifest["files"]}
    folder = f"materials/001-{with_attachment}"
    assert {f"{folder}/material.json", f"{folder}/material.html"} <= set(listed)
    attachment = next(p for p in listed if p.startswith(f"{folder}/attachments/"))
    assert (
        archive.read(attachment) == ATTACHMENT
        and listed[attachment]["sha256"] == hashlib.sha256(ATTACHMENT).hexdigest()
    )
    material = json.loads(archive.read(f"{folder}/material.json"))
    assert material["material"]["attachments"][0]["path"] == attachment and material["note"] == "Ghi chú 0"
    # Which staff account wrote the material is not the unit's business.
    assert not {"created_by", "updated_by", "last_edited_by"} & set(material["material"])
    path = tmp_path / "package.zip"
    path.write_bytes(response.content)
    result = verify(path, "--public-key", public_key(client, unit))
    assert result.exit_code == 0, result.output
    assert "package OK" in result.output and f"{len(manifest['files'])} files checked" in result.output


def test_html_is_escaped(shipped, with_attachment):
    archive = zipfile.ZipFile(io.BytesIO(shipped[2].content))
    page = archive.read(f"materials/001-{with_attachment}/material.html").decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; bạn" in page and "<script>" not in page
    index = archive.read("index.html").decode()
    assert "<script>" not in index and "&lt;script&gt;" in index


def test_same_request_same_bytes_and_never_gzipped(client, settings, shipped):
    unit, bundle, first = shipped
    url = f"/api/v1/feed/bundles/{bundle['id']}/package"
    again = client.get(url, headers={**unit.headers, "Accept-Encoding": "gzip"})
    assert again.content == first.content and "content-encoding" not in again.headers
    assert client.get(url, headers={**unit.headers, "If-None-Match": first.headers["etag"]}).status_code == 304
    for cached in (settings.packages_dir / bundle["id"]).glob("*.zip"):
        cached.unlink()  # rebuilt from the database: still the same bytes
    assert client.get(url, headers=unit.headers).content == first.content


def test_interrupted_download_resumes_with_range_and_if_range(client, shipped):
    unit, bundle, full = shipped
    url = f"/api/v1/feed/bundles/{bundle['id']}/package"
    etag, cut = full.headers["etag"], len(full.content) // 3
    head = client.get(url, headers={**unit.headers, "Range": f"bytes=0-{cut - 1}", "Accept-Encoding": "gzip"})
    assert head.status_code == 206 and len(head.content) == cut and "content-encoding" not in head.headers
    tail = client.get(url, headers={**unit.headers, "Range": f"bytes={cut}-", "If-Range": etag})
    assert tail.status_code == 206
    assert tail.headers["content-range"] == f"bytes {cut}-{len(full.content) - 1}/{len(full.content)}"
    assert head.content + tail.content == full.content
    stale = client.get(url, headers={**unit.headers, "Range": f"bytes={cut}-", "If-Range": '"something-else"'})
    assert stale.status_code == 200 and stale.content == full.content


@pytest.mark.parametrize("unreadable", ["lines=1-2", "items=0-5", "bytes=10-5", "bytes=abc", "bytes="])
def test_a_range_that_cannot_be_read_is_ignored(client, shipped, unreadable):
    unit, bundle, full = shipped
    url = f"/api/v1/feed/bundles/{bundle['id']}/package"
    whole = client.get(url, headers={**unit.headers, "Range": unreadable})
    assert whole.status_code == 200 and whole.content == full.content
    assert "content-range" not in whole.headers


def test_a_range_past_the_end_is_a_416_problem(client, shipped):
    unit, bundle, full = shipped
    url = f"/api/v1/feed/bundles/{bundle['id']}/package"
    beyond = client.get(url, headers={**unit.headers, "Range": f"bytes={len(full.content) + 10}-"})
    assert beyond.status_code == 416 and beyond.headers["content-type"] == "application/problem+json"
    assert beyond.headers["content-range"] == f"bytes */{len(full.content)}"


def _rewrite(source: bytes, change: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            new.writestr(info, change.get(info.filename, old.read(info.filename)))
    return out.getvalue()


def test_verify_package_names_a_tampered_file(client, shipped, with_attachment, tmp_path):
    unit, _, response = shipped
    page = f"materials/001-{with_attachment}/material.html"
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(_rewrite(response.content, {page: b"<p>Tin gi\xe1\xba\xa3 m\xe1\xba\xa1o</p>"}))
    result = verify(tampered, "--public-key", public_key(client, unit))
    assert result.exit_code == 1
    assert f"FAILED {page}" in result.output and "signature valid" in result.output


def test_verify_package_refuses_a_manifest_signed_by_another_key(client, shipped, tmp_path):
    unit, _, response = shipped
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    manifest["files"] = manifest["files"][:-1]  # hide a file, keep the old signature
    forged = tmp_path / "forged.zip"
    forged.write_bytes(_rewrite(response.content, {"manifest.json": json.dumps(manifest).encode()}))
    result = verify(forged, "--public-key", public_key(client, unit))
    assert result.exit_code == 1 and "signature INVALID" in result.output and "FAILED manifest.sig" in result.output
    assert "not listed in the manifest" in result.output
    other_key = "A" * 43 + "="
    genuine = tmp_path / "genuine.zip"
    genuine.write_bytes(response.content)
    assert verify(genuine, "--public-key", other_key).exit_code == 1


def test_a_package_zipped_again_with_folder_entries_still_verifies(client, shipped, tmp_path):
    # `zip -r` writes an entry per folder; verify-package called each "not listed in the manifest".
    unit, _, response = shipped
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(response.content)) as old, zipfile.ZipFile(out, "w") as new:
        folders = {name.rsplit("/", 1)[0] + "/" for name in old.namelist() if "/" in name}
        for folder in sorted(folders):
            new.writestr(folder, b"")
        for info in old.infolist():
            new.writestr(info, old.read(info.filename))
    rezipped = tmp_path / "rezipped.zip"
    rezipped.write_bytes(out.getvalue())
    result = verify(rezipped, "--public-key", public_key(client, unit))
    assert result.exit_code == 0 and "package OK" in result.output, result.output


def test_verify_package_names_what_it_could_not_read(shipped, tmp_path):
    _, _, response = shipped
    not_zip = tmp_path / "not-a-package.zip"
    not_zip.write_bytes(b"PK but not really a zip file")
    result = verify(not_zip)
    assert result.exit_code == 1 and "not a readable zip" in result.output
    assert "signature not checked" in result.output and "INVALID" not in result.output
    genuine = tmp_path / "genuine.zip"
    genuine.write_bytes(response.content)
    bad_key = verify(genuine, "--public-key", "not-a-key")
    assert bad_key.exit_code == 1 and "--public-key is not a base64 Ed25519 public key" in bad_key.output


def test_signing_key_is_published_to_every_principal(client, auth, make_unit):
    unit = make_unit("KEY-READER")
    for headers in (unit.headers, auth("analyst")):
        key = client.get("/api/v1/feed/signing-key", headers=headers).json()
        assert key["algorithm"] == "Ed25519" and len(key["key_id"]) == 16


def test_what_was_sent_stays_as_it_was_sent(client, auth, shipped, with_attachment):
    unit, bundle, response = shipped
    url = f"/api/v1/materials/{with_attachment}"
    client.post(f"{url}/transitions", json={"to": "draft"}, headers=auth("editor"))
    etag = client.get(url, headers=auth("editor")).headers["etag"]
    edited = client.patch(
        url, json={"title": "Tiêu đề đã sửa sau khi gửi"}, headers={**auth("editor"), "If-Match": etag}
    )
    assert edited.status_code == 200
    as_sent = client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=unit.headers).json()
    assert as_sent["id"] == as_sent["bundle_id"] == bundle["id"]  # "id", as every bundle has
    first = as_sent["items"][0]
    assert not {"created_by", "updated_by", "last_edited_by"} & set(first["material"])
    assert (
        first["material"]["title"].startswith("Tài liệu <script>")
        and first["material_version"] < edited.json()["version"]
    )
    listed = first["material"]["attachments"][0]
    assert listed["url"] == f"/api/v1/feed/bundles/{bundle['id']}/attachments/{listed['id']}"  # not the staff route
    staff_view = client.get(f"/api/v1/bundles/{bundle['id']}/publications/1", headers=auth("analyst")).json()
    assert staff_view["items"][0]["material"]["title"] == first["material"]["title"]
    again = client.get(f"/api/v1/feed/bundles/{bundle['id']}/package", headers=unit.headers)
    assert again.content == response.content


def test_internal_materials_reach_the_units_a_bundle_addresses(client, session, users, make_unit, publish):
    internal = make_material(session, users["editor"], status="approved", classification="internal")
    session.commit()
    addressed = make_unit("INTERNAL-YES", border_routes=["VN-CN"])
    other = make_unit("INTERNAL-NO", border_routes=["VN-KH"])
    bundle = publish(CN, materials=[str(internal.id)])
    shown = client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=addressed.headers).json()
    assert shown["items"][0]["material"]["classification"] == "internal"
    assert client.get(f"/api/v1/feed/bundles/{bundle['id']}", headers=other.headers).status_code == 404


def test_downloading_the_package_marks_the_delivery_fetched(client, auth, shipped):
    _, bundle, _ = shipped
    items = client.get(f"/api/v1/bundles/{bundle['id']}/deliveries", headers=auth("analyst")).json()["items"]
    assert [(d["unit"]["code"], d["status"]) for d in items] == [("PACKAGE-POST", "fetched")]


def test_verify_package_without_a_key_uses_the_one_in_the_package_and_says_so(shipped, tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))  # an installation without a key of its own
    get_settings.cache_clear()
    try:
        path = tmp_path / "package.zip"
        path.write_bytes(shipped[2].content)
        result = verify(path)
        assert result.exit_code == 0 and "signer.json in the package" in result.output
        not_a_zip = tmp_path / "broken.zip"
        not_a_zip.write_bytes(b"PK\x03\x04 truncated")
        broken = verify(not_a_zip)
        assert broken.exit_code == 1 and "not a readable zip" in broken.output
    finally:
        get_settings.cache_clear()
