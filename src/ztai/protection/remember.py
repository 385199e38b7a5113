"""A detector that remembers its results for recently seen texts (``ztai.core.memo``: by
digest, never the text, bounded). Detectors are pure, so a remembered result is the result."""

from __future__ import annotations

from ztai.core.memo import DEFAULT_ENTRIES, DEFAULT_MAX_CHARS, DigestMemo
from ztai.protection.interface import Detector
from ztai.protection.model import Match


class RememberingDetector:
    """``detector`` with a least-recently-used table of its results."""

    __slots__ = ("_detector", "_memo", "name")

    def __init__(self, detector: Detector, max_entries: int = DEFAULT_ENTRIES,
                 max_chars: int = DEFAULT_MAX_CHARS) -> None:
        self.name = detector.name
        self._detector = detector
        self._memo: DigestMemo[tuple[Match, ...]] = DigestMemo(max_entries, max_chars)

    def __len__(self) -> int:
        return len(self._memo)

    def detect(self, text: str) -> list[Match]:
        return list(self._memo.get(text, self._found))

    def _found(self, text: str) -> tuple[Match, ...]:
        return tuple(self._detector.detect(text))
