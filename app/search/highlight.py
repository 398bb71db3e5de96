"""Highlights on the original text, found by folding: 'dan toc' marks 'dân tộc'.

Matching is on whole folded words, as the backends match; `fold_with_offsets()` maps each
folded match back to the characters of the original (NFC) text, which is what is shown.
Everything outside `<mark>` is HTML-escaped, so a fragment can be rendered as HTML safely.
"""

import html
import re
from functools import lru_cache

from app.search.backend import Form
from app.text import fold_with_offsets, folded_words, nfc

FRAGMENT_CHARS = 150
MAX_FRAGMENTS = 3


def highlight(text: str, query_text: str | None, spelled: tuple[Form, ...] = ()) -> list[str]:
    """Up to three ~150-character fragments of `text` with the query's words in <mark>, and the
    names a query word spells as one word (`spelled`: their folded words, marked where found
    together, as the backends find them: "Ê Đê" and "Ê-đê" for "Ede")."""
    wanted = _wanted(query_text or "", spelled)
    if not text or wanted is None:
        return []
    original = nfc(text)
    return [_render(original, start, end, marks) for start, end, marks in _windows(original, wanted)]


@lru_cache(maxsize=256)
def _wanted(query_text: str, spelled: tuple[Form, ...] = ()) -> re.Pattern[str] | None:
    """What finds the query's folded words in folded text, followed by no word character. Each
    word is a whole `\\w+` run, so an occurrence with no word character on either side is exactly
    a word that `folded_words` would give; the character before is checked by `_windows`, as
    a leading look-behind makes the expression scan three to ten times slower. One search
    highlights three fields of each hit with one query."""
    # A name's words, found together: separated by anything but a word character.
    forms = {*map(re.escape, folded_words(query_text)), *(r"\W+".join(map(re.escape, form)) for form in spelled)}
    words = sorted(forms, key=lambda w: (-len(w), w))
    if not words:
        return None
    return re.compile(r"(?:" + "|".join(words) + r")(?!\w)", re.UNICODE)


_WORD_CHAR = re.compile(r"\w", re.UNICODE)


def _windows(original: str, wanted: re.Pattern[str]) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """The first MAX_FRAGMENTS windows of about FRAGMENT_CHARS, each starting a little before its
    first match and holding the (start, end) in `original` of every wanted word inside it.

    Matches are read in order and only ever join the last window, so once a match would open a
    window past the last one shown, the rest of the text is not looked at."""
    folded, offsets = fold_with_offsets(original)
    length = len(original)
    word_char_at = _WORD_CHAR.match
    windows: list[tuple[int, int, list[tuple[int, int]]]] = []
    for match in wanted.finditer(folded):
        first, stop = match.span()
        if first and word_char_at(folded, first - 1):
            # Inside a longer word. No whole word starts within this match (each of its
            # characters is a word character), so `finditer` moving on past it misses nothing.
            continue
        span = (offsets[first], offsets[stop - 1] + 1)
        if windows and span[1] <= windows[-1][1]:
            windows[-1][2].append(span)
            continue
        if len(windows) == MAX_FRAGMENTS:
            break
        # A little context before the match; near the end, as much as fits before it.
        start = max(0, min(span[0] - FRAGMENT_CHARS // 5, length - FRAGMENT_CHARS))
        end = min(length, max(start + FRAGMENT_CHARS, span[1]))
        windows.append((start, end, [span]))
    return windows


_HTML_SPECIAL = re.compile(r"[&<>]")


def _render(original: str, start: int, end: int, marks: list[tuple[int, int]]) -> str:
    start, end = _trim_cut_words(original, start, end, marks[0][0], marks[-1][1])
    out: list[str] = []
    cursor = start
    for mark_start, mark_end in marks:
        out += (original[cursor:mark_start], "<mark>", original[mark_start:mark_end], "</mark>")
        cursor = mark_end
    out.append(original[cursor:end])
    if _HTML_SPECIAL.search(original, start, end):
        # Text at positions 0 and 2 of every four, tags at 1 and 3 (by position: a text equal
        # to "<mark>" is still text). Most windows have nothing to escape and skip this.
        out = [html.escape(piece, quote=False) if i % 4 in (0, 2) else piece for i, piece in enumerate(out)]
    return "".join(out).strip()


def _trim_cut_words(original: str, start: int, end: int, first: int, last: int) -> tuple[int, int]:
    """Drop a word cut in half at either edge of the window, never cutting into a match."""
    if start > 0 and not original[start - 1].isspace():
        space = original.find(" ", start, first)
        start = space + 1 if space != -1 else start
    if end < len(original) and not original[end].isspace():
        space = original.rfind(" ", last, end)
        end = space if space != -1 else end
    return start, end
