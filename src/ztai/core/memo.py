"""Results of a pure function of a text, remembered for recently seen texts. A conversation
resends its whole history with every turn, and system prompts and tool definitions repeat on
every request: judging each again costs the same every time and gives the same answer.

Texts are remembered by a 128-bit BLAKE2b digest, never by the text itself (no prompt stays in
memory because it was judged); the table is bounded in entries and skips texts longer than
``max_chars`` (those rarely repeat and would take long to hash for nothing)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from hashlib import blake2b
from typing import Generic, TypeVar

DEFAULT_ENTRIES = 4096
DEFAULT_MAX_CHARS = 64 * 1024

T = TypeVar("T")


class DigestMemo(Generic[T]):
    """A least-recently-used table of ``compute(text)`` by the text's digest and a ``scope``
    (what else the result depends on, e.g. the role the text is judged in). Thread-safe;
    the values are shared, so they should be immutable."""

    __slots__ = ("_lock", "_max_chars", "_max_entries", "_seen")

    def __init__(self, max_entries: int = DEFAULT_ENTRIES,
                 max_chars: int = DEFAULT_MAX_CHARS) -> None:
        if max_entries < 1 or max_chars < 0:
            raise ValueError("max_entries must be at least 1 and max_chars not negative")
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._seen: OrderedDict[tuple[str, bytes], T] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def keys(self) -> list[tuple[str, bytes]]:
        """What is remembered: (scope, digest) pairs, for inspection and tests."""
        with self._lock:
            return list(self._seen)

    def get(self, text: str, compute: Callable[[str], T], scope: str = "") -> T:
        if len(text) > self._max_chars:
            return compute(text)
        key = (scope, blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest())
        with self._lock:
            if key in self._seen:
                self._seen.move_to_end(key)
                return self._seen[key]
        value = compute(text)
        with self._lock:
            self._seen[key] = value
            if len(self._seen) > self._max_entries:
                self._seen.popitem(last=False)
        return value
