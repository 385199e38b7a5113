"""The PII detector: normalises the text once, runs every PII detector over it, settles
overlaps between kinds and maps each span back onto the text it was given."""

from __future__ import annotations

from collections.abc import Sequence

from ztai.protection.interface import Detector
from ztai.protection.model import Match
from ztai.protection.normalize import Normalizer
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
from ztai.protection.pii_scan import compile_set, holds_any, utf8


class PiiDetector:
    """Runs ``detectors`` over the normalised text; spans refer to the original text. Linear in
    the text's length; never raises for any string (each detector promises the same)."""

    name = "pii"
    __slots__ = ("_anchors", "_gated", "_normalizer", "_phone", "_set", "_ungated", "detectors")

    def __init__(self, detectors: Sequence[Detector]) -> None:
        self.detectors = tuple(detectors)
        self._normalizer = Normalizer()
        # A detector's ``prefilter`` matches wherever its pattern could find a candidate: one
        # RE2 set pass over the text tells which detectors can find anything at all (most
        # prompts hold no candidate of any kind), instead of one pass per detector.
        gated = [(d, p) for d in self.detectors if (p := getattr(d, "prefilter", None))]
        self._gated = tuple(d for d, _ in gated)
        self._ungated = tuple(d for d in self.detectors if d not in self._gated)
        self._set = compile_set([p for _, p in gated]) if gated else None
        # The characters one of which every prefilter match holds (digits, "@", ":"), when
        # each gated detector declares its ``anchors``: a text with none of them skips the
        # set pass. That pass releases the GIL, and in a busy server each release can hand
        # the interpreter to another thread (the audit writer) in the middle of a request.
        anchors = [getattr(d, "anchors", "") for d in self._gated]
        self._anchors = "".join(sorted(set("".join(anchors)))) \
            if anchors and all(anchors) else None
        # Phone numbers rank below the checked identifiers: found after them, the phone
        # detector skips candidates that one of those covers (a card, an SSN, an IBAN).
        phones = [d for d in self.detectors if isinstance(d, PhoneDetector)]
        self._phone = phones[0] if len(phones) == 1 else None

    def detect(self, text: str) -> list[Match]:
        normalized = self._normalizer.normalize(text)
        plain = normalized.text
        active = self._active(plain)
        if not active:  # most prompts: no candidate of any kind
            return []
        if self._phone not in active:
            found = resolve([m for d in active for m in d.detect(plain)])
        else:
            raw = [m for d in active if d is not self._phone for m in d.detect(plain)]
            found = resolve(raw)
            phones = self._phone.detect_outside(plain, outranking(found, PiiKind.PHONE))
            if phones:  # settled with everything found: a phone may drop a street, say
                found = resolve([*raw, *phones])
        return [normalized.on_original(m) for m in found]

    def _active(self, plain: str) -> list[Detector]:
        """The detectors that can find something in ``plain``, in their configured order."""
        if self._set is None:
            return list(self.detectors)
        if self._anchors is not None and not holds_any(plain, self._anchors):
            return list(self._ungated)
        hits = self._set.Match(utf8(plain))
        if not hits:
            return list(self._ungated)
        chosen = {self._gated[i] for i in hits}
        return [d for d in self.detectors if d in chosen or d in self._ungated]


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
