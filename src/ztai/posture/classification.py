"""The data-protection detectors as the knowledge index's document classifier: a document's
label is the highest of the label its source gave and what the label rules derive from its
findings; documents at or above ``fingerprint_from`` get DLP fingerprints (winnowed shingles,
hashes only). An unknown label refuses the document rather than indexing it unlabelled."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ztai.knowledge.interface import InvalidDocument
from ztai.knowledge.model import Classification
from ztai.protection.fingerprint import shingles, winnow, words
from ztai.protection.interface import Detector
from ztai.protection.labels import LabelScheme, UnknownLabel


@dataclass(frozen=True, slots=True)
class ProtectionClassifier:
    detectors: Sequence[Detector]
    scheme: LabelScheme
    fingerprint_from: str | None = "Confidential"

    def classify(self, text: str, explicit_label: str | None) -> Classification:
        kinds = Counter(m.kind for d in self.detectors for m in d.detect(text))
        try:
            label = self.scheme.highest([explicit_label, self.scheme.derive(kinds)])
        except UnknownLabel as exc:
            raise InvalidDocument(str(exc)) from None
        prints: tuple[int, ...] = ()
        if self.fingerprint_from is not None and self.scheme.at_least(label,
                                                                      self.fingerprint_from):
            prints = tuple(sorted(set(winnow([h for h, _, _ in shingles(words(text))]))))
        return Classification(label, dict(kinds), prints)
