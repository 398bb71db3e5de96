"""The package read by a person: Markdown rendered and sanitised, names instead of codes, dates as
written in Vietnam, attachments shown where a browser can, an offline search index, nothing from
outside, and still the same bytes for the same publication."""

import base64
import io
import json
import re
import zipfile
from datetime import date
from urllib.parse import unquote

import pytest

from app.feeds import labels
from app.taxonomy import service as taxonomy_service
from app.text import fold
from tests.factories import make_material
from tests.html_checks import elements, outside_references, parse_strict, text_of

CN = {"border_routes": ["VN-CN"]}
HOSTILE = """## Tiêu đề phụ

Đoạn có *nhấn mạnh* và **chữ đậm**.

<script>alert("x")</script>
<img src="x" onerror="alert(1)">
<iframe src="https://evil.example/frame"></iframe>

[bấm vào đây](javascript:alert(1)) và [trang ngoài](https://evil.example/page)

![ảnh ngoài](https://evil.example/track.png)

<div style="background:url(https://evil.example/bg.png)">x</div>
"""
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
WAV = b"RIFF" + (36).to_bytes(4, "little") + b"WAVEfmt " + bytes(28)
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TEXT = "Bản tin phát thanh.\n".encode() * 50
FILES = [("ảnh.png", PNG, "image/png"), ("bản tin.wav", WAV, "audio/x-wav"), ("tài liệu.pdf", PDF, "application/pdf")]
FILES.append(("ghi chép.txt", TEXT, "text/plain"))


@pytest.fixture
def hostile(client, auth, session, users):
    """An approved material with a hostile Markdown body, real tags and four attachments."""
    material = make_material(
        session,
        users["editor"],
        title="Đồng bào Mông giữ gìn văn hóa",
        body=HOSTILE,
        ethnic_groups=["Mông", "Dao"],
        border_routes=["VN-CN"],
        provinces=["Lào Cai"],
        topics=["culture-heritage"],
    )
    session.commit()
    for name, data, media_type in FILES:
        sent = client.post(
            f"/api/v1/materials/{material.id}/attachments",
            files={"file": (name, data, media_type)},
            headers=auth("editor"),
        )
        assert sent.status_code == 201, sent.text
    for to, who in (("in_review", "editor"), ("approved", "reviewer")):
        assert client.post(
            f"/api/v1/materials/{material.id}/transitions", json={"to": to}, headers=auth(who)
        ).is_success
    return str(material.id)


@pytest.fixture
def package(client, make_unit, publish, approved, hostile):
    unit = make_unit("READER-POST", border_routes=["VN-CN"])
    bundle = publish(CN, materials=[hostile, *approved(1, title="Lớp học xóa mù chữ cho phụ nữ")], priority="urgent")
    response = client.get(f"/api/v1/feed/bundles/{bundle['id']}/package", headers=unit.headers)
    assert response.status_code == 200, response.text
    return bundle, zipfile.ZipFile(io.BytesIO(response.content)), response.content, unit


def _page(archive: zipfile.ZipFile, material_id: str) -> str:
    return archive.read(f"materials/001-{material_id}/material.html").decode()


def test_body_is_rendered_markdown_with_everything_active_or_remote_stripped(package, hostile):
    _, archive, _, _ = package
    page = _page(archive, hostile)
    assert outside_references(page) == []
    assert [e.text for e in elements(page, "em")] == ["nhấn mạnh"] and elements(page, "h2")[0].text == "Tiêu đề phụ"
    assert elements(page, "script") == [] and elements(page, "iframe") == []
    assert [d.get("class") for d in elements(page, "div")] == ["body"]
    assert not [a for a in elements(page, "a") if "javascript" in (a.get("href") or "")]
    assert "alert(&quot;x&quot;)" not in page and 'alert("x")' not in page and "style=" not in page
    text = text_of(page)
    assert "trang ngoài" in text and "Hình ảnh ngoài gói: ảnh ngoài" in text


def test_names_labels_and_dates_instead_of_codes(package, hostile):
    _, archive, _, _ = package
    facts = dict(
        zip(
            [dt.text for dt in elements(_page(archive, hostile), "dt")],
            ["".join(dd.itertext()) for dd in elements(_page(archive, hostile), "dd")],
            strict=True,
        )
    )
    assert facts["Loại"] == "Bài viết" and facts["Ngôn ngữ"] == "Tiếng Việt"
    assert facts["Tuyến biên giới"] == "Việt Nam - Trung Quốc" and facts["Tỉnh"] == "Lào Cai"
    assert facts["Chủ đề"] != "culture-heritage" and "-" not in facts["Chủ đề"]
    assert facts["Dân tộc"].startswith("Mông (tên gọi khác:") and "; Dao (tên gọi khác:" in facts["Dân tộc"]
    for derogatory in ("Mèo", "Mán", "Mọi"):
        assert derogatory not in facts["Dân tộc"], derogatory
    index = text_of(archive.read("index.html"))
    assert re.search(r"Phát hành \d{2}:\d{2} \d{2}/\d{2}/\d{4}", index) and "KHẨN" in index
    assert "Mức độ: Khẩn" in index and "urgent" not in index


def test_attachments_are_shown_where_a_browser_can(package, hostile):
    _, archive, _, _ = package
    page = _page(archive, hostile)
    folder = f"materials/001-{hostile}/"
    listed = {f["path"] for f in json.loads(archive.read("manifest.json"))["files"]}
    image = next(img for img in elements(page, "img") if img.get("alt") == "ảnh.png")
    (audio,) = elements(page, "audio")
    assert audio.get("controls") is not None
    links = {a.text: a.get("href") for a in elements(page, "a")}
    pdf = next(href for text, href in links.items() if text and text.startswith("Mở tài liệu PDF"))
    other = next(a for a in elements(page, "a") if (a.text or "").startswith("Tải về: ghi chép.txt"))
    assert other.get("download") is not None and "1,1 KB" in text_of(page)
    for href in (image.get("src"), audio.get("src"), pdf, other.get("href")):
        assert folder + unquote(href) in listed, href


def test_search_index_is_local_folded_and_listed(package, hostile):
    _, archive, _, _ = package
    manifest = json.loads(archive.read("manifest.json"))
    outside_manifest = {"manifest.json", "manifest.sig", "signer.json"}
    assert {f["path"] for f in manifest["files"]} == set(archive.namelist()) - outside_manifest
    script = archive.read("search.js").decode()
    assert "http" not in script and "fetch(" not in script and "XMLHttpRequest" not in script
    data = json.loads(re.search(r"var data = (\{.*?\});\n", script).group(1))
    entry = next(item for item in data["items"] if hostile in item["p"])
    assert fold("Đồng bào Mông") in entry["f"] and "dong bao mong" in entry["f"] and "đ" not in entry["f"]
    assert data["special"]["đ"] == "d" and data["special"]["Đ"] == "d"
    index = archive.read("index.html").decode()
    assert [s.get("src") for s in elements(index, "script")] == ["search.js"]
    assert outside_references(index) == []
    csp = next(m.get("content") for m in elements(index, "meta") if m.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "http" not in csp


def test_every_page_parses_and_the_package_is_deterministic(client, settings, package):
    bundle, archive, first, unit = package
    for name in archive.namelist():
        if name.endswith(".html"):
            parse_strict(archive.read(name))
    for cached in (settings.packages_dir / bundle["id"]).glob("*.zip"):
        cached.unlink()  # rebuilt from the database: the same bytes
    again = client.get(f"/api/v1/feed/bundles/{bundle['id']}/package", headers=unit.headers)
    assert again.status_code == 200 and again.content == first


def test_province_names_follow_the_succession(session):
    names = labels.Names.load(session)
    ha_giang = taxonomy_service.resolve_province(session, "Hà Giang", ["p"], on=date(2024, 1, 1))
    assert names.province_names([ha_giang.id], date(2024, 1, 1), date(2026, 12, 2)) == ["Hà Giang (nay là Tuyên Quang)"]
    assert names.province_names([ha_giang.id], date(2026, 1, 1), date(2026, 12, 2)) == ["Tuyên Quang"]
    assert names.province_names([ha_giang.id], date(2024, 1, 1), date(2024, 2, 1)) == ["Hà Giang"]


def test_dates_sizes_and_labels_as_written_in_vietnam():
    assert labels.vn_date("2026-12-01T20:30:00+00:00") == "02/12/2026"
    assert labels.vn_datetime("2026-12-01T20:30:00+00:00") == "03:30 02/12/2026"
    assert labels.vn_size(512) == "512 byte" and labels.vn_size(1536) == "1,5 KB"
    assert labels.label(labels.KINDS, "radio_script") == "Kịch bản phát thanh"
