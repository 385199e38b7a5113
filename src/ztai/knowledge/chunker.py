"""Documents to chunks: pieces of at most ``max_chars`` characters, cut at a paragraph break,
else a line break, else a sentence end, else a space in the second half of the window, else
hard. Each chunk keeps its character offsets in the document, for citations. Linear: each
window is scanned a bounded number of times with str methods."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MAX_CHARS = 1200
_BREAKS = ("\n\n", "\n", ". ", " ")


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int  # position in the document, from 0
    start: int
    end: int
    text: str


def split(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """The chunks of ``text``; none for a text of whitespace only."""
    if max_chars < 16:
        raise ValueError("max_chars must be at least 16")
    chunks: list[Chunk] = []
    start = _skip_space(text, 0, max_chars)
    while start < len(text):
        end = _cut(text, start, max_chars)
        piece = text[start:end].rstrip()
        if piece:
            chunks.append(Chunk(len(chunks), start, start + len(piece), piece))
        start = _skip_space(text, end, max_chars)
    return chunks


def _cut(text: str, start: int, max_chars: int) -> int:
    limit = start + max_chars
    if limit >= len(text):
        return len(text)
    floor = start + max_chars // 2
    for mark in _BREAKS:
        at = text.rfind(mark, floor, limit)
        if at >= 0:
            return at + len(mark)
    return limit


def _skip_space(text: str, at: int, window: int) -> int:
    while at < len(text):
        window_text = text[at : at + window]
        stripped = window_text.lstrip()
        at += len(window_text) - len(stripped)
        if stripped:
            return at
    return at
