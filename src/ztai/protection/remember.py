"""A detector that remembers its results for recently seen texts. A conversation resends its
whole history with every turn, and system prompts and tool definitions repeat on every request:
scanning each again costs the same every time and finds the same. Detectors are pure, so a
remembered result is the result.

Texts are remembered by a 128-bit BLAKE2b digest, never by the text itself (no prompt stays in
memory because it was scanned); the table is bounded in entries and skips texts longer than
``max_chars`` (those rarely repeat and would take long to hash for nothing)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from hashlib import blake2b

from ztai.protection.interface import Detector
from ztai.protection.model import Match

DEFAULT_ENTRIES = 4096
DEFAULT_MAX_CHARS = 64 * 1024


class RememberingDetector:
    """``detector`` with a least-recently-used table of its results."""

    __slots__ = ("_detector", "_lock", "_max_chars", "_max_entries", "_seen", "name")

    def __init__(self, detector: Detector, max_entries: int = DEFAULT_ENTRIES,
                 max_chars: int = DEFAULT_MAX_CHARS) -> None:
        if max_entries < 1 or max_chars < 0:
            raise ValueError("max_entries must be at least 1 and max_chars not negative")
        self.name = detector.name
        self._detector = detector
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._seen: OrderedDict[bytes, tuple[Match, ...]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def detect(self, text: str) -> list[Match]:
        if len(text) > self._max_chars:
            return self._detector.detect(text)
        key = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self._lock:
            known = self._seen.get(key)
            if known is not None:
                self._seen.move_to_end(key)
                return list(known)
        found = self._detector.detect(text)
        with self._lock:
            self._seen[key] = tuple(found)
            if len(self._seen) > self._max_entries:
                self._seen.popitem(last=False)
        return found
