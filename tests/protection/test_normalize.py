"""Normalisation folds look-alikes and strips invisibles, and every span maps back exactly."""

from __future__ import annotations

import unicodedata
from itertools import groupby

import pytest
import re2
from hypothesis import given
from hypothesis import strategies as st

from ztai.protection.normalize import (
    _CONFUSABLES,
    Normalizer,
    _fold_confusables,
    _is_mixed_script,
    _pieces,
    normalize,
)


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("plain ascii", "plain ascii"),
        ("ＡＢＣ１２３", "ABC123"),  # full-width forms
        ("e\u0301cole", "école"),  # combining accent composed
        ("ﬁle", "file"),  # ligature expanded
        ("pass\u200bword\u2060!", "password!"),  # zero-width characters dropped
        ("\u202eevil\u202c", "evil"),  # bidi overrides dropped
        ("tag\U000e0041\U000e0042s", "tags"),  # tag characters dropped
        ("p\u0430yp\u0430l", "paypal"),  # Cyrillic а inside a Latin word
        ("ΠΥΡΓΑ παρα", "ΠΥΡΓΑ παρα"),  # Greek words stay Greek
        ("555–0100 − 2", "555-0100 - 2"),  # dashes folded to hyphen-minus
        ("", ""),
    ],
)
def test_normalized_text(original: str, expected: str) -> None:
    assert normalize(original).text == expected


@pytest.mark.parametrize(
    ("original", "needle", "covered"),
    [
        ("mail: j\u200bo@x.io", "jo@x.io", "j\u200bo@x.io"),
        ("ﬁle ok", "file", "ﬁle"),
        ("card ４１１１", "4111", "４１１１"),
        ("cafe\u0301 bar", "café", "cafe\u0301"),
    ],
)
def test_spans_map_back_to_the_original(original: str, needle: str, covered: str) -> None:
    result = normalize(original)
    start = result.text.index(needle)
    begin, end = result.span(start, start + len(needle))
    assert original[begin:end] == covered


def test_empty_span_maps_to_a_position() -> None:
    result = normalize("ab\u200b")
    assert result.span(2, 2) == (3, 3)


_TEXT = st.text(
    alphabet=st.sampled_from(
        [*"aZ09 -.@", "\u200b", "\u0301", "ﬁ", "Ａ", "\u0430", "е", "ß", "İ", "\U000e0041"]
    ),
    max_size=40,
) | st.text(max_size=40)


@given(_TEXT, st.data())
def test_every_span_stays_in_bounds_and_in_order(text: str, data: st.DataObject) -> None:
    result = normalize(text)
    size = len(result.text)
    start = data.draw(st.integers(0, size))
    end = data.draw(st.integers(start, size))
    begin, finish = result.span(start, end)
    assert 0 <= begin <= finish <= len(text)
    assert len(result.to_original) == size + 1
    assert len(result.ends) == size


@given(_TEXT)
def test_each_character_comes_from_a_visible_original_stretch(text: str) -> None:
    result = normalize(text)
    for index in range(len(result.text)):
        begin, end = result.span(index, index + 1)
        assert begin < end
        alone = normalize(text[begin:end]).text
        # alone, a Cyrillic look-alike has no Latin neighbour and is not folded
        assert result.text[index] in alone or result.text[index].isascii()


@given(_TEXT)
def test_the_whole_text_maps_onto_all_kept_characters(text: str) -> None:
    result = normalize(text)
    if result.text:
        begin, end = result.span(0, len(result.text))
        dropped = text[:begin] + text[end:]
        assert normalize(dropped).text == ""


# The shortcut of ``Normalizer`` (text the per-cluster pass leaves as it is) must never change
# a result: it is compared with ``normalize`` on text mixing what takes each path.
_SHORTCUT_OR_NOT = st.text(
    alphabet=st.sampled_from(
        [*"aZ09 -.@", "é", "Ω", "ж", "\u0430", "ι", "Ж", "ß", "İ", "ǅ", "ϒ", "\u212a", "€", "“",
         "\u0301", "\u0308", "\u200b", "\ufe0f", "\u2013", "ﬁ", "Ａ", "\u1100", "\u1161", "가",
         "\u0bbe", "\u0bc6", "\U0001f600", "\ud800", "\u00ad", "\U000e0041"]
    ),
    max_size=30,
)  # fmt: skip


@given(_SHORTCUT_OR_NOT)
def test_the_normalizer_gives_what_normalize_gives(text: str) -> None:
    fast, reference = Normalizer().normalize(text), normalize(text)
    assert fast.text == reference.text
    assert list(fast.to_original) == list(reference.to_original)
    assert list(fast.ends) == list(reference.ends)


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("café naïve Ελληνικά Жук", "café naïve Ελληνικά Жук"),  # already NFKC: kept as is
        ("p\u0430yp\u0430l and \u0430", "paypal and \u0430"),  # look-alikes still folded
        ("cafe\u0301 ok", "café ok"),  # a combining mark: per cluster
        ("ﬁle é", "file é"),  # NFKC changes it
        ("a\u2013b é", "a-b é"),  # a dash
        ("x\u200by é", "xy é"),  # an invisible character
        ("\u1100\u1161", "\u1100\u1161"),  # jamo stay apart, as the per-cluster pass keeps them
        ("\ud800 é", "\ufffd é"),  # a lone surrogate
    ],
)
def test_the_normalizer_on_each_path(original: str, expected: str) -> None:
    assert Normalizer().normalize(original).text == expected == normalize(original).text


def test_every_combining_mark_is_a_mark_to_re2() -> None:
    # The shortcut looks for \p{M} to find multi-character clusters.
    marks = "".join(chr(c) for c in range(0x110000) if unicodedata.combining(chr(c)))
    assert len(re2.findall(r"\p{M}", marks)) == len(marks)


def _clusters(text: str) -> list[tuple[int, int]]:
    """A base character and the combining marks after it: NFKC composes within a cluster."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for index in range(1, len(text) + 1):
        if index == len(text) or not unicodedata.combining(text[index]):
            bounds.append((start, index))
            start = index
    return bounds if text else []


def _every_cluster(text: str) -> tuple[str, list[int], list[int]]:
    """The reference: every cluster of the whole text through the per-cluster pass, one call
    of NFKC each (what ``normalize`` did before ASCII stretches were copied as they are, and
    before characters were looked up in a shared table)."""
    from itertools import groupby

    from ztai.protection import normalize as module

    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for first, last in _clusters(text):
        piece = module._normalize_cluster(text[first:last])
        out.append(piece)
        starts += [first] * len(piece)
        ends += [last] * len(piece)
    words = ("".join(g) for _, g in groupby("".join(out), key=str.isalnum))
    folded = "".join(w.translate(module._CONFUSABLES) if module._is_mixed_script(w) else w
                     for w in words)
    return folded, [*starts, len(text)], ends


@given(_SHORTCUT_OR_NOT)
def test_ascii_stretches_copied_as_they_are_change_nothing(text: str) -> None:
    result = normalize(text)
    expected, starts, ends = _every_cluster(text)
    assert (result.text, list(result.to_original), list(result.ends)) == (expected, starts, ends)


_SCRIPTS = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.characters(min_codepoint=0x300, max_codepoint=0x36F),  # combining marks
        st.characters(min_codepoint=0x900, max_codepoint=0x97F),  # Devanagari
        st.characters(min_codepoint=0xE00, max_codepoint=0xE7F),  # Thai
        st.characters(min_codepoint=0xBB0, max_codepoint=0xBD0),  # Tamil: composes, class 0
        st.characters(min_codepoint=0x1100, max_codepoint=0x11FF),  # jamo
        st.characters(min_codepoint=0xFF00, max_codepoint=0xFF70),  # fullwidth, halfwidth
        st.sampled_from(["\u200b", "\u00ad", "\ufeff", "\u2013", "ﬁ", "\u0430", "\ud800",
                         "\U000e0041", "\u3000", "²", "\u2126"]),
    ),
    max_size=60,
)  # fmt: skip


@given(_SCRIPTS)
def test_the_shared_table_gives_what_one_call_per_cluster_gives(text: str) -> None:
    # each character is looked up in a table shared by every text, each cluster with marks
    # normalised whole: the same as NFKC called on every cluster of the text in turn
    expected, starts, ends = _every_cluster(text)
    for result in (normalize(text), Normalizer().normalize(text)):
        assert (result.text, list(result.to_original), list(result.ends)) == \
            (expected, starts, ends)


def _fold_every_word(text: str) -> str:
    """The folding rule applied to every run of alphanumerics and every run between them."""
    words = ("".join(group) for _, group in groupby(text, key=str.isalnum))
    return "".join(word.translate(_CONFUSABLES) if _is_mixed_script(word) else word
                   for word in words)


@given(st.text(alphabet=st.sampled_from([*"ab Z.-1_", "а", "о", "с", "Α", "ο", "é", "\u0301",
                                         "ж", "日", "²", "\ud800"]), max_size=40))
def test_folding_only_words_around_look_alikes_folds_as_every_word(text: str) -> None:
    assert _fold_confusables(text) == _fold_every_word(text)



_NO_MARKS = st.text(
    alphabet=st.sampled_from([*"aZ09 -.", "ﬁ", "Ａ", "\u200b", "\u00ad", "ß", "\ufdfa", "€",
                              "\u2013"]),
    max_size=60,
)


@given(_NO_MARKS)
def test_each_piece_maps_to_the_character_it_came_from(text: str) -> None:
    """Text without combining marks is normalised a character at a time: each output
    character maps to exactly the character whose piece holds it (the runs of one-character
    pieces are mapped as ranges since 2026-11-28; checked against a plain loop)."""
    result = normalize(text)
    pieces = _pieces(text)
    if "".join(pieces) != result.text:
        return  # look-alikes folded after the pieces: the same length, mapped alike
    starts = [i for i, piece in enumerate(pieces) for _ in piece]
    assert list(result.to_original) == [*starts, len(text)]
    assert list(result.ends) == [i + 1 for i in starts]
