"""Phone numbers: RE2 finds digit groups shaped like a number, and Google's ``phonenumbers``
metadata decides whether one is a valid number in any of the configured regions (a ``+``
prefix makes the region explicit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import phonenumbers
from phonenumbers import PhoneMetadata

from ztai.protection.model import Match
from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_overlaps import overlaps_any
from ztai.protection.pii_scan import DIGITS, compile_pattern, find, has_digit

DEFAULT_REGIONS = ("US", "GB", "DE", "FR", "IN", "CA", "BE", "NL", "AU", "BR", "IL", "ZA")
_PHONE = (
    r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:[ .-]\d{1,6}){0,5}"
    r"(?: ?(?:x|ext\.?|#) ?\d{1,6})?"
)
# Where a candidate with at least _MIN_DIGITS digits could be: that many digits, each two apart
# by at most what _PHONE allows between digits (") -", " ext. "); a superset of its matches, so
# text without one holds no phone number.
_CANDIDATES = r"\d(?:[ .()#xet-]{0,6}\d){6}"
# Written the way only phone numbers are: a "+" prefix, a bracketed area code, an extension, or
# 3-3-4 groups; such a number is accepted when merely possible (not assigned) in a region.
_SHAPED = r"\+.*|.*\(\d+\).*|.*\d ?(?:x|ext\.?|#) ?\d+|(?:00?1[ .-])?\d{3}[.-]\d{3}[.-]\d{4}"
_DATE = r"\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}"
# Not phone numbers either: two digit groups joined by one dot, a decimal or a reference
# ("3.14159265", arXiv's "1706.03762"; the 3-4 local style "555.0100" stays a candidate), and a
# range of years ("2008-2013").
_NUMBER = (r"(?:\d{1,2}|\d{4,})\.\d+|\d{3}\.(?:\d{1,3}|\d{5,})"
           r"|(?:19|20)\d{2} ?- ?(?:19|20)\d{2}")
_MIN_DIGITS, _MAX_DIGITS = 7, 20
_SHAPED_SCORE = 0.6
_SHORT_DIGITS = 9
_SHORT_SCORE = 0.5
_EXTENSION = frozenset("xe#")  # where _PHONE's extension starts (x, ext, #)


class PhoneDetector:
    """Numbers valid for one of ``regions`` (ISO 3166 codes, tried in order)."""

    name = "pii.phone"
    prefilter = _CANDIDATES  # PiiDetector runs it only where this matches
    anchors = DIGITS  # every prefilter match holds one of these
    __slots__ = ("_lengths", "_not_a_phone", "_pattern", "_shaped", "regions")

    def __init__(self, regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        self.regions = tuple(regions)
        self._lengths = tuple(_lengths(region) for region in self.regions)
        self._pattern = compile_pattern(_PHONE)
        self._shaped = compile_pattern(_SHAPED)
        self._not_a_phone = compile_pattern(_DATE + "|" + _NUMBER)

    def detect(self, text: str) -> list[Match]:
        return self.detect_outside(text, [])

    def detect_outside(self, text: str, taken: list[tuple[int, int]]) -> list[Match]:
        """``detect``, without judging candidates that overlap ``taken`` (sorted, disjoint
        spans of findings that outrank a phone number: the overlap rule drops such a candidate
        anyway, and judging one costs a parse per configured region)."""
        if not has_digit(text):
            return []
        candidates = find(PiiKind.PHONE, self.name, self._pattern, text, self._has_digit_count)
        scored = ((m, self.score(text[m.start : m.end])) for m in candidates
                  if not (taken and overlaps_any(m.start, m.end, taken)))
        return [replace(m, score=score) for m, score in scored if score > 0]

    def score(self, value: str) -> float:
        """1.0 for a number valid in a configured region (0.5 when it is a bare 7-8 digit
        number), 0.6 for a phone-shaped number only possible there, else 0.0; never raises."""
        if self._not_a_phone.fullmatch(value):
            return 0.0
        # Parsing dominates the cost: stop at the first region where the number is valid.
        numbers: list[phonenumbers.PhoneNumber] = []
        for region in self._regions_for(value):
            number = _parse(value, region)
            # regions that read the number alike (the same trunk or international prefix, a
            # shared country code: "001-..." is +1 from every region dialling 00) parse it to
            # an equal number, already judged invalid
            if number is None or number in numbers:
                continue
            if phonenumbers.is_valid_number(number):
                return _SHORT_SCORE if self._is_short_unmarked(value) else 1.0
            numbers.append(number)
        if not self._shaped.fullmatch(value):
            return 0.0
        possible = any(phonenumbers.is_possible_number(n) for n in numbers)
        return _SHAPED_SCORE if possible else 0.0

    def _is_short_unmarked(self, value: str) -> bool:
        """Seven or eight digits with no trunk 0, "+" or brackets: more often an amount or a
        reference than a local number, unless written phone-style."""
        digits = sum(char.isdigit() for char in value)
        return (
            digits < _SHORT_DIGITS and value[0] not in "0+(" and not self._shaped.fullmatch(value)
        )

    def _regions_for(self, value: str) -> tuple[str | None, ...]:
        """The regions to parse ``value`` in. ``score`` asks whether the number is valid in
        *any* of them, so the order changes only how soon a valid one is found: regions whose
        numbers have as many digits as ``value`` (with or without its national prefix or
        country code) come first."""
        if value.startswith("+"):
            return (None,)
        main = value
        for index, char in enumerate(value):
            if char in _EXTENSION:
                main = value[:index]
                break
        digits = "".join(filter(str.isdigit, main))
        likely = tuple(region for region, lengths in zip(self.regions, self._lengths, strict=True)
                       if _fits(digits, lengths))
        if len(likely) == len(self.regions):
            return self.regions
        return likely + tuple(region for region in self.regions if region not in likely)

    @staticmethod
    def _has_digit_count(value: str) -> bool:
        return _MIN_DIGITS <= sum(char.isdigit() for char in value) <= _MAX_DIGITS


_Lengths = tuple[frozenset[int], tuple[str, ...]]


def _lengths(region: str) -> _Lengths:
    """The national number lengths of ``region`` (phonenumbers' metadata; none for a region
    it does not know) and the prefixes a number there may be written with."""
    metadata = PhoneMetadata.metadata_for_region(region.upper())
    if metadata is None or metadata.general_desc is None:
        return frozenset(), ()
    prefixes = (metadata.national_prefix or "", str(metadata.country_code or ""))
    return (frozenset(metadata.general_desc.possible_length or ()),
            tuple(prefix for prefix in prefixes if prefix))


def _fits(digits: str, lengths: _Lengths) -> bool:
    sizes, prefixes = lengths
    count = len(digits)
    return count in sizes or any(
        digits.startswith(prefix) and count - len(prefix) in sizes for prefix in prefixes)


def _parse(value: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
