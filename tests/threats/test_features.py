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
