"""Package entry names stay within 255 bytes of UTF-8 per name, so every file system extracts them."""

import io
import zipfile

from app.feeds.package import NAME_MAX_BYTES, entry_name
from tests.factories import make_material

CN = {"border_routes": ["VN-CN"]}
LONG_NAME = "Tài liệu tuyên truyền về đồng bào dân tộc thiểu số vùng biên giới Việt Nam " * 4


def test_entry_names_are_cut_by_bytes_keep_the_extension_and_stay_unique():
    ids = ["01900000-0000-7000-8000-000000000001", "01900000-0000-7000-8000-000000000002"]
    names = [entry_name(i, LONG_NAME[:250] + ".pdf") for i in ids]
    assert names[0] != names[1]
    for name in names:
        assert len(name.encode("utf-8")) <= NAME_MAX_BYTES and name.endswith(".pdf")
        assert name.encode("utf-8").decode("utf-8") == name  # no character split in two
    assert entry_name(ids[0], "ngắn.pdf") == f"{ids[0]}-ngắn.pdf"
    assert entry_name(ids[0], LONG_NAME[:250] + ".pdf") == names[0]  # deterministic
    no_extension = entry_name(ids[0], "đ" * 250)
    assert len(no_extension.encode("utf-8")) <= NAME_MAX_BYTES


def test_a_package_with_a_long_vietnamese_file_name_extracts(
    client, auth, session, users, make_unit, publish, tmp_path
):
    material = make_material(session, users["editor"])
    session.commit()
    filename = LONG_NAME[:250].strip() + ".txt"
    assert len(filename) <= 255 < len(filename.encode("utf-8"))
    files = {"file": (filename, "Bản tin phát thanh.\n".encode() * 50, "text/plain")}
    uploaded = client.post(f"/api/v1/materials/{material.id}/attachments", files=files, headers=auth("editor"))
    assert uploaded.status_code == 201, uploaded.text
    for to, who in (("in_review", "editor"), ("approved", "reviewer")):
        assert client.post(f"/api/v1/materials/{material.id}/transitions", json={"to": to}, headers=auth(who))
    unit = make_unit("NAMES-POST", border_routes=["VN-CN"])
    bundle = publish(CN, materials=[str(material.id)])
    response = client.get(f"/api/v1/feed/bundles/{bundle['id']}/package", headers=unit.headers)
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        archive.extractall(tmp_path)  # a real directory: "File name too long" before the fix
        names = archive.namelist()
    attachment = [n for n in names if "/attachments/" in n]
    assert len(attachment) == 1 and attachment[0].endswith(".txt")
    assert all(len(part.encode()) <= NAME_MAX_BYTES for n in names for part in n.split("/"))
    assert (tmp_path / attachment[0]).read_bytes() == files["file"][1]
