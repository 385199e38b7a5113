"""Unicode normalisation before matching: NFKC per grapheme-like cluster, invisible characters
removed, a few confusables and dashes folded, with every normalised character mapped back to the
exact span of the original text it came from."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

import re2

# Zero-width, bidi-control, soft-hyphen, variation-selector and tag characters hide text from
# matchers without changing what a reader sees, so they are dropped.
_INVISIBLE = frozenset(
    [
        *(0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x180E, 0x3164, 0xFEFF, 0xFFA0),
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2070),
        *range(0xFE00, 0xFE10),
        *range(0xE0000, 0xE0080),
        *range(0xE0100, 0xE01F0),
    ]
)

# Cyrillic and Greek letters that look like Latin ones; folded only next to a Latin letter, so
# Greek and Cyrillic words stay as they are.
_CONFUSABLES = MappingProxyType(
    str.maketrans(
        "АВЕКМНОРСТХаеорсухіјѕԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧο",
        "ABEKMHOPCTXaeopcyxijsdqwABEZHIKMNOPTYXo",
    )
)
_REPLACEMENT = "\ufffd"
_DASHES = MappingProxyType(str.maketrans(dict.fromkeys("‐‑‒–—―−﹘﹣", "-")))


@dataclass(frozen=True, slots=True)
class Normalized:
    """``text`` is the normalised text; normalised character ``i`` came from the original
    characters ``to_original[i]:ends[i]``. ``to_original`` has one extra entry, the original
    length, so an empty span at the end maps too."""

    text: str
    to_original: Sequence[int]
    ends: Sequence[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span covering the normalised ``start:end`` (``0 <= start <= end <=
        len(text)``); it includes any removed invisible characters inside it."""
        if end <= start:
            return self.to_original[start], self.to_original[start]
        return self.to_original[start], self.ends[end - 1]


class Normalizer:
    """``normalize`` with a shortcut for text the per-cluster pass would leave as it is (most
    non-ASCII text: precomposed accents, other scripts). Build once and reuse."""

    __slots__ = ("_changed", "_confusable")

    def __init__(self) -> None:
        # What the per-cluster pass changes besides NFKC itself: invisible characters, dashes
        # and combining marks (RE2's \p{M} holds every character of a non-zero combining
        # class, so a text without one is all one-character clusters).
        self._changed = re2.compile(_char_class(["\\p{M}", *_INVISIBLE, *_DASHES]))
        self._confusable = re2.compile(_char_class(list(_CONFUSABLES)))

    def normalize(self, text: str) -> Normalized:
        """Normalise ``text``; never raises and is linear in its length."""
        if text.isascii():
            return _unchanged(text, text)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the per-cluster pass replaces it
            return _by_clusters(text)
        if self._changed.search(data) or not unicodedata.is_normalized("NFKC", text):
            return _by_clusters(text)
        # Every cluster is one character that NFKC keeps: only look-alikes may change.
        folded = _fold_confusables(text) if self._confusable.search(data) else text
        return _unchanged(folded, text)


def normalize(text: str) -> Normalized:
    """Normalise ``text``; never raises and is linear in its length. ``Normalizer`` gives the
    same result, faster on non-ASCII text that is already normalised."""
    if text.isascii():
        return _unchanged(text, text)
    return _by_clusters(text)


def _char_class(members: list[int | str]) -> str:
    """An RE2 character class of code points and class escapes."""
    return "[" + "".join(m if isinstance(m, str) else f"\\x{{{m:X}}}" for m in members) + "]"


def _unchanged(normalized: str, text: str) -> Normalized:
    """Character ``i`` of ``normalized`` is character ``i`` of ``text`` (same length)."""
    return Normalized(normalized, range(len(text) + 1), range(1, len(text) + 1))


def _by_clusters(text: str) -> Normalized:
    """The per-cluster pass, on the non-ASCII stretches only: ASCII is its own NFKC, holds no
    invisible character, dash or look-alike, and maps one to one (an ASCII letter that a
    combining mark follows goes with the stretch after it, as its cluster's base)."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    confusable = False
    position = 0
    for run in _ASCII_RUN.finditer(text):
        start, end = run.span()
        if end < len(text) and unicodedata.combining(text[end]):
            end -= 1
        if start > position:
            confusable |= _clustered(text, position, start, out, starts, ends)
        out.append(text[start:end])
        starts.extend(range(start, end))
        ends.extend(range(start + 1, end + 1))
        position = max(position, end)
    if position < len(text):
        confusable |= _clustered(text, position, len(text), out, starts, ends)
    joined = "".join(out)
    folded = _fold_confusables(joined) if confusable else joined
    return Normalized(folded, (*starts, len(text)), tuple(ends))


_ASCII_RUN = re.compile(r"[\x00-\x7f]+")
# one look-alike letter (a character class: linear, whatever the text)
_CONFUSABLE_CHAR = re.compile("[" + "".join(map(chr, _CONFUSABLES)) + "]")


def _clustered(text: str, start: int, end: int, out: list[str], starts: list[int],
               ends: list[int]) -> bool:
    """Normalise ``text[start:end]`` cluster by cluster into ``out``; whether it holds a
    look-alike character once normalised (then words must be folded)."""
    confusable = False
    for cluster_start, cluster_end in _clusters(text[start:end]):
        first, last = start + cluster_start, start + cluster_end
        piece = _normalize_cluster(text[first:last])
        out.append(piece)
        starts.extend([first] * len(piece))
        ends.extend([last] * len(piece))
        confusable = confusable or any(ord(c) in _CONFUSABLES for c in piece)
    return confusable


def _clusters(text: str) -> list[tuple[int, int]]:
    """A base character and the combining marks after it: NFKC composes within a cluster."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(text) + 1):
        if index == len(text) or not unicodedata.combining(text[index]):
            bounds.append((start, index))
            start = index
    return bounds if text else []


def _normalize_cluster(cluster: str) -> str:
    kept = "".join(
        _REPLACEMENT if _is_surrogate(c) else c for c in cluster if ord(c) not in _INVISIBLE
    )
    return unicodedata.normalize("NFKC", kept).translate(_DASHES)


def _is_surrogate(char: str) -> bool:
    """A lone surrogate (JSON can carry one) cannot be encoded; it becomes U+FFFD."""
    return 0xD800 <= ord(char) <= 0xDFFF


def _fold_confusables(text: str) -> str:
    """Fold look-alike letters inside words (runs of ``str.isalnum`` characters) that also hold
    ASCII Latin letters. Only the words around a look-alike are looked at: each once."""
    out: list[str] = []
    position = 0
    for found in _CONFUSABLE_CHAR.finditer(text):
        start = found.start()
        if start < position:  # inside the word just folded
            continue
        while start > position and text[start - 1].isalnum():
            start -= 1
        end = found.end()
        while end < len(text) and text[end].isalnum():
            end += 1
        word = text[start:end]
        out += (text[position:start], word.translate(_CONFUSABLES) if _is_mixed_script(word)
                else word)
        position = end
    if not out:
        return text
    out.append(text[position:])
    return "".join(out)


def _is_mixed_script(word: str) -> bool:
    return any(c.isascii() and c.isalpha() for c in word) and not word.isascii()
