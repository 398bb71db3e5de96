"""The one place Vietnamese text is normalised and folded.

Storage is NFC. Matching that ignores diacritics goes through `fold()`: NFD, drop combining
marks, đ/Đ to d, lowercase. Unicode decomposition alone leaves đ untouched, hence the map.
`fold_with_offsets()` keeps, for every folded character, the index of the original character it
came from, so matches found in folded text can be highlighted on the original.
"""

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy

# Letters that Unicode decomposition leaves whole; the offline packages' search box folds with the same map.
SPECIAL_FOLDS = {"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o"}
# Dashes and apostrophes as typed by word processors fold to the ASCII ones: "Việt Nam – Lào"
# names the route "Việt Nam - Lào", "H’Mông" the people "H'Mông".
PUNCTUATION_FOLDS = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    **dict.fromkeys("\u2018\u2019", "'"),
}
_SPECIAL = str.maketrans({**SPECIAL_FOLDS, **PUNCTUATION_FOLDS})
_WORD = re.compile(r"\w+", re.UNICODE)


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def _fold_char(ch: str) -> str:
    decomposed = unicodedata.normalize("NFD", ch.translate(_SPECIAL))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


class _FoldTable(dict[int, str]):
    """A str.translate table that folds each character the first time it is seen, then remembers:
    folding runs on every search result, and text uses a small alphabet."""

    def __missing__(self, codepoint: int) -> str:
        folded = _fold_char(chr(codepoint))
        self[codepoint] = folded
        return folded


_FOLD_TABLE = _FoldTable()


class Remembered(dict[str, str]):
    """A bounded memo of a pure function of a string: computed on the first lookup and kept while
    fewer than `limit` are kept (and the key has at most `longest` characters); past that,
    computed and not kept. Text repeats a few thousand words and runs, so a dictionary hit
    replaces most of the work. Threads may race to compute a value: both get the same."""

    def __init__(self, function: Callable[[str], str], *, limit: int, longest: int | None = None) -> None:
        super().__init__()
        self.function = function
        self.limit = limit
        self.longest = longest

    def __missing__(self, key: str) -> str:
        value = self.function(key)
        if len(self) < self.limit and (self.longest is None or len(key) <= self.longest):
            self[key] = value
        return value


# Space-separated runs of text ("đồng", "bào,") -> folded. `str.translate` looks every character
# up in a Python mapping (about 60 ns each); a dictionary hit per run is several times cheaper.
# Folding is per character, so folding the runs and joining them with the (unchanged) spaces is
# folding the whole.
_FOLDED_RUNS = Remembered(lambda run: run.translate(_FOLD_TABLE), limit=100_000, longest=64)


def _fold_nfc(value: str) -> str:
    return " ".join(map(_FOLDED_RUNS.__getitem__, value.split(" ")))


def fold(value: str) -> str:
    """'Dân tộc H'Mông, Đắk Lắk' -> "dan toc h'mong, dak lak"."""
    return _fold_nfc(nfc(value))


def fold_with_offsets(value: str) -> tuple[str, Sequence[int]]:
    """Folded text and, per folded character, the index in `value` (NFC) it came from."""
    folded = _fold_nfc(value)
    if len(folded) == len(value):
        # Every character folded to exactly one (the rule for Vietnamese): offsets are the identity.
        return folded, range(len(value))
    out: list[str] = []
    offsets: list[int] = []
    for index, ch in enumerate(value):
        piece = _FOLD_TABLE[ord(ch)]
        out.append(piece)
        offsets.extend([index] * len(piece))
    return "".join(out), offsets


def words(value: str) -> list[str]:
    """Word tokens of NFC text, case and diacritics kept."""
    return _WORD.findall(nfc(value))


def folded_words(value: str) -> list[str]:
    return _WORD.findall(fold(value))


# A letter and an apostrophe before a name: H'Mông, M'Nông, K'Ho ("H'Mông" is written "Mông" too).
_NAME_PREFIX = re.compile(r"(?<!\w)\w'(?=\w)")


def query_words(value: str) -> tuple[list[str], list[str]]:
    """(folded, exact) words of a search query, each once, in the order typed: a word typed
    twice asks for nothing more, and every copy costs the full-text engine another pass. The
    folded words are the ones every match must hold; a letter before an apostrophe is not one of
    them, so "H'Mông" finds texts that say "Mông" too (those that say "H'Mông" rank higher)."""
    exact: dict[str, str] = {}
    for word in words(value):
        exact.setdefault(word.casefold(), word)  # the engines ignore case too
    return list(dict.fromkeys(_WORD.findall(_NAME_PREFIX.sub("", fold(value))))), list(exact.values())


def squash(value: str) -> str:
    """Folded, with hyphens, apostrophes and spaces removed: 'H'Mông' and 'HMông' compare equal."""
    return re.sub(r"[\s\-'’`ʼ.]+", "", fold(value))


def folded_text(value: str) -> str:
    """The folded words of `value`, space-separated: what the search backends index next to the original.

    Splitting into words here, as `folded_words()` does for queries, makes every backend see
    the same tokens ("H'Mông" is "h mong" on both sides) whatever its own tokenizer does.
    """
    # Words never span whitespace, so the words of the text are those of its whitespace-separated
    # pieces, in order; a piece that holds no word ("-", "...") folds to "" and is left out.
    return " ".join(filter(None, map(_PIECES.__getitem__, nfc(value).split())))


def _fold_piece(piece: str) -> str:
    return " ".join(map(fold, words(piece)))


# Whitespace-separated pieces of text ("đồng", "bào,") -> their folded words: looking a piece up
# costs a fraction of finding its words with the regular expression, and Vietnamese is written in
# syllables, a few thousand of which make up most text.
_PIECES = Remembered(_fold_piece, limit=200_000)

# `folded_texts` looks characters below this code point up in a table; a text with one at or
# above it (or any the table does not know) is folded by `folded_text`.
_TABLE_END = 0x2100
_UNKNOWN, _SPACE = 0, ord(" ")
# Between two texts joined for `folded_texts`: a code point past the table, marked as a byte the
# table never gives.
_SEPARATOR, _CUT = "\uffff", 1


@functools.cache
def _character_table() -> "numpy.ndarray[Any, Any]":
    """Code point -> what `folded_text` makes of that character, as one ASCII byte: the folded
    letter of a word character that folds to one ASCII word character ("Ệ" -> "e"), a space for
    a character that is no part of a word (punctuation, spaces), 0 for the others (combining
    marks, letters that stay non-ASCII): those take `folded_text`'s own way. Built from `fold`
    and the word pattern themselves, so the two ways cannot disagree; the last entry stands for
    every code point from `_TABLE_END` on."""
    import numpy  # only the batch paths (import, reindex, indexer) pay for loading it

    table = numpy.zeros(_TABLE_END + 1, dtype=numpy.uint8)
    for point in range(_TABLE_END):
        ch = chr(point)
        if nfc(ch) != ch or unicodedata.combining(ch) or unicodedata.category(ch).startswith("M"):
            continue
        if not _WORD.fullmatch(ch):
            table[point] = _SPACE
        elif (folded := _fold_char(ch)).isascii() and len(folded) == 1 and _WORD.fullmatch(folded):
            table[point] = ord(folded)
    return table


def folded_texts(values: Sequence[str]) -> list[str]:
    """`[folded_text(value) for value in values]`, with most of the work done once for all of them.

    Folding a text word by word costs about 200 ns of Python per word, a fifth of the CPU that
    `ttdn import` itself used (bench/RESULTS.md). Here the texts are joined,
    every character is looked up in `_character_table()` in one vectorised step (numpy), runs of
    spaces are squeezed to one, and the result is cut apart again. A text holding a character
    the table does not know is folded by `folded_text` instead, so the result is the same."""
    import numpy

    texts = [nfc(value) for value in values]
    # A lone surrogate (refused at the API, but not impossible here) becomes a code point the table does not know.
    points = numpy.frombuffer(_SEPARATOR.join(texts).encode("utf-32-le", "surrogatepass"), dtype=numpy.uint32)
    folded = _character_table().take(numpy.minimum(points, _TABLE_END))
    folded[points == ord(_SEPARATOR)] = _CUT
    space = folded == _SPACE
    kept = ~space
    kept[1:] |= ~space[:-1]  # the first space of a run stays (a text's ends are stripped below)
    parts = folded[kept].tobytes().split(_CUT.to_bytes())
    if len(parts) != len(texts):  # a text held the separator itself
        return [folded_text(text) for text in texts]
    return [
        folded_text(text) if _UNKNOWN.to_bytes() in part else part.strip().decode("ascii")
        for text, part in zip(texts, parts, strict=True)
    ]
