"""A hang turned into a test failure: ``within(seconds)`` raises ``TimeoutError`` in the code it
wraps once the time is up (SIGALRM: Linux, the main thread, where pytest runs tests and anyio
runs their event loop), so a loop that never ends fails its test instead of stopping CI."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


@contextlib.contextmanager
def within(seconds: int) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"no result within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
