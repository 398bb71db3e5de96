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


def test_a_word_inside_a_longer_word_is_not_marked_and_the_next_one_is():
    # "mong" ends "hmong" and "xmong" (no word break before it); the next whole word still counts.
    assert highlight("xmong hmong-mong Mông_mong mong", "mong") == [
        "xmong hmong-<mark>mong</mark> Mông_mong <mark>mong</mark>"
    ]
    assert highlight("tintin tin", "tin") == ["tintin <mark>tin</mark>"]
    assert highlight("Đồng", "dong") == ["<mark>Đồng</mark>"]


def test_matches_after_the_third_fragment_do_not_change_the_first_three():
    words = ["Mông"] + ["khác"] * 60 + ["Dao"] + ["khác"] * 60 + ["Thái"] + ["khác"] * 60 + ["Tày"]
    fragments = highlight(" ".join(words), "mong dao thai tay")
    assert len(fragments) == MAX_FRAGMENTS
    assert [f.count("<mark>") for f in fragments] == [1, 1, 1]
    assert "Tày" not in " ".join(fragments)


def test_text_that_looks_like_a_mark_is_escaped_between_real_marks():
    # Escaping goes by position (text, tag, text, tag...), never by what a piece looks like.
    assert highlight("dân <mark> dân & tộc>", "dan") == ["<mark>dân</mark> &lt;mark&gt; <mark>dân</mark> &amp; tộc&gt;"]
    assert highlight("<mark>dân</mark>", "dan") == ["&lt;mark&gt;<mark>dân</mark>&lt;/mark&gt;"]


def test_a_name_a_word_spells_is_marked_where_its_words_are_together():
    text = "Lễ hội Ê Đê, sử thi Ê-đê; để ê chề, Ede"
    assert highlight(text, "Ede", (("e", "de"),)) == [
        "Lễ hội <mark>Ê Đê</mark>, sử thi <mark>Ê-đê</mark>; để ê chề, <mark>Ede</mark>"
    ]
    assert highlight("Người H'Mông, người Mông", "hmong", (("mong",),)) == [
        "Người H'<mark>Mông</mark>, người <mark>Mông</mark>"
    ]
