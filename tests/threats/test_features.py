"""The hashed n-gram featuriser: position-independent buckets, windows that cover the text,
prefix sums that agree with the buckets each window holds."""

from __future__ import annotations

import numpy as np
import pytest

from ztai.threats import features


def test_buckets_do_not_depend_on_position() -> None:
    alone = features.encode("ignore previous")
    later = features.encode("Some text first, then IGNORE previous")
    assert list(alone.unigrams) == list(later.unigrams[-2:])
    assert alone.bigrams[0] == later.bigrams[-1]
    assert list(alone.chars[0]) == list(later.chars[0][-len(alone.chars[0]):])


def test_digits_whitespace_and_case_are_folded() -> None:
    a, b = features.encode("Port 8080\tOpen"), features.encode("port 1234 open")
    assert list(a.unigrams) == list(b.unigrams)
    assert all(list(x) == list(y) for x, y in zip(a.chars, b.chars, strict=True))


@pytest.mark.parametrize("text", ["", "   ", "!!!", "a", "İstanbul ß", "a\ud800b", "日本語"])
def test_odd_texts_encode_with_offsets_of_the_original(text: str) -> None:
    enc = features.encode(text)
    assert enc.length == len(text)
    win = features.windows(enc, 4, 2)
    assert win.start[0] == 0
    assert win.end[-1] == len(text)


@pytest.mark.parametrize(("words", "size", "stride", "firsts"),
                         [(3, 4, 2, [0]), (10, 4, 2, [0, 2, 4, 6]), (11, 4, 2, [0, 2, 4, 6, 7])])
def test_windows_cover_every_word(words: int, size: int, stride: int, firsts: list[int]) -> None:
    enc = features.encode(" ".join(f"w{i}" for i in range(words)))
    win = features.windows(enc, size, stride)
    assert list(win.first) == firsts
    assert win.last[-1] == words
    assert win.start[0] == 0
    assert win.end[-1] == enc.length


def test_window_sums_match_the_buckets_of_each_window() -> None:
    table = np.random.default_rng(7).normal(size=1 << features.BITS).astype(np.float32)
    enc = features.encode(" ".join(f"token{i % 7}, other words" for i in range(40)))
    win = features.windows(enc, 10, 5)
    chars, words = features.window_sums(enc, win, table)
    for i in range(len(win.start)):
        c, w = features.window_buckets(enc, win, i)
        assert chars[i] == pytest.approx(float(table[c].sum()), rel=1e-4)
        assert words[i] == pytest.approx(float(table[w].sum()), rel=1e-4)


def test_a_complex_table_sums_its_two_real_tables_at_once() -> None:
    """The classifier keeps weight + 1j * norm in one table: one gather and one prefix sum
    must give each real table's sums, window by window and for a whole text."""
    rng = np.random.default_rng(11)
    real, imag = (rng.normal(size=1 << features.BITS).astype(np.float32) for _ in range(2))
    pairs = np.empty(1 << features.BITS, dtype=np.complex64)
    pairs.real, pairs.imag = real, imag
    enc = features.encode(" ".join(f"word{i % 13} and, more." for i in range(60)))
    win = features.windows(enc, 12, 6)
    assert len(win.start) > 1
    for both, one in zip(features.window_sums(enc, win, pairs),
                         features.window_sums(enc, win, real), strict=True):
        assert np.allclose(both.real, one, rtol=1e-9)
    for both, one in zip(features.window_sums(enc, win, pairs),
                         features.window_sums(enc, win, imag), strict=True):
        assert np.allclose(both.imag, one, rtol=1e-9)
    ((chars, words),) = features.whole_sums(enc, [pairs])
    (expected,) = features.whole_sums(enc, [real])
    assert (chars.real, words.real) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("text", ["", "a", "ab cd", "one, two; three", "日本語 テキスト"])
def test_window_sums_of_texts_with_few_n_grams(text: str) -> None:
    """Orders with no n-gram (a text shorter than the order) add nothing to any window."""
    table = np.random.default_rng(3).normal(size=1 << features.BITS).astype(np.float32)
    enc = features.encode(text)
    win = features.windows(enc, 1, 1)
    chars, words = features.window_sums(enc, win, table)
    for i in range(len(win.start)):
        c, w = features.window_buckets(enc, win, i)
        assert chars[i] == pytest.approx(float(table[c].sum(dtype=np.float64)), abs=1e-6)
        assert words[i] == pytest.approx(float(table[w].sum(dtype=np.float64)), abs=1e-6)
