"""Text to search terms, identically for documents and queries: compatibility-normalised,
case-folded runs of letters and digits, common English function words dropped, each cut to
``MAX_TERM_CHARS``. Linear in the text (str.translate and str.split; no regex), so it is safe on
attacker-controlled text. Scripts written without spaces (CJK) come out as long runs: a known
limit of this analyzer."""

from __future__ import annotations

import functools
import unicodedata

MAX_TERM_CHARS = 64
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "he",
    "her", "his", "i", "if", "in", "into", "is", "it", "its", "of", "on", "or", "our", "she",
    "so", "than", "that", "the", "their", "them", "then", "there", "these", "they", "this",
    "to", "was", "we", "were", "will", "with", "you", "your",
))
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})


def terms(text: str) -> list[str]:
    """The search terms of ``text``, in order, repeats kept (they are term frequencies)."""
    if text.isascii():
        words = text.translate(_ASCII_SEPARATORS).lower().split()
    else:
        words = _unicode_words(text)
    if words and max(map(len, words)) > MAX_TERM_CHARS:
        words = [w[:MAX_TERM_CHARS] for w in words]
    return [w for w in words if w not in STOPWORDS]


def _unicode_words(text: str) -> list[str]:
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    words = text.casefold().translate(_bmp_separators()).split()
    if all(w.isalnum() for w in words):
        return words
    found: list[str] = []
    for word in words:  # separators outside the BMP (rare): split char by char
        found.extend(word.split() if word.isalnum() else
                     "".join(c if c.isalnum() else " " for c in word).split())
    return found


@functools.cache
def _bmp_separators() -> dict[int, str]:
    """Every non-alphanumeric code point of the Basic Multilingual Plane, mapped to a space;
    built on first use (about 10 ms), not at import."""
    return {c: " " for c in range(0x10000) if not chr(c).isalnum()}
