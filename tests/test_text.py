"""fold(): the one place Vietnamese text loses its diacritics."""

import unicodedata

import pytest

from app import text as text_module
from app.text import _FOLD_TABLE, fold, fold_with_offsets, nfc, query_words, squash


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
