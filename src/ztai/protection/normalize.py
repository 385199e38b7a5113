"""Unicode normalisation before matching: NFKC per grapheme-like cluster, invisible characters
removed, a few confusables and dashes folded, with every normalised character mapped back to the
exact span of the original text it came from."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from itertools import groupby
from types import MappingProxyType

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
    to_original: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span covering the normalised ``start:end`` (``0 <= start <= end <=
        len(text)``); it includes any removed invisible characters inside it."""
        if end <= start:
            return self.to_original[start], self.to_original[start]
        return self.to_original[start], self.ends[end - 1]


def normalize(text: str) -> Normalized:
    """Normalise ``text``; never raises and is linear in its length."""
    if text.isascii():
        offsets = tuple(range(len(text) + 1))
        return Normalized(text, offsets, offsets[1:])
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for cluster_start, cluster_end in _clusters(text):
        piece = _normalize_cluster(text[cluster_start:cluster_end])
        out.append(piece)
        starts.extend([cluster_start] * len(piece))
        ends.extend([cluster_end] * len(piece))
    folded = _fold_confusables("".join(out))
    return Normalized(folded, (*starts, len(text)), tuple(ends))


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
    """Fold look-alike letters inside words that also hold ASCII Latin letters."""
    words = ("".join(group) for _, group in groupby(text, key=str.isalnum))
    return "".join(
        word.translate(_CONFUSABLES) if _is_mixed_script(word) else word for word in words
    )


def _is_mixed_script(word: str) -> bool:
    return any(c.isascii() and c.isalpha() for c in word) and not word.isascii()
