"""ztai's PII detector with NER names (``ner_pii_detector``, the ``ztai[ner]`` extra) against its
default one (word lists, ``default_pii_detector``): PERSON and LOCATION scores on a labelled JSONL
file (default: shared/data/pii/dev.jsonl) and CPU time per KB on one pinned core, median and best
of ``--reps`` interleaved passes, for the rows one by one and joined into ~4 KB texts.
Usage: python bench/ner_eval.py [FILE.jsonl] [--reps N] [--json]   (needs ztai[ner] installed)"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ztai.protection.evaluation_pii import parse_rows, predict, score
from ztai.protection.interface import Detector
from ztai.protection.pii import default_pii_detector
from ztai.protection.pii_ner import (
    default_with_ner_pii_detector,
    ner_name_detector,
    ner_pii_detector,
)

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "pii" / "dev.jsonl"
ENGINES: dict[str, Callable[[], Detector]] = {
    "default (word lists)": default_pii_detector,
    "ner_pii_detector": ner_pii_detector,
    "default_with_ner": default_with_ner_pii_detector,
    "NER names only": ner_name_detector,
}
TYPES = ("PERSON", "LOCATION")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
JOINED_BYTES = 4096


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    # One core, one thread. spaCy (numpy, blis) is imported only when a builder runs, below.
    for var in THREAD_VARS:
        os.environ.setdefault(var, "1")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    rows = parse_rows(args.file.read_text("utf-8").split("\n"))
    texts = [row.text for row in rows]
    workloads = {"rows": texts, "joined": joined(texts, JOINED_BYTES)}
    detectors: dict[str, Detector] = {}
    results: dict[str, dict[str, Any]] = {}
    for name, factory in ENGINES.items():
        started = time.perf_counter()
        detectors[name] = factory()
        detectors[name].detect("Ada Lovelace lives in London.")  # spaCy sets up on first call
        load_s = time.perf_counter() - started
        report = score(rows, [predict(detectors[name], text) for text in texts])
        results[name] = {
            "load_s": round(load_s, 2),
            "types": {t: report["types"][t]["overlap"] for t in TYPES},
            "exact_f1": {t: report["types"][t]["exact"]["f1"] for t in TYPES},
        }
    for name, speed in timings(detectors, workloads, args.reps).items():
        results[name]["us_per_kb"] = speed
    print(json.dumps(results, indent=2) if args.json else table(results))


def timings(
    detectors: dict[str, Detector], workloads: dict[str, list[str]], reps: int
) -> dict[str, dict[str, dict[str, float]]]:
    """CPU µs per KB (1,024 bytes of UTF-8), one text per call: median and best of ``reps``
    passes. The engines take turns, in an order that rotates, so drift hits all alike."""
    seconds: dict[tuple[str, str], list[float]] = {}
    names = list(detectors)
    for rep in range(reps):
        for name in names[rep % len(names) :] + names[: rep % len(names)]:
            for workload, texts in workloads.items():
                started = time.process_time()
                for text in texts:
                    detectors[name].detect(text)
                seconds.setdefault((name, workload), []).append(time.process_time() - started)
    sizes = {w: sum(len(t.encode("utf-8")) for t in texts) / 1024 for w, texts in workloads.items()}
    return {
        name: {
            w: {
                "median": round(statistics.median(seconds[name, w]) * 1e6 / sizes[w]),
                "best": round(min(seconds[name, w]) * 1e6 / sizes[w]),
            }
            for w in workloads
        }
        for name in names
    }


def joined(texts: Sequence[str], limit: int) -> list[str]:
    """The texts joined by blank lines into pieces of about ``limit`` bytes, as a prompt is."""
    pieces: list[list[str]] = [[]]
    size = 0
    for text in texts:
        if size and size + len(text.encode("utf-8")) > limit:
            pieces.append([])
            size = 0
        pieces[-1].append(text)
        size += len(text.encode("utf-8")) + 2
    return ["\n\n".join(piece) for piece in pieces]


def table(results: dict[str, dict[str, Any]]) -> str:
    head = f"{'engine':<22} {'type':<9} {'gold':>5} {'pred':>5} {'P':>6} {'R':>6} {'F1':>6}"
    lines = [head + f" {'F2':>6} {'exactF1':>7}"]
    for name, result in results.items():
        for kind in TYPES:
            m, exact = result["types"][kind], result["exact_f1"][kind]
            lines.append(
                f"{name:<22} {kind:<9} {m['gold']:>5} {m['predicted']:>5} {m['precision']:>6.3f}"
                f" {m['recall']:>6.3f} {m['f1']:>6.3f} {m['f2']:>6.3f} {exact:>7.3f}"
            )
    lines.append("")
    lines.append("CPU µs per KB, median (best) of the passes. Load: build and first call (the")
    lines.append("first NER engine's includes importing spaCy).")
    lines.append(f"{'engine':<22} {'load s':>7} {'rows':>18} {'joined (~4 KB)':>18}")
    for name, result in results.items():
        rows, joined = (result["us_per_kb"][w] for w in ("rows", "joined"))
        lines.append(
            f"{name:<22} {result['load_s']:>7.2f} {rows['median']:>9,} ({rows['best']:>6,})"
            f" {joined['median']:>9,} ({joined['best']:>6,})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
