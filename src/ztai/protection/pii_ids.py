"""Detectors for numbered identifiers with check rules: payment cards (Luhn), IBANs (mod-97),
US SSNs and ITINs, UK National Insurance numbers. Candidates come from RE2; each is accepted
only when its check passes, so random digit runs rarely match."""

from __future__ import annotations

from ztai.protection.model import Match
from ztai.protection.pii_checksums import (
    IBAN_LENGTHS,
    is_card_number,
    is_iban,
    is_uk_nino,
    is_us_itin,
    is_us_ssn,
)
from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_scan import DIGITS, compact, compile_pattern, find, has_digit, scan

_CARD = r"(?:\d[ -]?){12,18}\d"
# Printed in groups of four or compact; the country's length decides where it ends.
_IBAN = (
    r"[A-Za-z]{2}\d{2}(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?"
    r"|[A-Za-z]{2}\d{2}[A-Za-z0-9]{11,30}"
)
_SSN = r"\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{3}\.\d{2}\.\d{4}|\d{9}"
_ITIN = r"9\d{2}-\d{2}-\d{4}|9\d{2} \d{2} \d{4}"
_NINO = r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]"
_SSN_CONTEXT = ("ssn", "social security", "social sec")
_CONTEXT_WINDOW = 40


class CreditCardDetector:
    """Payment card numbers: 13-19 digits, optionally grouped by spaces or dashes."""

    name = "pii.credit_card"
    prefilter = _CARD  # PiiDetector runs it only where this matches
    anchors = DIGITS  # every prefilter match holds one of these
    __slots__ = ("_pattern",)

    def __init__(self) -> None:
        self._pattern = compile_pattern(_CARD)

    def detect(self, text: str) -> list[Match]:
        if not has_digit(text):
            return []
        return find(PiiKind.CREDIT_CARD, self.name, self._pattern, text, _is_card)


class IbanDetector:
    """IBANs in compact or space-grouped form, either case, cut to their country's length."""

    name = "pii.iban"
    prefilter = _IBAN  # PiiDetector runs it only where this matches
    anchors = DIGITS  # every prefilter match holds one of these
    __slots__ = ("_pattern",)

    def __init__(self) -> None:
        self._pattern = compile_pattern(_IBAN)

    def detect(self, text: str) -> list[Match]:
        if not has_digit(text):
            return []
        found = (_iban_span(text, start, end) for start, end in scan(self._pattern, text))
        return [Match(PiiKind.IBAN, *span, 1.0, self.name) for span in found if span]


class UsSsnDetector:
    """US Social Security numbers; an unseparated nine-digit number needs "SSN" just before."""

    name = "pii.us_ssn"
    prefilter = _SSN  # PiiDetector runs it only where this matches
    anchors = DIGITS  # every prefilter match holds one of these
    __slots__ = ("_pattern",)

    def __init__(self) -> None:
        self._pattern = compile_pattern(_SSN)

    def detect(self, text: str) -> list[Match]:
        if not has_digit(text):
            return []
        found = find(PiiKind.US_SSN, self.name, self._pattern, text, _is_ssn)
        return [m for m in found if m.end - m.start == 11 or _has_ssn_context(text, m.start)]


class UsItinDetector:
    """US Individual Taxpayer Identification Numbers (9NN-7N-NNNN and other ranges)."""

    name = "pii.us_itin"
    prefilter = _ITIN  # PiiDetector runs it only where this matches
    anchors = DIGITS  # every prefilter match holds one of these
    __slots__ = ("_pattern",)

    def __init__(self) -> None:
        self._pattern = compile_pattern(_ITIN)

    def detect(self, text: str) -> list[Match]:
        if "9" not in text:  # every ITIN starts with one
            return []
        return find(PiiKind.US_ITIN, self.name, self._pattern, text, _is_itin)


class UkNinoDetector:
    """UK National Insurance numbers (``AB 12 34 56 C``), upper case as issued."""

    name = "pii.uk_nino"
    prefilter = _NINO  # PiiDetector runs it only where this matches
    anchors = DIGITS  # every prefilter match holds one of these
    __slots__ = ("_pattern",)

    def __init__(self) -> None:
        self._pattern = compile_pattern(_NINO)

    def detect(self, text: str) -> list[Match]:
        if not has_digit(text):
            return []
        return find(PiiKind.UK_NINO, self.name, self._pattern, text, _is_nino)


def _is_card(value: str) -> bool:
    return is_card_number(compact(value))


def _is_ssn(value: str) -> bool:
    return is_us_ssn(compact(value))


def _is_itin(value: str) -> bool:
    return is_us_itin(compact(value))


def _is_nino(value: str) -> bool:
    return is_uk_nino(compact(value))


def _has_ssn_context(text: str, start: int) -> bool:
    before = text[max(0, start - _CONTEXT_WINDOW) : start].lower()
    return any(word in before for word in _SSN_CONTEXT)


def _iban_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The candidate cut after its country's length of letters and digits, if that is valid."""
    length = IBAN_LENGTHS.get(text[start : start + 2].upper(), 0)
    taken = 0
    for index in range(start, end):
        taken += text[index] != " "
        if taken == length:
            boundary = index + 1 == len(text) or not text[index + 1].isalnum()
            valid = (
                boundary and _starts_word(text, start) and is_iban(compact(text[start : index + 1]))
            )
            return (start, index + 1) if valid else None
    return None


def _starts_word(text: str, start: int) -> bool:
    return start == 0 or not text[start - 1].isalnum()
