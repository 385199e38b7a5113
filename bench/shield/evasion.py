"""The evasion suite on a whole data set: the heuristic tier's recall on the attacks of a JSONL
file ({"text", "label", "context"?, "category"?}; harmful_request rows are left out, they are not
injections), clear and under each obfuscation of tests/threats/obfuscations.py, with the ratio
(target: at least 0.95) and the CPU time per obfuscation. Without a file it uses the committed
sample, tests/threats/fixtures/attacks.jsonl.

Usage: python bench/shield/evasion.py [FILE.jsonl] [--limit N] [--json]
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the obfuscations live with the tests, which run from the root

from tests.threats.obfuscations import OBFUSCATIONS  # noqa: E402

from ztai.threats.heuristics import HeuristicDetector  # noqa: E402

SAMPLE = ROOT / "tests" / "threats" / "fixtures" / "attacks.jsonl"
TARGET = 0.95


def main(argv: list[str]) -> None:
    limit = int(argv[argv.index("--limit") + 1]) if "--limit" in argv[:-1] else 0
    args = [a for i, a in enumerate(argv) if not a.startswith("--") and argv[i - 1] != "--limit"]
    attacks = _attacks(Path(args[0]) if args else SAMPLE, limit)
    report = _evaluate(HeuristicDetector(), attacks)
    print(json.dumps(report, indent=2) if "--json" in argv else _table(report))


def _attacks(path: Path, limit: int) -> list[str]:
    rows = [json.loads(line) for line in path.read_text("utf-8").split("\n") if line.strip()]
    texts = [
        row.get("context") or row["text"]
        for row in rows
        if int(row.get("label", 1)) and row.get("category") != "harmful_request"
    ]
    if limit and limit < len(texts):
        texts = random.Random(5).sample(texts, limit)
    return texts


def _evaluate(detector: HeuristicDetector, attacks: list[str]) -> dict:  # type: ignore[type-arg]
    clear, clear_s = _recall(detector, attacks)
    rows = {"clear": {"recall": clear, "ratio": 1.0, "cpu_s": clear_s}}
    for name, obfuscate in OBFUSCATIONS.items():
        recall, seconds = _recall(detector, [obfuscate(text) for text in attacks])
        ratio = round(recall / clear, 4) if clear else float("nan")
        rows[name] = {"recall": recall, "ratio": ratio, "cpu_s": seconds}
    worst = min(row["ratio"] for row in rows.values())
    return {
        "attacks": len(attacks),
        "target_ratio": TARGET,
        "passes": worst >= TARGET,
        "obfuscations": rows,
    }


def _recall(detector: HeuristicDetector, texts: list[str]) -> tuple[float, float]:
    started = time.process_time()
    flagged = sum(detector.detect(text).is_attack() for text in texts)
    return round(flagged / len(texts), 4), round(time.process_time() - started, 2)


def _table(report: dict) -> str:  # type: ignore[type-arg]
    lines = [
        f"heuristic tier, {report['attacks']} attacks, target ratio {report['target_ratio']}"
        f" ({'met' if report['passes'] else 'NOT met'})",
        "",
        "| obfuscation | recall | ratio to clear | CPU s |",
        "|---|---:|---:|---:|",
    ]
    for name, row in report["obfuscations"].items():
        lines.append(f"| {name} | {row['recall']:.3f} | {row['ratio']:.3f} | {row['cpu_s']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
