"""Highlights: found by folding, shown on the original text, HTML-safe, short."""

from app.search.highlight import FRAGMENT_CHARS, MAX_FRAGMENTS, highlight


def test_folded_query_marks_the_original_words():
    assert highlight("Đồng bào dân tộc H'Mông ở Đắk Lắk", "dan toc hmong dak") == [
        "Đồng bào <mark>dân</mark> <mark>tộc</mark> H'Mông ở <mark>Đắk</mark> Lắk"
    ]


def test_whole_words_only():
    assert highlight("Mông Móng mong mongolia", "mong") == [
        "<mark>Mông</mark> <mark>Móng</mark> <mark>mong</mark> mongolia"
    ]


def test_text_in_decomposed_form_is_shown_in_nfc():
    decomposed = "Tie\u0302\u0301ng Mo\u0302ng"
    assert highlight(decomposed, "tieng") == ["<mark>Tiếng</mark> Mông"]


def test_everything_outside_the_marks_is_escaped():
    assert highlight('<script>alert("x")</script> Mông & Dao', "mong dao") == [
        '&lt;script&gt;alert("x")&lt;/script&gt; <mark>Mông</mark> &amp; <mark>Dao</mark>'
    ]


def test_long_text_gives_at_most_three_short_fragments():
    text = " ".join(["Bản tin biên giới hôm nay có nhiều nội dung khác nhau về đời sống."] * 40)
    fragments = highlight(text, "bien gioi")
    assert len(fragments) == MAX_FRAGMENTS
    assert all(len(f.replace("<mark>", "").replace("</mark>", "")) <= FRAGMENT_CHARS for f in fragments)
    assert all("<mark>biên</mark> <mark>giới</mark>" in f for f in fragments)


def test_nothing_to_highlight():
    assert highlight("Bản tin", "mong") == []
    assert highlight("Bản tin", None) == []
    assert highlight("", "ban") == []
    assert highlight("Bản tin", "!!!") == []
