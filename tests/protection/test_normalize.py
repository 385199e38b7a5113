"""Normalisation folds look-alikes and strips invisibles, and every span maps back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ztai.protection.normalize import normalize


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
