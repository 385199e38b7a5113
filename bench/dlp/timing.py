"""The timed loop both sides of bench/dlp share (standard library only, so that Presidio's venv
can import it too): one pass of one engine over every text, one text at a time, as a gateway
scans one request at a time; and the workloads it runs over."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# The rows of the ``prompts`` workload: ordinary user prompts, the benign prompts of an injection
# data set (shared/data/injection/dev.jsonl: ``"label": 0, "category": "benign_prompt"``).
PROMPT_LABEL = 0
PROMPT_CATEGORY = "benign_prompt"


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


# A pass shorter than this (in CPU seconds) is repeated, and timed as the mean of its rounds: a
# fast engine's pass over a small workload takes a few milliseconds, where timer and interrupt
# noise would decide the figure. Slow engines run each pass once, as before.
MIN_PASS_CPU_S = 0.25


def time_pass(analyze: Callable[[str], object], texts: Sequence[str]) -> Timing:
    """Call ``analyze`` on every text in order and time the whole pass (the mean of as many
    rounds over the texts as fill ``MIN_PASS_CPU_S``)."""
    cpu, wall = time.process_time(), time.perf_counter()
    rounds = 0
    while True:
        for text in texts:
            analyze(text)
        rounds += 1
        spent = time.process_time() - cpu
        if spent >= MIN_PASS_CPU_S or not texts:
            return Timing(spent / rounds, (time.perf_counter() - wall) / rounds)


def workloads(
    texts: Sequence[str], joined_bytes: int, prompts: Sequence[str] = ()
) -> dict[str, list[str]]:
    """The texts to time: ``rows`` as they are; ``joined``: consecutive rows joined by a blank
    line into texts of at least ``joined_bytes`` UTF-8 bytes each (the last may be shorter),
    closer to a whole prompt than one short row; ``prompts``: ``prompts`` as they are (see
    read_prompts). ``joined_bytes`` 0 leaves ``joined`` out, no prompts leaves ``prompts`` out."""
    found = {"rows": list(texts)}
    if joined_bytes > 0:
        found["joined"] = _join(texts, joined_bytes)
    if prompts:
        found["prompts"] = list(prompts)
    return found


def read_prompts(path: Path, limit: int | None) -> list[str]:
    """The ``text`` of every benign prompt row of a JSONL file (PROMPT_LABEL, PROMPT_CATEGORY),
    untouched, in file order; the first ``limit`` of them when given. Raises ``ValueError`` when
    the file holds none (a wrong file should not silently drop the workload)."""
    # Lines end at "\n" only: str.splitlines() would also split at a raw U+2028 inside a JSON
    # string (injection/dev.jsonl holds seven, in rows that are not benign prompts).
    lines = path.read_text("utf-8").split("\n")
    rows = (json.loads(line) for line in lines if line.strip())
    prompts = [
        row["text"]
        for row in rows
        if row.get("label") == PROMPT_LABEL and row.get("category") == PROMPT_CATEGORY
    ]
    if not prompts:
        raise ValueError(f"{path}: no rows with label {PROMPT_LABEL} and {PROMPT_CATEGORY!r}")
    return prompts[:limit]


def sizes(texts_by_workload: Mapping[str, Sequence[str]]) -> dict[str, dict[str, int]]:
    """Per workload, how many texts and how many UTF-8 bytes: what both sides must agree on."""
    return {
        name: {"texts": len(texts), "bytes": sum(len(t.encode("utf-8")) for t in texts)}
        for name, texts in texts_by_workload.items()
    }


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
