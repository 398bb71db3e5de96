"""fold(): the one place Vietnamese text loses its diacritics."""

import unicodedata

import pytest

from app.text import fold, fold_with_offsets, nfc, squash


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
