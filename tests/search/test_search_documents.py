"""What the backends index for a material: folded text and the `_bulk` body (no server contacted).

Runs in both configurations: nothing here needs a cluster.
"""

import json
import uuid
from datetime import UTC, datetime

import pytest

from app.search.backend import SearchDocument
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
