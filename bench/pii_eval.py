"""Scores ztai's PII detector on a labelled JSONL file (default: shared/data/pii/dev.jsonl) and
measures its throughput on one core. Usage: python bench/pii_eval.py [FILE.jsonl] [--json]"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from ztai.protection.evaluation_pii import Row, parse_rows, predict, score
from ztai.protection.pii import default_pii_detector

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "pii" / "dev.jsonl"
REPEATS = 3


def main(argv: list[str]) -> None:
    args = [a for a in argv if a != "--json"]
    path = Path(args[0]) if args else DEFAULT
    rows = parse_rows(path.read_text("utf-8").split("\n"))
    started = time.perf_counter()
    detector = default_pii_detector()
    load_s = time.perf_counter() - started
    report = score(rows, [predict(detector, row.text) for row in rows])
    report["throughput"] = _throughput(detector, rows) | {"load_seconds": round(load_s, 3)}
    print(json.dumps(report, indent=2) if "--json" in argv else _table(report))


def _throughput(detector: object, rows: list[Row]) -> dict[str, float]:
    size_kb = sum(len(row.text.encode("utf-8")) for row in rows) / 1024
    best = float("inf")
    for _ in range(REPEATS):
        started = time.process_time()
        for row in rows:
            detector.detect(row.text)  # type: ignore[attr-defined]
        best = min(best, time.process_time() - started)
    return {
        "kb": round(size_kb, 1),
        "seconds": round(best, 3),
        "kb_per_s": round(size_kb / best, 1),
    }


def _table(report: dict) -> str:  # type: ignore[type-arg]
    lines = [
        f"{'type':<16} {'gold':>5} {'pred':>5}  {'P':>6} {'R':>6} {'F1':>6} {'F2':>6}   exact F2"
    ]
    entries = [
        *report["types"].items(),
        ("OVERALL", report["overall"]),
        ("ALL TYPES", report["overall_all_types"]),
    ]
    for name, rules in entries:
        m, e = rules["overlap"], rules["exact"]
        lines.append(
            f"{name:<16} {m['gold']:>5} {m['predicted']:>5}  {m['precision']:>6.3f} "
            f"{m['recall']:>6.3f} {m['f1']:>6.3f} {m['f2']:>6.3f}   {e['f2']:>6.3f}"
        )
    lines.append(f"not detected: {report['not_detected']}")
    lines.append(f"throughput: {report['throughput']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
