"""Attachment files: a refused upload leaves nothing behind; files nothing references are collected."""

import hashlib
import io
import os
import time

from typer.testing import CliRunner

from app.cli import cli
from app.materials import attachments
from app.materials.storage import BlobStore
from tests.factories import make_material

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"kept" * 500
DAY = 24 * 3600


def upload(client, headers, material_id, name, data, content_type="application/octet-stream"):
    return client.post(
        f"/api/v1/materials/{material_id}/attachments", files={"file": (name, data, content_type)}, headers=headers
    )


def stored(settings, data: bytes) -> list:
    return [p for p in settings.blob_dir.rglob(hashlib.sha256(data).hexdigest()) if p.is_file()]


def test_refused_uploads_leave_no_file(client, auth, session, users, settings):
    material = make_material(session, users["editor"])
    session.commit()
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 200 + os.urandom(16)
    mismatch = PDF + os.urandom(16)
    assert upload(client, auth("editor"), material.id, "tool", elf).status_code == 415
    assert upload(client, auth("editor"), material.id, "a.png", mismatch, "image/png").status_code == 415
    assert stored(settings, elf) == [] and stored(settings, mismatch) == []
    assert list((settings.blob_dir / "tmp").iterdir()) == []


def _age(path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_gc_collects_old_unreferenced_files_only(client, auth, session, users, settings):
    material = make_material(session, users["editor"])
    session.commit()
    assert upload(client, auth("editor"), material.id, "a.pdf", PDF).status_code == 201
    store = BlobStore(settings.blob_dir)
    referenced = stored(settings, PDF)[0]
    orphan_old = b"an upload whose transaction rolled back " + os.urandom(8)
    orphan_new = b"an upload that has not committed yet " + os.urandom(8)
    for data in (orphan_old, orphan_new):
        store.put(io.BytesIO(data), 1024)
    temp = settings.blob_dir / "tmp" / "upload-crashed"
    temp.write_bytes(b"half a file")
    for path in (referenced, stored(settings, orphan_old)[0], temp):
        _age(path, 2 * DAY)

    files, size = attachments.collect_blobs(session, settings, DAY, dry_run=True)
    assert files >= 2 and stored(settings, orphan_old)  # a dry run removes nothing
    files, size = attachments.collect_blobs(session, settings, DAY)
    assert files >= 2 and size >= len(orphan_old) + len(b"half a file")
    assert stored(settings, orphan_old) == [] and not temp.exists()
    assert stored(settings, PDF) and stored(settings, orphan_new)  # referenced; within the grace period
    assert client.get(f"/api/v1/materials/{material.id}", headers=auth("editor")).json()["attachments"]


def test_gc_keeps_files_that_only_a_saved_version_names(client, auth, session, users, settings):
    material = make_material(session, users["editor"])
    session.commit()
    data = PDF + os.urandom(16)
    assert upload(client, auth("editor"), material.id, "v.pdf", data).status_code == 201
    session.execute(attachments.Attachment.__table__.delete().where(attachments.Attachment.material_id == material.id))
    session.commit()
    _age(stored(settings, data)[0], 2 * DAY)
    attachments.collect_blobs(session, settings, DAY)
    assert stored(settings, data)  # revision 2 of the material still lists it


def test_gc_blobs_command(scratch):
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    orphan = scratch / "blobs" / "ab" / "cd" / ("abcd" + "0" * 60)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"orphan")
    _age(orphan, 2 * DAY)
    dry = runner.invoke(cli, ["gc-blobs", "--dry-run"])
    assert dry.exit_code == 0 and "would remove 1 unreferenced files (6 bytes)" in dry.output and orphan.exists()
    done = runner.invoke(cli, ["gc-blobs", "--grace-hours", "1"])
    assert done.exit_code == 0 and "removed 1 unreferenced files" in done.output and not orphan.exists()
    assert runner.invoke(cli, ["gc-blobs", "--grace-hours", "-1"]).exit_code == 1
