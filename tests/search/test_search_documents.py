"""What the backends index for a material: folded text and the `_bulk` body (no server contacted).

Runs in both configurations: nothing here needs a cluster.
"""

import json
import uuid
from datetime import UTC, datetime

import pytest

from app.search.backend import ClaimDocument, SearchDocument
from app.search.elasticsearch_claims import claim_operations
from app.search.elasticsearch_documents import bulk_body, index_operations
from app.text import fold, folded_text, words


def _by_words(value: str) -> str:
    """The definition: every word of the text, folded, space-separated."""
    return " ".join(fold(word) for word in words(value))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "Dân tộc H'Mông, Đắk Lắk",
        "đồng bào - ... (Thái)\tở\nbiên giới\u00a0Việt–Lào",
        "a\u0301b c\u0323d",  # combining marks that NFC composes, and one it leaves apart
        "x\u0330y",  # a combining mark NFC cannot compose: it separates two words
        "số 12,5% và 3/4; e-mail: ai@ví.dụ",
        "ΑΘΗΝΑ İstanbul straße ǅ ﬁ",
        "— … «» ",
    ],
)
def test_folded_text_is_the_folded_words(value):
    assert folded_text(value) == _by_words(value)
    # Twice: the second time from what the first one remembered.
    assert folded_text(value) == _by_words(value)


def _document(**changes) -> SearchDocument:
    values = {
        "id": uuid.UUID("0190a5c2-7d3e-7b1a-9c4f-2d6e8f0a1b2c"),
        "version": 3,
        "title": 'Tin "giả" về \\ Đắk Lắk',
        "summary": "",
        "body": "Dòng một\nDòng hai\t\u2028 emoji 😀",
        "kind": "article",
        "language": "vi",
        "classification": "public",
        "status": "published",
        "ethnic_groups": ["01", "08"],
        "border_routes": ["VN-LA"],
        "provinces": ["12"],
        "topics": [],
        "published_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 2, 3, 4, 6, 7, tzinfo=UTC),
        "family": None,
    }
    return SearchDocument(**{**values, **changes})


def test_bulk_body_is_the_serialised_index_operations():
    docs = [_document(), _document(id=uuid.uuid4(), version=1, published_at=None, family=uuid.uuid4())]
    index = 'ttdn-"odd"-index'
    expected = "".join(
        json.dumps(op, ensure_ascii=False, separators=(",", ":")) + "\n" for op in index_operations(index, docs)
    )
    body = bulk_body(index, docs)
    assert body == expected.encode("utf-8")
    assert [json.loads(line) for line in body.decode().split("\n")[:-1]] == index_operations(index, docs)
    assert bulk_body(index, []) == b""


def test_the_folded_fields_of_a_batch_are_each_text_folded():
    docs = [
        _document(),
        _document(id=uuid.uuid4(), title="ΑΘΗΝΑ – Đắk Lắk", summary="H’Mông, Ê Đê", body=""),
        _document(id=uuid.uuid4(), title="x", summary="", body="中文 dân tộc\u00a0Mông"),
    ]
    sources = index_operations("i", docs)[1::2]
    for doc, source in zip(docs, sources, strict=True):
        assert [source["title_folded"], source["summary_folded"], source["body_folded"]] == [
            folded_text(doc.title),
            folded_text(doc.summary),
            folded_text(doc.body),
        ]


def test_claim_operations_fold_each_claim_text():
    texts = ["Tin giả về đồng bào H'Mông", "", "中文 – Lào", "x\u0330y"]
    docs = [ClaimDocument(id=uuid.uuid4(), version=1, status="open", text=text) for text in texts]
    (operations,) = claim_operations("claims", docs)
    assert [op["folded"] for op in operations[1::2]] == [folded_text(text) for text in texts]
    assert [op["index"]["_id"] for op in operations[::2]] == [str(doc.id) for doc in docs]
