"""Highlights on the original text, found by folding: 'dan toc' marks 'dân tộc'.

Matching is on whole folded words, as the backends match; `fold_with_offsets()` maps each
folded match back to the characters of the original (NFC) text, which is what is shown.
Everything outside `<mark>` is HTML-escaped, so a fragment can be rendered as HTML safely.
"""

import html
import re
from functools import lru_cache

from app.text import fold_with_offsets, folded_words, nfc

FRAGMENT_CHARS = 150
MAX_FRAGMENTS = 3


def highlight(text: str, query_text: str | None) -> list[str]:
    """Up to three ~150-character fragments of `text` with the query's words in <mark>."""
    wanted = _wanted(query_text or "")
    if not text or wanted is None:
        return []
    original = nfc(text)
    spans = _match_spans(original, wanted)
    fragments = []
    for start, end, marks in _group(spans, len(original)):
        fragments.append(_render(original, start, end, marks))
        if len(fragments) == MAX_FRAGMENTS:
            break
    return fragments


@lru_cache(maxsize=256)
def _wanted(query_text: str) -> re.Pattern[str] | None:
    """What finds the query's folded words in folded text as whole words. Each is a whole `\\w+`
    run, so an occurrence with no word character on either side is exactly a word that
    `folded_words` would give. One search highlights three fields of each hit with one query."""
    words = sorted(set(folded_words(query_text)), key=lambda w: (-len(w), w))
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)", re.UNICODE)


def _match_spans(original: str, wanted: re.Pattern[str]) -> list[tuple[int, int]]:
    """(start, end) in `original` of every word whose folded form is wanted."""
    folded, offsets = fold_with_offsets(original)
    return [(offsets[match.start()], offsets[match.end() - 1] + 1) for match in wanted.finditer(folded)]


def _group(spans: list[tuple[int, int]], length: int) -> list[tuple[int, int, list[tuple[int, int]]]]:
    """Windows of about FRAGMENT_CHARS, each starting a little before its first match."""
    windows: list[tuple[int, int, list[tuple[int, int]]]] = []
    for span in spans:
        if windows and span[1] <= windows[-1][1]:
            windows[-1][2].append(span)
            continue
        # A little context before the match; near the end, as much as fits before it.
        start = max(0, min(span[0] - FRAGMENT_CHARS // 5, length - FRAGMENT_CHARS))
        end = min(length, max(start + FRAGMENT_CHARS, span[1]))
        windows.append((start, end, [span]))
    return windows


def _render(original: str, start: int, end: int, marks: list[tuple[int, int]]) -> str:
    start, end = _trim_cut_words(original, start, end, marks[0][0], marks[-1][1])
    out = []
    cursor = start
    for mark_start, mark_end in marks:
        out.append(html.escape(original[cursor:mark_start], quote=False))
        out.append("<mark>" + html.escape(original[mark_start:mark_end], quote=False) + "</mark>")
        cursor = mark_end
    out.append(html.escape(original[cursor:end], quote=False))
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
