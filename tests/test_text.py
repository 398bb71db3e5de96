"""fold(): the one place Vietnamese text loses its diacritics."""

import random
import unicodedata

import pytest

from app import text as text_module
from app.text import _FOLD_TABLE, fold, fold_with_offsets, folded_text, folded_texts, nfc, query_words, squash


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Dân tộc Mông", "dan toc mong"),
        ("ĐẮK LẮK", "dak lak"),
        ("đồng bào Ê Đê", "dong bao e de"),
        ("Hữu nghị biên giới Việt - Lào", "huu nghi bien gioi viet - lao"),
        ("Khơ Mú, Xơ Đăng, Bru-Vân Kiều", "kho mu, xo dang, bru-van kieu"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


def test_fold_handles_decomposed_input_like_composed():
    composed = "Tiếng Việt"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert fold(decomposed) == fold(composed) == "tieng viet"
    assert nfc(decomposed) == composed


def test_offsets_map_folded_characters_back_to_the_original():
    original = "Đồng bào Mông"
    folded, offsets = fold_with_offsets(original)
    start = folded.index("mong")
    assert original[offsets[start] : offsets[start + 3] + 1] == "Mông"
    assert len(offsets) == len(folded)


def test_squash_ignores_apostrophes_hyphens_and_spaces():
    assert squash("H'Mông") == squash("HMông") == squash("h-mong") == "hmong"


@pytest.mark.parametrize(
    "text",
    [
        "  Đồng  bào\u00a0Mông\tĐắk\nLắk  ",
        " ",
        "",
        "x" * 500 + " Điện Biên " + "Đ" * 200,
        "ΣΟΦΟΣ Straße ﬁ İ",
        "中文 ລາວ ខ្មែរ dân tộc",
    ],
)
def test_fold_by_runs_is_fold_of_every_character(text):
    # fold() folds space-separated runs (remembered) and joins them: the same as per character.
    expected = nfc(text).translate(_FOLD_TABLE)
    assert fold(text) == expected
    assert fold_with_offsets(nfc(text))[0] == expected


def test_fold_stays_right_once_the_remembered_runs_are_full(monkeypatch):
    full = text_module.Remembered(text_module._FOLDED_RUNS.function, limit=0)
    monkeypatch.setattr(text_module, "_FOLDED_RUNS", full)
    assert fold("Dân tộc Mông Dân") == "dan toc mong dan"
    assert len(text_module._FOLDED_RUNS) == 0


def test_query_words_are_each_given_once_in_the_order_typed():
    assert query_words("Mông mông MÔNG dân tộc Mông") == (["mong", "dan", "toc"], ["Mông", "dân", "tộc"])
    assert query_words("ở Ở " * 125) == (["o"], ["ở"])
    assert query_words("!!! …") == ([], [])


def test_a_letter_and_apostrophe_before_a_name_is_not_required():
    assert query_words("H'Mông") == (["mong"], ["H", "Mông"])
    assert query_words("dân tộc M’Nông") == (["dan", "toc", "nong"], ["dân", "tộc", "M", "Nông"])


def _texts_around(characters: list[str]) -> list[str]:
    """Each character alone, inside a word, between spaces, and at both ends of a text."""
    return [t for ch in characters for t in (ch, f"ab{ch}cd", f"x {ch} y", f"{ch}{ch}x{ch}")]


def test_folded_texts_fold_every_character_as_folded_text_does():
    # Every code point of the table and some past it: the batch way gives what the word-by-word one does.
    characters = [chr(point) for point in range(text_module._TABLE_END + 64) if not 0xD800 <= point <= 0xDFFF]
    characters += ["\uffff", "\U0001f600", "中", "ລ", "ខ្មែ"]
    texts = _texts_around(characters)
    assert folded_texts(texts) == [folded_text(text) for text in texts]


def test_folded_texts_of_mixed_texts_equal_folding_each():
    rng = random.Random(20261205)
    pool = [*"aăâđêôơưyAĂĐ Ệệ _09", " ", "  ", "\t", "\n", "\u00a0", "-", "'", "’", "…", ",.", "ð", "ł", "ß"]
    pool += ["\u0301", "x\u0330", "İ", "ﬁ", "Σ", "中", "😀", "\uffff", "\x00", "\x01"]
    texts = ["".join(rng.choice(pool) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    assert folded_texts(texts) == [folded_text(text) for text in texts]


@pytest.mark.parametrize(
    "texts",
    [
        [],
        [""],
        ["", "", ""],
        ["  Đồng  bào\u00a0Mông\tĐắk\nLắk  ", "", "H'Mông – Việt–Lào", "   "],
        ["a\uffffb", "đ"],  # a text holding the separator the batch joins texts with
        ["x\ud800y", "Lào"],  # a lone surrogate
        ["Dân tộc", "ΑΘΗΝΑ İstanbul", "Lào"],  # a text the table does not know among ones it does
        ["x\u0301", "e\u0302\u0301"],  # decomposed input, composed first
    ],
)
def test_folded_texts_edge_cases(texts):
    assert folded_texts(texts) == [folded_text(text) for text in texts]
