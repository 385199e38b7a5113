"""Unicode normalisation before matching: NFKC per grapheme-like cluster, invisible characters
removed, a few confusables and dashes folded, with every normalised character mapped back to the
exact span of the original text it came from."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import re2

from ztai.protection.model import Match

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

    def on_original(self, match: Match) -> Match:
        """``match``, found in ``text``, moved to the span of the original text it covers."""
        start, end = self.span(match.start, match.end)
        if (start, end) == (match.start, match.end):
            return match
        return replace(match, start=start, end=end)


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
        """Normalise ``text``; never raises and is linear in its length. The last text that
        needed the per-cluster pass is remembered (by identity, shared by every normaliser):
        the detectors of one scan (PII, secrets, terms) read the same string in turn."""
        if text.isascii():
            return _unchanged(text, text)
        last = _last
        if last[0] is text:
            return last[1]
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: the per-cluster pass replaces it
            return _remembered(text)
        if self._changed.search(data) or not unicodedata.is_normalized("NFKC", text):
            return _remembered(text)
        # Every cluster is one character that NFKC keeps: only look-alikes may change.
        folded = _fold_confusables(text) if self._confusable.search(data) else text
        return _unchanged(folded, text)


_last: tuple[str | None, Normalized] = (None, Normalized("", range(1), range(0)))


def _remembered(text: str) -> Normalized:
    global _last  # one entry, swapped whole: safe between threads
    result = _by_clusters(text)
    _last = (text, result)
    return result


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
    """The per-cluster pass: each character normalised alone through a shared table, but a
    base character and the combining marks after it (NFKC composes within such a cluster)
    normalised together and mapped to the whole cluster."""
    pieces = _pieces(text)
    try:
        marked = _MARK.search(text.encode("utf-8")) is not None
    except UnicodeEncodeError:  # a lone surrogate (and perhaps marks)
        marked = True
    if not marked:
        joined = "".join(pieces)
        folded = _fold_confusables(joined) if _CONFUSABLE_CHAR.search(joined) else joined
        lengths = list(map(len, pieces))
        if lengths.count(1) == len(lengths):
            return _unchanged(folded, text)
        starts: list[int] = []
        ends: list[int] = []
        _alone(pieces, 0, len(text), [], starts, ends)
        return Normalized(folded, (*starts, len(text)), tuple(ends))
    out: list[str] = []
    starts, ends = [], []
    position = 0
    for first, last in _marked_clusters(text):
        _alone(pieces, position, first, out, starts, ends)
        piece = _pieces([text[first:last]])[0]
        out.append(piece)
        starts.extend([first] * len(piece))
        ends.extend([last] * len(piece))
        position = last
    _alone(pieces, position, len(text), out, starts, ends)
    joined = "".join(out)
    folded = _fold_confusables(joined) if _CONFUSABLE_CHAR.search(joined) else joined
    return Normalized(folded, (*starts, len(text)), tuple(ends))


def _marked_clusters(text: str) -> list[tuple[int, int]]:
    """The clusters of more than one character: a run of combining marks with the character
    before it (its base), or, first in the text, alone."""
    bounds: list[tuple[int, int]] = []
    for index, combining in enumerate(map(unicodedata.combining, text)):
        if not combining:
            continue
        if bounds and bounds[-1][1] == index:
            bounds[-1] = (bounds[-1][0], index + 1)
        else:
            bounds.append((max(index - 1, 0), index + 1))
    return bounds


def _alone(pieces: list[str], start: int, end: int, out: list[str], starts: list[int],
           ends: list[int]) -> None:
    """Characters ``start:end``, each a cluster of its own, normalised (``pieces``) into
    ``out``, each piece mapped to its character."""
    if start >= end:
        return
    chosen = pieces[start:end]
    out.append("".join(chosen))
    lengths = list(map(len, chosen))
    if lengths.count(1) == len(lengths):
        starts.extend(range(start, end))
        ends.extend(range(start + 1, end + 1))
        return
    # the runs of one-character pieces as ranges, the others one by one: a loop over every
    # character took ~0.8 ms for 4 KB of text with a few changed characters
    try:
        others = bytes(lengths).translate(_OTHER_THAN_ONE)  # 1 where a piece is not 1 long
    except ValueError:  # a piece longer than 255 characters (none is, in NFKC)
        others = bytes(int(n != 1) for n in lengths)
    position = start
    index = others.find(1)
    while index >= 0:
        at, length = start + index, lengths[index]
        starts.extend(range(position, at))
        ends.extend(range(position + 1, at + 1))
        starts.extend([at] * length)
        ends.extend([at + 1] * length)
        position = at + 1
        index = others.find(1, index + 1)
    starts.extend(range(position, end))
    ends.extend(range(position + 1, end + 1))


_OTHER_THAN_ONE = bytes(int(n != 1) for n in range(256))


# one look-alike letter (a character class: linear, whatever the text)
_CONFUSABLE_CHAR = re.compile("[" + "".join(map(chr, _CONFUSABLES)) + "]")
# every character with a combining class is a mark (tested); some marks have none
_MARK = re2.compile(r"\p{M}")

# Clusters met (most are one character), normalised; shared by all texts, so a character
# costs a lookup, not a call of NFKC (1 KB of Japanese, with fullwidth digits and punctuation,
# took ~4 µs a character).
_PIECES: dict[str, str] = {}
_MAX_PIECES = 1 << 16  # clusters remembered (a few MB at most); others computed each time


def _pieces(clusters: Iterable[str]) -> list[str]:
    """Each of ``clusters`` (a text's characters, or its clusters) normalised."""
    clusters = list(clusters) if not isinstance(clusters, str) else clusters
    pieces: list[str | None] = list(map(_PIECES.get, clusters))
    try:  # a cluster not met yet is None, which no join takes
        "".join(pieces)  # type: ignore[arg-type]
    except TypeError:
        pass
    else:
        return pieces  # type: ignore[return-value]
    done: list[str] = []
    for cluster, piece in zip(clusters, pieces, strict=True):
        if piece is None:
            piece = _normalize_cluster(cluster)
            if len(_PIECES) < _MAX_PIECES:
                _PIECES[cluster] = piece
        done.append(piece)
    return done


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
