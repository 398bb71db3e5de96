"""Bitmaps of document numbers as Python ints: totals and facet counts by AND/OR/popcount."""

from collections.abc import Iterable
from functools import reduce
from operator import or_


def bitmap(doc_ids: Iterable[int]) -> int:
    ids = doc_ids if isinstance(doc_ids, list | tuple) else list(doc_ids)
    if not ids:
        return 0
    top = max(ids)
    if len(ids) * 32 < top:
        # Few documents: set each bit.
        bits = bytearray((top >> 3) + 1)
        for doc_id in ids:
            bits[doc_id >> 3] |= 1 << (doc_id & 7)
        return int.from_bytes(bits, "little")
    # Many (a full-text match over most of the index): one byte per document, then the bytes,
    # highest first, read as binary digits. Setting a byte is cheaper than setting a bit: 3.5
    # against 11 ms for 64,000 of 100,000 documents.
    flags = bytearray(top + 1)
    for doc_id in ids:
        flags[doc_id] = 1
    return int(flags[::-1].translate(_AS_DIGITS), 2)


_AS_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def to_bytes(bits: int) -> bytes:
    return bits.to_bytes((bits.bit_length() + 7) // 8, "little")


def members(bits: int) -> bytes:
    """For membership tests: indexing bytes is cheap, shifting a 100,000-bit int is not."""
    return to_bytes(bits)


def has(members: bytes, doc_id: int) -> bool:
    index = doc_id >> 3
    return index < len(members) and bool(members[index] >> (doc_id & 7) & 1)


def members_list(bits: int) -> list[int]:
    packed = members(bits)
    return [i * 8 + j for i, byte in enumerate(packed) if byte for j in range(8) if byte >> j & 1]


# Byte b of the bitmap as eight bytes, 0 or 1, lowest bit first.
_BYTE_FLAGS = tuple(bytes(b >> i & 1 for i in range(8)) for b in range(256))


def flags(bits: int) -> bytes:
    """One byte per document number, 1 for a member: SQLite tests it with `substr()`."""
    return b"".join(map(_BYTE_FLAGS.__getitem__, members(bits)))


def union(bitmaps: Iterable[int]) -> int:
    return reduce(or_, bitmaps, 0)
