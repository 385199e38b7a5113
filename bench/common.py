"""Helpers the benchmark scripts share: progress lines on stderr, and pinning the process (and
the workers it starts later, which inherit the pinning) to one core."""

from __future__ import annotations

import os
import sys
import time


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def pin(core: int | None, no_pin: bool) -> int | None:
    """Pin to ``core`` (default: the last one this process may use); None when not pinned."""
    if no_pin:
        return None
    chosen = max(os.sched_getaffinity(0)) if core is None else core
    os.sched_setaffinity(0, {chosen})
    return chosen
