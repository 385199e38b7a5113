"""Hashed word and character n-gram features of text windows, in numpy: what the shield's
classifier reads. Training (scripts/train_shield.py) and inference use this one module, so the
weights a training run writes mean the same thing at run time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

BITS = 20  # one shared table of 2**20 buckets for every n-gram order
CHAR_ORDERS = (3, 4, 5)
_P = np.uint64(1_000_003)
_P_INV = np.uint64(pow(1_000_003, -1, 2**64))
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SHIFT = np.uint64(64 - BITS)
_SALT = {n: np.uint64(n * 0x51ED27) for n in (*CHAR_ORDERS, 1, 2)}  # 1, 2: word orders
_WS = (9, 10, 11, 12, 13, 0x85, 0xA0, 0x2028, 0x2029, 0x3000)
_NON_WORD = ((0x2000, 0x2BFF), (0x3000, 0x303F), (0xFE30, 0xFE4F), (0xFF00, 0xFF0F),
             (0x1F000, 0x1FAFF))
# whitespace as a space, ASCII digits as 0, by one str.translate
_FOLD = {**dict.fromkeys(_WS, 32), **dict.fromkeys(range(48, 58), 48)}
_POWERS = 4096  # P**i and P**-i kept for texts of up to this many code points

Buckets = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Encoded:
    """One text's feature occurrences. ``chars[k]`` holds the bucket of the n-gram of order
    ``CHAR_ORDERS[k]`` starting at each code point; ``unigrams``/``bigrams`` are per word (a
    bigram at i joins words i and i+1); ``starts``/``ends`` are the words' code-point offsets."""

    length: int
    chars: tuple[Buckets, ...]
    unigrams: Buckets
    bigrams: Buckets
    starts: Buckets
    ends: Buckets


@dataclass(frozen=True, slots=True)
class Windows:
    """Windows of at most ``size`` words, ``stride`` words apart: word ranges [first, last)
    and code-point spans [start, end) of the text."""

    first: Buckets
    last: Buckets
    start: Buckets
    end: Buckets


def code_points(text: str) -> npt.NDArray[np.uint32]:
    """Lower-cased code points, one per character of ``text`` (offsets stay those of the
    original), whitespace as a space and digits as 0."""
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two; keep those as they are
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    folded = lowered.translate(_FOLD)
    return np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _word_table() -> npt.NDArray[np.bool_]:
    """Whether each code point up to ``_WORD_LIMIT`` is a word character: latin letters, the
    folded digit 0, and everything from U+00C0 on but two signs and the ``_NON_WORD`` blocks
    (all of them below the limit, so every code point above it is a word character)."""
    cp = np.arange(_WORD_LIMIT + 1, dtype=np.uint32)
    latin = ((cp >= 97) & (cp <= 122)) | (cp == 48)
    word: npt.NDArray[np.bool_] = latin | ((cp >= 0xC0) & (cp != 0xD7) & (cp != 0xF7))
    for low, high in _NON_WORD:
        word &= ~((cp >= low) & (cp <= high))
    return word


_WORD_LIMIT = 0x1FB00
_WORD = _word_table()


def _is_word(cp: npt.NDArray[np.uint32]) -> npt.NDArray[np.bool_]:
    return _WORD[np.minimum(cp, _WORD_LIMIT)]


def _bucket(h: npt.NDArray[np.uint64], salt: np.uint64) -> Buckets:
    return (((h ^ salt) * _MIX) >> _SHIFT).astype(np.int64)


def _powers(n: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """P**i and P**-i modulo 2**64 for i in [0, n]."""
    powers = np.ones(n + 1, dtype=np.uint64)
    inverse = np.ones(n + 1, dtype=np.uint64)
    np.cumprod(np.full(n, _P, dtype=np.uint64), out=powers[1:])
    np.cumprod(np.full(n, _P_INV, dtype=np.uint64), out=inverse[1:])
    return powers, inverse


_CACHED_POWERS, _CACHED_INVERSE = _powers(_POWERS)


def encode(text: str) -> Encoded:
    """All n-gram occurrences of ``text`` as table buckets (linear in its length)."""
    cp = code_points(text)
    n = len(cp)
    if n <= _POWERS:
        powers, inverse = _CACHED_POWERS, _CACHED_INVERSE
    else:
        powers, inverse = _powers(n)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(cp * powers[:n], out=prefix[1:])

    chars = []
    for order in CHAR_ORDERS:
        count = max(n - order + 1, 0)  # n-grams start at 0 .. count - 1: slices, not gathers
        hashes = (prefix[order : order + count] - prefix[:count]) * inverse[:count]
        chars.append(_bucket(hashes, _SALT[order]))
    word = _is_word(cp)
    edges = np.diff(np.concatenate(([0], word.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    words = (prefix[ends] - prefix[starts]) * inverse[starts]
    bigrams = words[:-1] * _P + words[1:]
    return Encoded(n, tuple(chars), _bucket(words, _SALT[1]), _bucket(bigrams, _SALT[2]),
                   starts.astype(np.int64), ends.astype(np.int64))


def windows(enc: Encoded, size: int, stride: int) -> Windows:
    """Overlapping word windows covering the text; one window when it has ``size`` words or
    fewer. The first window starts at 0 and the last ends at the end of the text."""
    count = len(enc.starts)
    top = max(count - size, 0)  # where the last window starts
    first = np.array([*range(0, top, stride), top], dtype=np.int64)
    last = np.minimum(first + size, count)
    if count == 0:
        return Windows(first, last, np.zeros(1, np.int64), np.full(1, enc.length, np.int64))
    # only the first window starts at word 0 and only the last one ends at the last word: they
    # stretch to the text's edges (copies, so the assignments change nothing else)
    start, end = enc.starts[first], enc.ends[last - 1]
    start[0], end[-1] = 0, enc.length
    return Windows(first, last, start, end)


def window_buckets(enc: Encoded, win: Windows, i: int) -> tuple[Buckets, Buckets]:
    """The character and word buckets that window ``i`` holds (for training)."""
    s, e, a, b = int(win.start[i]), int(win.end[i]), int(win.first[i]), int(win.last[i])
    chars = [c[s:max(e - order + 1, s)] for c, order in zip(enc.chars, CHAR_ORDERS, strict=True)]
    words = [enc.unigrams[a:b], enc.bigrams[a:max(b - 1, a)]]
    return np.concatenate(chars), np.concatenate(words)


def whole_sums(enc: Encoded, tables: Sequence[npt.NDArray[Any]]) -> list[tuple[complex, complex]]:
    """``window_sums`` of the one window of a short text, for each of ``tables``: every
    n-gram is in it, so plain sums (one gather per table instead of prefix sums per order).
    A complex table sums two real tables at once (its real and imaginary parts)."""
    chars = np.concatenate(enc.chars)
    words = np.concatenate((enc.unigrams, enc.bigrams))
    return [(table[chars].sum(dtype=_sum_type(table)).item(),
             table[words].sum(dtype=_sum_type(table)).item()) for table in tables]


def window_sums(enc: Encoded, win: Windows, table: npt.NDArray[Any]) -> tuple[
        npt.NDArray[Any], npt.NDArray[Any]]:
    """Per window, the sum of ``table`` over its character n-grams and over its word n-grams.
    One gather and one prefix sum over every n-gram of the text (the orders one after the
    other), then two lookups per window and order: O(1) per window after one pass, in a
    fixed number of numpy calls. A complex table sums two real tables at once."""
    parts = (*enc.chars, enc.unigrams, enc.bigrams)
    lengths = np.array([len(p) for p in parts], dtype=np.int64)[:, None]
    offsets = np.concatenate(([0], np.cumsum(lengths[:-1, 0])))[:, None]
    prefix = np.zeros(int(lengths.sum()) + 1, dtype=_sum_type(table))
    np.cumsum(table[np.concatenate(parts)], dtype=prefix.dtype, out=prefix[1:])
    # an n-gram of order k starting at i lies in a window [s, e) when s <= i <= e - k
    # (characters: code points; words: word indexes, the bigram's order being 2)
    begin = np.empty((len(parts), len(win.start)), dtype=np.int64)
    begin[: len(CHAR_ORDERS)], begin[len(CHAR_ORDERS) :] = win.start, win.first
    end = np.empty_like(begin)
    end[: len(CHAR_ORDERS)], end[len(CHAR_ORDERS) :] = win.end, win.last
    end -= _SPAN
    low = np.minimum(begin, lengths) + offsets
    high = np.minimum(np.maximum(end, begin), lengths) + offsets
    sums = prefix[high] - prefix[low]
    return sums[:len(CHAR_ORDERS)].sum(axis=0), sums[len(CHAR_ORDERS):].sum(axis=0)


_SPAN = np.array([order - 1 for order in (*CHAR_ORDERS, 1, 2)], dtype=np.int64)[:, None]


def _sum_type(table: npt.NDArray[Any]) -> type[np.float64] | type[np.complex128]:
    """Sums in double precision: float64, or complex128 for a complex table."""
    return np.complex128 if np.iscomplexobj(table) else np.float64
