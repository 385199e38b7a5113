"""The timed loop both sides of bench/dlp share (standard library only, so that Presidio's venv
can import it too): one pass of one engine over every text, one text at a time, as a gateway
scans one request at a time."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Timing:
    """CPU seconds (this process, all its threads) and wall seconds of one pass."""

    cpu_s: float
    wall_s: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# The first call after building an engine may still load or compile things lazily: "load time"
# is building plus this first call, on this text, for every engine.
FIRST_TEXT = "Call John Smith on +1 212 555 0199 or at john.smith@example.com, from Paris."


def time_first_call(analyze: Callable[[str], object]) -> float:
    """Wall seconds of ``analyze(FIRST_TEXT)``."""
    started = time.perf_counter()
    analyze(FIRST_TEXT)
    return time.perf_counter() - started


def time_pass(analyze: Callable[[str], object], texts: Sequence[str]) -> Timing:
    """Call ``analyze`` on every text in order and time the whole pass."""
    cpu, wall = time.process_time(), time.perf_counter()
    for text in texts:
        analyze(text)
    return Timing(time.process_time() - cpu, time.perf_counter() - wall)


def workloads(texts: Sequence[str], joined_bytes: int) -> dict[str, list[str]]:
    """The texts to time: ``rows`` as they are, and ``joined``: consecutive rows joined by a
    blank line into texts of at least ``joined_bytes`` UTF-8 bytes each (the last may be shorter),
    closer to a whole prompt than one short row. ``joined_bytes`` 0 leaves ``joined`` out."""
    found = {"rows": list(texts)}
    if joined_bytes > 0:
        found["joined"] = _join(texts, joined_bytes)
    return found


def _join(texts: Sequence[str], size: int) -> list[str]:
    joined, current, current_bytes = [], [], 0
    for text in texts:
        current.append(text)
        current_bytes += len(text.encode("utf-8")) + 2
        if current_bytes >= size:
            joined.append("\n\n".join(current))
            current, current_bytes = [], 0
    if current:
        joined.append("\n\n".join(current))
    return joined
