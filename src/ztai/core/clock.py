"""Injected time and ids, so that tests are exact."""

from __future__ import annotations

import os
import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (wall clock)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, for measuring durations."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.perf_counter()


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


class RandomPool:
    """``os.urandom`` drawn ``size`` bytes at a time and handed out in slices: one ``getrandom``
    call per many ids instead of one each (the call releases the GIL, which in a busy server can
    hand the interpreter to another thread mid-request). A forked child starts with an empty
    pool, so parent and child never hand out the same bytes; every byte is handed out once."""

    def __init__(self, size: int = 4096) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._size = size
        self._lock = threading.Lock()
        self._pool = b""
        self._at = 0
        os.register_at_fork(after_in_child=self._drop)

    def take(self, n: int) -> bytes:
        if n > self._size:
            return os.urandom(n)
        with self._lock:
            if self._at + n > len(self._pool):
                self._pool, self._at = os.urandom(self._size), 0
            start, self._at = self._at, self._at + n
            return self._pool[start:self._at]

    def _drop(self) -> None:
        self._lock = threading.Lock()  # a lock held by another thread at fork stays held
        self._pool, self._at = b"", 0


_IDS = RandomPool()


def new_id(prefix: str = "") -> str:
    """A random, URL-safe identifier of 96 bits (from the operating system's CSPRNG)."""
    return prefix + _IDS.take(12).hex()
