"""The PII detector: normalises the text once, runs every PII detector over it, settles
overlaps between kinds and maps each span back onto the text it was given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ztai.protection.interface import Detector
from ztai.protection.model import Match
from ztai.protection.normalize import Normalized, Normalizer
from ztai.protection.pii_address import StreetAddressDetector
from ztai.protection.pii_ids import (
    CreditCardDetector,
    IbanDetector,
    UkNinoDetector,
    UsItinDetector,
    UsSsnDetector,
)
from ztai.protection.pii_kinds import PiiKind
from ztai.protection.pii_lexicon import Lexicon, load_lexicon
from ztai.protection.pii_names import NameDetector
from ztai.protection.pii_net import EmailDetector, IpAddressDetector
from ztai.protection.pii_overlaps import outranking, resolve
from ztai.protection.pii_phone import DEFAULT_REGIONS, PhoneDetector
from ztai.protection.pii_scan import has_digit


class PiiDetector:
    """Runs ``detectors`` over the normalised text; spans refer to the original text. Linear in
    the text's length; never raises for any string (each detector promises the same)."""

    name = "pii"
    __slots__ = ("_anywhere", "_normalizer", "_others", "_phone", "detectors")

    def __init__(self, detectors: Sequence[Detector]) -> None:
        self.detectors = tuple(detectors)
        self._normalizer = Normalizer()
        # Detectors that declare ``needs_digit`` find nothing in text without an ASCII digit:
        # one check for all of them instead of one call each (most prompts have no digit).
        self._anywhere = tuple(d for d in self.detectors if not getattr(d, "needs_digit", False))
        # Phone numbers rank below the checked identifiers: found after them, the phone
        # detector skips candidates that one of those covers (a card, an SSN, an IBAN).
        phones = [d for d in self.detectors if isinstance(d, PhoneDetector)]
        self._phone = phones[0] if len(phones) == 1 else None
        self._others = tuple(d for d in self.detectors if d is not self._phone)

    def detect(self, text: str) -> list[Match]:
        normalized = self._normalizer.normalize(text)
        plain = normalized.text
        if not has_digit(plain):
            found = resolve([m for d in self._anywhere for m in d.detect(plain)])
        elif self._phone is None:
            found = resolve([m for d in self.detectors for m in d.detect(plain)])
        else:
            raw = [m for d in self._others for m in d.detect(plain)]
            found = resolve(raw)
            phones = self._phone.detect_outside(plain, outranking(found, PiiKind.PHONE))
            if phones:  # settled with everything found: a phone may drop a street, say
                found = resolve([*raw, *phones])
        return [_on_original(m, normalized) for m in found]


def _on_original(match: Match, normalized: Normalized) -> Match:
    start, end = normalized.span(match.start, match.end)
    if (start, end) == (match.start, match.end):
        return match
    return replace(match, start=start, end=end)


def structured_pii_detector(regions: Sequence[str] = DEFAULT_REGIONS) -> PiiDetector:
    """The PII detectors with checksums or strict formats: fast enough (microseconds per KB
    each) to run on every request. Names and street addresses are in ``default_pii_detector``."""
    return PiiDetector((EmailDetector(), IbanDetector(), CreditCardDetector(), UsSsnDetector(),
                        UsItinDetector(), UkNinoDetector(), IpAddressDetector(),
                        PhoneDetector(tuple(regions))))


def default_pii_detector(
    regions: Sequence[str] = DEFAULT_REGIONS, lexicon: Lexicon | None = None
) -> PiiDetector:
    """Every PII detector ztai ships. Loads the word lists unless given (call once at start)."""
    return PiiDetector(
        (
            EmailDetector(),
            IbanDetector(),
            CreditCardDetector(),
            UsSsnDetector(),
            UsItinDetector(),
            UkNinoDetector(),
            IpAddressDetector(),
            PhoneDetector(tuple(regions)),
            StreetAddressDetector(),
            NameDetector(lexicon or load_lexicon()),
        )
    )
