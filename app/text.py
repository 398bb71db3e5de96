"""The one place Vietnamese text is normalised and folded.

Storage is NFC. Matching that ignores diacritics goes through `fold()`: NFD, drop combining
marks, đ/Đ to d, lowercase. Unicode decomposition alone leaves đ untouched, hence the map.
`fold_with_offsets()` keeps, for every folded character, the index of the original character it
came from, so matches found in folded text can be highlighted on the original.
"""

import re
import unicodedata
from collections.abc import Sequence

# Letters that Unicode decomposition leaves whole; the offline packages' search box folds with the same map.
SPECIAL_FOLDS = {"đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "ł": "l", "Ł": "l", "ø": "o", "Ø": "o"}
_SPECIAL = str.maketrans(SPECIAL_FOLDS)
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


class _FoldedRuns(dict[str, str]):
    """Space-separated runs of text ("đồng", "bào,") -> folded, remembered. `str.translate`
    looks every character up in a Python mapping (about 60 ns each); text repeats a few thousand
    runs, and a dictionary hit per run is several times cheaper. Folding is per character, so
    folding the runs and joining them with the (unchanged) spaces is folding the whole.
    Bounded: past the limit, new runs are folded but not kept."""

    LIMIT = 100_000

    def __missing__(self, run: str) -> str:
        folded = run.translate(_FOLD_TABLE)
        if len(self) < self.LIMIT and len(run) <= 64:
            self[run] = folded
        return folded


_FOLDED_RUNS = _FoldedRuns()


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


def squash(value: str) -> str:
    """Folded, with hyphens, apostrophes and spaces removed: 'H'Mông' and 'HMông' compare equal."""
    return re.sub(r"[\s\-'’`ʼ.]+", "", fold(value))
