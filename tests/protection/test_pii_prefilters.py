"""The cheap checks that let a PII detector skip its RE2 pass: each is a necessary condition of a
match, so it may only skip text where the pattern could find nothing. Positives sit right at the
edge of each check (no digit, one colon too few, a prefix street without a number)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import phonenumbers
import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from ztai.protection.interface import Detector
from ztai.protection.model import Match
from ztai.protection.normalize import normalize
from ztai.protection.pii import PiiDetector, default_pii_detector, structured_pii_detector
from ztai.protection.pii_address import StreetAddressDetector
from ztai.protection.pii_ids import UsItinDetector
from ztai.protection.pii_net import EmailDetector, IpAddressDetector
from ztai.protection.pii_overlaps import resolve
from ztai.protection.pii_phone import PhoneDetector
from ztai.protection.pii_scan import compile_pattern, has_digit, has_upper, scan, utf8

SAMPLE = Path(__file__).parent / "fixtures" / "pii" / "sample.jsonl"
_FULLWIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
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


def _score_region_by_region(detector: PhoneDetector, value: str) -> float:
    """``PhoneDetector.score`` as first written: every configured region in order, each parse
    judged, no region skipped or moved ahead."""
    if detector._not_a_phone.fullmatch(value):
        return 0.0
    numbers = []
    for region in (None,) if value.startswith("+") else detector.regions:
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return 0.5 if detector._is_short_unmarked(value) else 1.0
        numbers.append(number)
    if not detector._shaped.fullmatch(value):
        return 0.0
    return 0.6 if any(phonenumbers.is_possible_number(n) for n in numbers) else 0.0


# written the way phone numbers are: prefixes that several regions read alike ("00", "001",
# "011", "0", "1", "+"), groups of digits, brackets and extensions
_PHONE_LIKE = st.builds(
    lambda prefix, groups, sep, ext: prefix + sep.join(groups) + ext,
    st.sampled_from(["", "0", "00", "001-", "011 ", "1 ", "+1-", "+44 ", "+49 ", "(0)", "(555)",
                     "+", "0044 ", "90"]),
    st.lists(st.text(alphabet="0123456789", min_size=1, max_size=5), min_size=1, max_size=5),
    st.sampled_from([" ", "-", ".", ""]),
    st.sampled_from(["", "x12", " ext. 7", "#4", "x"]),
)


@given(_PHONE_LIKE)
@settings(max_examples=400, deadline=None)
def test_trying_likely_regions_first_scores_as_every_region_in_order(value: str) -> None:
    for detector in (_PHONES, _PHONES_FEW):
        assert detector.score(value) == _score_region_by_region(detector, value)


def test_likely_regions_first_on_the_sample_numbers() -> None:
    values = ["001-748-088-2851x818", "+1-962-819-8200", "13 70486", "089 72 63 41",
              "(88) 684-334", "0487 23 46 71", "21 232 945 1338", "070-073-058", "785 8949",
              "(311)905-4466x8827", "011 2345 6789", "0044 20 7946 0958", "1 650 253 0000"]
    for value in values:
        assert _PHONES.score(value) == _score_region_by_region(_PHONES, value), value
    # the order is only an order: every configured region is still there, once
    assert sorted(_PHONES._regions_for("089 72 63 41")) == sorted(_PHONES.regions)


_PHONES = PhoneDetector()
_PHONES_FEW = PhoneDetector(["GB", "US"])


_NO_ASCII_DIGIT = st.text(
    alphabet=st.sampled_from([*"aZ -.:@x+()#", "٣", "３", "²", "é", "\u200b", "\ud800"]),
    max_size=40,
)
# digits among the characters phone numbers, cards and ids are written with
_NUMBERISH = st.text(alphabet=st.sampled_from([*"0123456789 .-()+#xet:/AZ", "é", "\ud800"]),
                     max_size=40)
_GATED = [d for d in default_pii_detector().detectors if getattr(d, "prefilter", None)]


def test_every_numbered_detector_has_a_prefilter() -> None:
    assert {d.name for d in _GATED} >= {"pii.phone", "pii.credit_card", "pii.iban", "pii.us_ssn",
                                        "pii.us_itin", "pii.uk_nino", "pii.ip_address",
                                        "pii.email"}


@pytest.mark.parametrize("detector", _GATED, ids=lambda d: d.name)
@given(text=st.one_of(_NO_ASCII_DIGIT, _NUMBERISH, _MIXED))
def test_a_detector_finds_nothing_where_its_prefilter_does_not_match(
    detector: Detector, text: str
) -> None:
    if not compile_pattern(detector.prefilter).search(utf8(text)):  # type: ignore[attr-defined]
        assert detector.detect(text) == []


# text made of everything but one detector's anchors (its digits, "@" or ":")
_ALPHABET = [*"aZzAxet -.()+#/_%'\n\t,;!?", "٣", "３", "²", "é", "ß", "\u212a", "\u200b", "ж",
             "\ud800", "\uff20", "\ufe55"]


@pytest.mark.parametrize("detector", _GATED, ids=lambda d: d.name)
@given(data=st.data())
def test_a_prefilter_never_matches_text_without_the_detectors_anchors(
    detector: Detector, data: st.DataObject
) -> None:
    anchors = detector.anchors  # type: ignore[attr-defined]
    extra = [c for c in "0123456789@:" if c not in anchors]
    text = data.draw(st.text(alphabet=st.sampled_from(_ALPHABET + extra), max_size=60))
    assert not compile_pattern(detector.prefilter).search(utf8(text))  # type: ignore[attr-defined]
    assert detector.detect(text) == []


def test_every_gated_detector_declares_its_anchors() -> None:
    """Without them the set pass would run on every text, not only on those with a digit,
    an "@" or a ":"."""
    assert all(getattr(d, "anchors", "") for d in _GATED)


@pytest.mark.parametrize(("text", "phone"), [
    ("call 555 0100 ext. 12", "555 0100 ext. 12"),  # the widest gap a phone number has
    ("+1 (415) 555-0100", "+1 (415) 555-0100"),
    ("x 1-2-3-4-5-6-7 y", None),
])
def test_the_phone_prefilter_lets_every_shape_through(text: str, phone: str | None) -> None:
    detector = PhoneDetector()
    assert compile_pattern(detector.prefilter).search(utf8(text))
    assert [text[m.start : m.end] for m in detector.detect(text)] == ([phone] if phone else [])


def _every_detector(detector: PiiDetector, text: str) -> list[Match]:
    """What ``PiiDetector.detect`` returned before it skipped detectors: all of them, always."""
    normalized = normalize(text)
    found = resolve([m for d in detector.detectors for m in d.detect(normalized.text)])
    return [replace(m, start=s, end=e) for m in found
            for s, e in [normalized.span(m.start, m.end)]]


@given(text=st.one_of(_NO_ASCII_DIGIT, _MIXED, _NUMBERISH,
                     st.text(alphabet=st.sampled_from(_ALPHABET), max_size=40)))
def test_skipping_detectors_changes_no_result(text: str) -> None:
    detector = structured_pii_detector()
    assert detector.detect(text) == _every_detector(detector, text)


@pytest.mark.parametrize("text", [
    # a phone number drops the street address it overlaps, and so keeps the name inside it
    "Miss Jane Doe Apt. 722 20 40 rue Victor Hugo\nLYON IL 92507",
    "SSN 205-46-4452 and card 4111 1111 1111 1111, call (415) 555-0100 or +44 20 7946 0958",
    "IBAN DE89 3704 0044 0532 0130 00 / 10.0.0.1 / 2001:db8::1 / 020 7946 0958",
])
def test_judging_phones_last_changes_no_result(text: str) -> None:
    detector = default_pii_detector()
    assert detector.detect(text) == _every_detector(detector, text)


def test_skipping_detectors_changes_no_result_on_the_sample() -> None:
    detector = default_pii_detector()
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    assert rows
    for row in rows:
        assert detector.detect(row["text"]) == _every_detector(detector, row["text"])
        fullwidth = row["text"].translate(_FULLWIDTH_DIGITS)  # digits only after NFKC
        assert detector.detect(fullwidth) == _every_detector(detector, fullwidth)
