"""The cheap checks that let a PII detector skip its RE2 pass: each is a necessary condition of a
match, so it may only skip text where the pattern could find nothing. Positives sit right at the
edge of each check (no digit, one colon too few, a prefix street without a number)."""

from __future__ import annotations

import pytest
import re2
from hypothesis import given
from hypothesis import strategies as st

from ztai.protection.interface import Detector
from ztai.protection.pii_address import StreetAddressDetector
from ztai.protection.pii_ids import UsItinDetector
from ztai.protection.pii_net import EmailDetector, IpAddressDetector
from ztai.protection.pii_phone import PhoneDetector
from ztai.protection.pii_scan import compile_pattern, has_digit, has_upper, scan

_MIXED = st.text(
    alphabet=st.sampled_from(
        [*"aZ09 -.:@x", "٣", "３", "²", "é", "É", "ϒ", "ǅ", "İ", "\u212a", "ß", "Ⓐ", "Ⅳ", "ж",
         "Ж", "\u0301", "“", "\ud800"]
    ),
    max_size=30,
)  # fmt: skip


@given(_MIXED)
def test_has_digit_is_re2s_digit_class(text: str) -> None:
    assert has_digit(text) == bool(re2.search(r"\d", text.encode("utf-8", "replace")))


@given(_MIXED)
def test_has_upper_is_any_upper_case_character(text: str) -> None:
    assert has_upper(text) == any(char.isupper() for char in text)


_PATTERNS = [r"\d+", r"[\p{L}]+", r"(\d+)-[a-z]", r"[^ ]+"]


@pytest.mark.parametrize("pattern", _PATTERNS)
@given(text=_MIXED)
def test_scan_reports_character_offsets(pattern: str, text: str) -> None:
    compiled = compile_pattern(pattern)
    replaced = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    expected = [
        found.span(1) if compiled.groups and found.start(1) >= 0 else found.span()
        for found in compiled.finditer(replaced)  # RE2 on str: offsets in characters
    ]
    assert list(scan(compiled, text)) == expected


EDGE_POSITIVES: list[tuple[Detector, str, str]] = [
    (IpAddressDetector(), "v6 dead:beef:cafe::bad here", "dead:beef:cafe::bad"),  # no digit
    (IpAddressDetector(), "gw fe80::1:2", "fe80::1:2"),
    (EmailDetector(), "a@b.co", "a@b.co"),
    (UsItinDetector(), "ITIN 900-70-0000", "900-70-0000"),
    (PhoneDetector(), "call 011 2345 6789", "011 2345 6789"),  # valid in the fifth region only
    (StreetAddressDetector(), "Send it to Rue Victor Hugo, Lyon.", "Rue Victor Hugo, Lyon"),
    (StreetAddressDetector(), "(Via Roma, Torino)", "Via Roma, Torino"),
    (StreetAddressDetector(), "«Rue de la Paix»", "Rue de la Paix"),  # after a non-ASCII sign
    (StreetAddressDetector(), "rue de la paix, paris", "rue de la paix, paris"),  # lower case
    (StreetAddressDetector(), "ul. Długa, Gdańsk", "ul. Długa, Gdańsk"),
    (StreetAddressDetector(), "\ud800 Rue Victor Hugo, Lyon", "Rue Victor Hugo, Lyon"),
]


@pytest.mark.parametrize(("detector", "text", "expected"), EDGE_POSITIVES)
def test_a_check_never_hides_a_match(detector: Detector, text: str, expected: str) -> None:
    assert [text[m.start : m.end] for m in detector.detect(text)] == [expected]


@pytest.mark.parametrize(
    ("detector", "text"),
    [
        (IpAddressDetector(), "one colon: here"),
        (StreetAddressDetector(), "better. The end"),  # "r." is a prefix, but inside a word
        (StreetAddressDetector(), "Mr. Smith"),
    ],
)
def test_text_the_checks_skip_has_no_match(detector: Detector, text: str) -> None:
    assert detector.detect(text) == []


def test_a_number_valid_only_in_a_later_region_scores_as_before() -> None:
    assert PhoneDetector().score("011 2345 6789") == 1.0  # valid in IN and BR
    assert PhoneDetector(["US", "GB"]).score("011 2345 6789") == 0.0
