"""The built-in backend's bitmaps: each way of building one gives the same number."""

import random

import pytest

from app.search import bitmaps as bm


def _reference(doc_ids: list[int]) -> int:
    return sum(1 << doc_id for doc_id in set(doc_ids))


@pytest.mark.parametrize("count", [1, 2, 31, 32, 33, 500, 3_000, 64_000, 100_000])
def test_bitmap_of_sparse_and_dense_sets(count: int) -> None:
    # Below one document in 32 the bits are set one by one; from there, through a byte per document.
    doc_ids = random.Random(count).sample(range(100_000), count)
    assert bm.bitmap(doc_ids) == _reference(doc_ids)


def test_bitmap_edges() -> None:
    assert bm.bitmap([]) == 0
    assert bm.bitmap([0]) == 1
    assert bm.bitmap([3, 1, 3]) == 0b1010  # repeated and unsorted numbers
    assert bm.bitmap(iter([7, 8])) == 0b110000000  # any iterable
    dense = list(range(0, 4096, 2))
    assert bm.bitmap(dense) == _reference(dense)
    assert bm.members_list(bm.bitmap(dense)) == dense
