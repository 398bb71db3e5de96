"""`import_lines` and the batch indexer of `ttdn import`, on the configuration's own database
(COPY on PostgreSQL, executemany INSERTs on SQLite) and search backend.

The importer writes plain rows, not ORM objects: these tests read them back through the ORM and
compare them with what the materials service saves for any write.
"""

import json
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.audit.models import AuditRecord
from app.claims.models import Claim
from app.db import utcnow
from app.materials import importer
from app.materials import service as materials_service
from app.materials.models import Material, MaterialRevision, SearchOutbox
from app.materials.schemas import MaterialCreate
from app.search import indexer
from app.search.backend import BackendUnavailable, SearchQuery
from app.search.batch_indexer import BatchIndexer
from app.search.documents import document_for
from app.search.elasticsearch import ElasticsearchBackend
from app.search.factory import build_elasticsearch_client
from app.wiring import register_hooks
from tests.factories import material_data, principal_for
from tests.live import live_database


def lines(*items):
    return [json.dumps(item, ensure_ascii=False) for item in items]


def import_claimed(session_factory, source, batch_size):
    """Import `source` as `ttdn import` does (outbox rows claimed); returns each committed batch's
    (materials, outbox ids), in commit order."""
    committed = []
    importer.import_lines(
        session_factory,
        source,
        batch_size=batch_size,
        on_committed=lambda materials, ids: committed.append((materials, ids)),
        claim_for=indexer.CLAIM_FOR,
    )
    return committed


def outbox_rows(session, ids):
    session.expire_all()
    return session.scalars(select(SearchOutbox).where(SearchOutbox.material_id.in_(ids))).all()


def test_lines_given_as_bytes_are_decoded_one_by_one(session_factory, session):
    first, third = (json.dumps(material_data(title=t), ensure_ascii=False).encode() for t in ("Đầu", "Cuối"))
    report = importer.import_lines(session_factory, [b"\xef\xbb\xbf" + first, b'{"title": "\xc3"}', b"  ", third])
    assert report.imported == 2
    assert report.errors == [(2, "not UTF-8 text: byte 0xc3 at position 12 of the line")]
    assert sorted(session.scalars(select(Material.title))) == ["Cuối", "Đầu"]


def test_a_bytes_line_that_is_not_json_is_placed_by_characters_not_bytes(session_factory):
    # orjson reads the bytes; a line it refuses is decoded first, so "Đầu" counts as 3, not 6,
    # and a byte order mark before bad JSON is not counted at all.
    bad = '{"title": "Đầu" x}'.encode()
    report = importer.import_lines(session_factory, [bad, b"\xef\xbb\xbf" + bad])
    reason = "not JSON (each line is one JSON object): unexpected character, expected ',' or '}'"
    assert report.errors == [(1, f"{reason} at position 17 of the line"), (2, f"{reason} at position 17 of the line")]


def test_a_line_that_is_not_json_or_has_an_empty_title_says_so_in_plain_words(session_factory):
    report = importer.import_lines(session_factory, ["not json", json.dumps(material_data(title="   "))])
    assert report.imported == 0
    assert report.errors == [
        (1, "not JSON (each line is one JSON object): invalid literal, expected 'null' at position 1 of the line"),
        (2, "title: Must not be empty."),
    ]


def test_imported_rows_are_what_a_write_saves(session_factory, session, users):
    actor = principal_for(users["editor"])
    source = lines(
        material_data(
            title="Đồng bào Mông giữ gìn văn hóa",
            status="published",
            ethnic_groups=["H'Mông", "Thái", "Mông"],
            border_routes=["Lào"],
            provinces=["Điện Biên"],
            topics=["culture-heritage"],
        ),
        material_data(title="Bản nháp", summary="", classification="internal"),
    )
    report = importer.import_lines(session_factory, source, actor)
    assert (report.imported, report.errors) == (2, [])
    materials = session.scalars(select(Material).order_by(Material.title)).all()
    assert [m.title for m in materials] == ["Bản nháp", "Đồng bào Mông giữ gìn văn hóa"]
    draft, published = materials
    assert (draft.status, draft.classification, draft.published_at, draft.version) == ("draft", "internal", None, 1)
    assert published.status == "published" and published.published_at is not None
    assert published.created_by == actor.id and published.last_edited_by == actor.id
    assert published.tag_values("ethnic_group") == ["08", "03"]  # H'Mông and Mông are one group
    assert [(t.facet, t.position) for t in published.tags if t.facet == "ethnic_group"] == [
        ("ethnic_group", 0),
        ("ethnic_group", 1),
    ]
    for material in materials:
        revision = session.get(MaterialRevision, (material.id, 1))
        assert revision.change == "imported" and revision.saved_by == actor.id
        assert revision.snapshot == materials_service.snapshot(material)
    pending = outbox_rows(session, [m.id for m in materials])
    assert sorted((row.version, row.processed_at, row.claimed_until) for row in pending) == [(1, None, None)] * 2
    audit = session.scalars(select(AuditRecord).where(AuditRecord.action == "material.imported")).one()
    assert audit.changes == {"ids": [str(m.id) for m in (published, draft)], "count": 2}
    assert audit.actor_id == str(actor.id)
    # As stored, not as read back: every id column holds the id's usual 36-character text (a
    # UUID reads back from 32 bare hex digits too, but SQL comparing ids as text would not
    # find it). Timestamps are checked through the snapshot above: it holds the values written.
    ids = {str(draft.id), str(published.id)}
    stored = {
        "materials": ("SELECT id, created_by FROM materials WHERE id IN (:a, :b)", ids),
        "material_tags": (
            "SELECT material_id, :actor FROM material_tags WHERE material_id IN (:a, :b)",
            {str(published.id)},
        ),
        "material_revisions": (
            "SELECT material_id, saved_by FROM material_revisions WHERE material_id IN (:a, :b)",
            ids,
        ),
        "search_outbox": ("SELECT material_id, :actor FROM search_outbox WHERE material_id IN (:a, :b)", ids),
    }
    for table, (query, expected) in stored.items():
        rows = session.execute(text(query), {"a": str(draft.id), "b": str(published.id), "actor": str(actor.id)}).all()
        assert {row[0] for row in rows} == expected, table
        assert {row[1] for row in rows} == {str(actor.id)}, table


def test_a_line_that_cannot_be_saved_costs_only_itself(session_factory, session):
    """A batch whose write fails is rolled back whole, then written line by line. The database
    refuses line 2 (the test adds a unique index on titles, and line 1 has the same title)."""
    session.execute(text("CREATE UNIQUE INDEX test_one_title ON materials (title)"))
    source = lines(material_data(title="Một"), material_data(title="Một"), material_data(title="Ba"))
    report = importer.import_lines(session_factory, source)
    assert report.imported == 2
    assert report.errors == [(2, "could not be saved: IntegrityError")]
    titles = session.scalars(select(Material.title).order_by(Material.title)).all()
    assert titles == ["Ba", "Một"]
    assert session.scalars(select(AuditRecord.changes).where(AuditRecord.action == "material.imported")).all() == [
        {"ids": [str(session.scalar(select(Material.id).where(Material.title == t)))], "count": 1}
        for t in ("Một", "Ba")
    ]


def test_sources_and_claims_are_checked_and_rebutted_claims_saved(session_factory, session):
    """A translation's source and a rebuttal's claims get the checks of any new material (a
    422-style reason on the line), and the claims a rebuttal answers are saved with it."""
    register_hooks()  # as `ttdn` does: the claims domain checks the claims a rebuttal names
    source = materials_service.create_material(session, MaterialCreate(**material_data(title="Nguồn")), None)
    claim = Claim(title="Tin đồn thu hồi đất", deadline_at=utcnow() + timedelta(days=1))
    session.add(claim)
    session.flush()
    merged = Claim(title="Tin đồn trùng", deadline_at=utcnow() + timedelta(days=1), merged_into_id=claim.id)
    session.add(merged)
    session.flush()
    rebut = {"kind": "rebuttal", "body": "Thông tin sai sự thật."}
    source_lines = lines(
        material_data(title="Bản dịch", language="hnj", translation_of=str(source.id)),
        material_data(title="Cùng tiếng", language="vi", translation_of=str(source.id)),
        material_data(title="Bác bỏ", **rebut, rebuts=[{"claim_id": str(claim.id), "verdict": "false"}]),
        material_data(title="Không có", **rebut, rebuts=[{"claim_id": str(uuid.uuid4()), "verdict": "false"}]),
        material_data(title="Đã gộp", **rebut, rebuts=[{"claim_id": str(merged.id), "verdict": "misleading"}]),
    )
    report = importer.import_lines(session_factory, source_lines)
    assert report.imported == 2
    assert [number for number, _ in report.errors] == [2, 4, 5]
    assert report.errors[0][1].startswith("translation_of: The source is in 'vi' too")
    assert report.errors[1][1].startswith("rebuts.0.claim_id: No claim with id")
    assert report.errors[2][1].startswith(f"rebuts.0.claim_id: Claim {merged.id} was merged into {claim.id}")
    session.expire_all()
    translation = session.scalars(select(Material).where(Material.title == "Bản dịch")).one()
    assert translation.translation_of == source.id
    rebuttal = session.scalars(select(Material).where(Material.title == "Bác bỏ")).one()
    assert [(r.claim_id, r.verdict, r.position) for r in rebuttal.rebuts] == [(claim.id, "false", 0)]
    revision = session.get(MaterialRevision, (rebuttal.id, 1))
    assert revision.snapshot == materials_service.snapshot(rebuttal)
    assert revision.snapshot["rebuts"] == [{"claim_id": str(claim.id), "verdict": "false"}]


@pytest.mark.parametrize("senders", [1, 2])
def test_committed_batches_are_claimed_then_indexed_from_the_built_documents(
    session_factory, session, search_backend, senders
):
    if senders > 1 and not isinstance(search_backend, ElasticsearchBackend):
        pytest.skip("two senders only for a search server (`ttdn import` sends one at a time to the built-in one)")
    source = lines(*(material_data(title=f"Tài liệu nhập số {n}", status="published") for n in range(5)))
    committed = import_claimed(session_factory, source, batch_size=2)
    assert [len(materials) for materials, _ in committed] == [2, 2, 1]
    ids = [m.id for materials, _ in committed for m in materials]
    # Claimed in the batch's own transaction: no other indexer sends them meanwhile.
    assert all(row.claimed_until is not None for row in outbox_rows(session, ids))
    assert indexer.drain(session_factory, search_backend) == 0
    for materials, _ in committed:
        for material in materials:
            assert document_for(material) == document_for(session.get(Material, material.id))

    batches = BatchIndexer(session_factory, search_backend, senders=senders)
    for materials, outbox_ids in committed:
        batches.submit(materials, outbox_ids)
    assert batches.close() == 5
    rows = outbox_rows(session, ids)
    assert len(rows) == 5 and all(r.processed_at is not None and r.claimed_until is None for r in rows)
    search_backend.refresh()
    assert {hit.id for hit in search_backend.search(SearchQuery(text="tai lieu nhap", limit=10)).hits} == set(ids)


@pytest.mark.parametrize("senders", [1, 2])
def test_a_backend_that_fails_leaves_the_batches_pending(session_factory, session, settings, senders):
    dead = ElasticsearchBackend(build_elasticsearch_client("http://127.0.0.1:9"), settings.elasticsearch_index)
    committed = import_claimed(
        session_factory, lines(*(material_data(title=f"Chưa lập chỉ mục {n}") for n in range(3))), batch_size=1
    )
    batches = BatchIndexer(session_factory, dead, senders=senders)
    for materials, outbox_ids in committed:
        batches.submit(materials, outbox_ids)
    with pytest.raises(BackendUnavailable):
        batches.close()
    rows = outbox_rows(session, [m.id for materials, _ in committed for m in materials])
    # Released, not lost: the indexer (or `ttdn reindex`) takes them up.
    assert len(rows) == 3 and all(r.processed_at is None and r.claimed_until is None for r in rows)
    with session_factory() as check:
        assert indexer.backlog(check) == 3


def test_written_ahead_batches_commit_in_line_order(tmp_path, monkeypatch):
    """With write-ahead (two writing sessions on PostgreSQL), a batch whose write is slow still
    commits before the next one, every committed batch reaches `on_committed` in line order,
    and a line that cannot be saved costs only itself."""
    write = importer._write

    def slow_first_batch(session, materials, actor, claimed_until):
        ids = write(session, materials, actor, claimed_until)
        if materials[0].title == "Bài 1":
            time.sleep(0.5)  # the next batch is written meanwhile, and must wait to commit
        return ids

    monkeypatch.setattr(importer, "_write", slow_first_batch)
    items = [material_data(title=f"Bài {n}") for n in range(1, 10)]
    items[4]["title"] = "Bài 3"  # line 5: refused by the database (a unique index on titles, added below)
    committed = []
    with live_database(tmp_path) as db:
        with db.engine.begin() as connection:
            connection.execute(text("CREATE UNIQUE INDEX test_one_title ON materials (title)"))
        report = importer.import_lines(
            db.session_factory,
            lines(*items),
            batch_size=2,
            write_ahead=True,
            on_committed=lambda materials, ids: committed.append(([m.title for m in materials], ids)),
            claim_for=indexer.CLAIM_FOR,
        )
        with db.session_factory() as check:
            saved = set(check.scalars(select(Material.title)))
    assert report.imported == 8
    assert report.errors == [(5, "could not be saved: IntegrityError")]
    titles = [title for batch, _ in committed for title in batch]
    assert titles == [f"Bài {n}" for n in (1, 2, 3, 4, 6, 7, 8, 9)]
    assert [len(ids) for _, ids in committed] == [len(batch) for batch, _ in committed]
    assert saved == set(titles)
