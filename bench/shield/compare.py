"""ztai's prompt shield side by side with the offline peers from PyPI (jailguard with a locally
exported encoder, prompt-guardrail) on the same rows: recall and false-positive rate per kind and
per source, and latency p50/p99 on 1 KB prompts and 10 KB documents. Run with ztai's interpreter
after bench/shield/setup.sh:

    .venv/bin/python bench/shield/compare.py [--per-source N] [--reps 3] [--ztai-folds D1,D2]

ztai runs in this process; the peers in one worker (peers.py in bench/.venv-shield-peers) that
gets the very same texts (checked by digest). Everything is pinned to one core (the worker
inherits it). Each tool scores every row once (which also warms it up); then the timed passes
over the latency workloads are interleaved: every repetition the tools take turns in a rotated
order, the first repetition is a discarded warm-up, and figures are medians over the rest.
Output: bench/results/shield.{json,md} (a sampled run: bench/results/raw/, unless --out)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ztai.threats.evaluation import Row, parse_rows

sys.path.insert(0, str(Path(__file__).parent))  # siblings: comparison, engines, report
sys.path.insert(1, str(Path(__file__).parents[1]))  # bench/common.py
import comparison
import comparison_report
import engines
from common import log, pin

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "injection" / "dev.jsonl"
PEERS_PYTHON = ROOT / "bench" / ".venv-shield-peers" / "bin" / "python"
OUT = ROOT / "bench" / "results" / "shield"
WORKLOADS = {"prompt_1kb": ("prompt", 1024), "document_10kb": ("document", 10240)}
SEED = 5


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--per-source", type=int, default=0,
                        help="score at most N rows of each source (seeded sample; 0: all)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--prompts", type=int, default=300, help="1 KB prompts timed")
    parser.add_argument("--documents", type=int, default=100, help="10 KB documents timed")
    parser.add_argument("--reps", type=int, default=3, help="timed passes after the warm-up")
    parser.add_argument("--ztai-folds", default="",
                        help="model folders trained with --holdout-sources (comma-separated): "
                             "adds ztai scored on the sources it was not trained on")
    parser.add_argument("--peers-python", type=Path, default=PEERS_PYTHON)
    parser.add_argument("--core", type=int, help="core to pin to (default: the last one)")
    parser.add_argument("--no-pin", action="store_true")
    parser.add_argument("--out", type=Path, help="output path without suffix")
    return parser.parse_args(argv)


def sample(rows: Sequence[Row], per_source: int, seed: int) -> list[Row]:
    """At most ``per_source`` rows of each source (seeded), in file order; all when 0."""
    if per_source <= 0:
        return list(rows)
    rng = random.Random(seed)
    by_source: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        by_source.setdefault(row.source, []).append(index)
    keep = {i for idx in by_source.values() for i in rng.sample(idx, min(per_source, len(idx)))}
    return [row for index, row in enumerate(rows) if index in keep]


def cut_texts(pool: Sequence[str], size: int, count: int, seed: int) -> list[str]:
    """``count`` texts of ``size`` UTF-8 bytes (a split character dropped), each made of rows
    drawn at random (seeded) from ``pool`` and joined by blank lines."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts, length = [], 0
        while length < size:
            parts.append(rng.choice(pool))
            length += len(parts[-1].encode("utf-8")) + 2
        out.append("\n\n".join(parts).encode("utf-8")[:size].decode("utf-8", "ignore"))
    return out


def interleave(tools: Sequence[engines.Engine], texts: dict[str, list[str]],
               reps: int) -> dict[str, dict[str, list[engines.Pass]]]:
    """Per tool and workload, each timed pass (warm-up dropped)."""
    passes: dict[str, dict[str, list[engines.Pass]]] = {t.name: {w: [] for w in WORKLOADS}
                                                        for t in tools}
    for rep in range(reps + 1):
        shift = rep % len(tools)
        for tool in [*tools[shift:], *tools[:shift]]:
            for workload, (role, _) in WORKLOADS.items():
                timed = tool.time(workload, texts[workload], role)
                if rep:
                    passes[tool.name][workload].append(timed)
        log(f"timing pass {rep}/{reps} done" + (" (warm-up)" if not rep else ""))
    return passes


def judge(tool: engines.Engine, rows: Sequence[Row]) -> dict[str, Any]:
    """The tool's quality on ``rows`` and the wall time per row of that one pass."""
    began = time.perf_counter()
    judged = [comparison.Judged(row, score, flagged, seconds) for row, (score, flagged, seconds)
              in zip(rows, tool.score(rows), strict=True)]
    log(f"{tool.name}: {len(rows)} rows in {time.perf_counter() - began:.1f} s")
    return {"describe": tool.describe, "load_s": tool.load_s,
            "quality": comparison.quality(judged),
            "rows_latency": comparison.pass_figures([j.seconds for j in judged],
                                                    comparison.sizes_kib([r.text for r in rows]))}


def measure(args: argparse.Namespace, rows: list[Row],
            texts: dict[str, list[str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every tool's figures by name, and the worker's greeting (the peers' versions, loads)."""
    with engines.PeerWorker(args.peers_python, Path(__file__).parent / "peers.py") as worker:
        worker.send_sets({"rows": [r.text for r in rows], **texts})
        ztai, classifier = engines.ztai_engines()
        peers = worker.engines()
        timed: list[engines.Engine] = [ztai, classifier, *peers]
        scored: list[engines.Engine] = [ztai, *engines.fold_engines(args.ztai_folds),
                                        classifier, *peers]
        results = {tool.name: judge(tool, rows) for tool in scored}
        passes = interleave(timed, texts, args.reps)
        for name, by_workload in passes.items():
            results[name]["latency"] = {
                w: comparison.latency(timed, comparison.sizes_kib(texts[w]))
                for w, timed in by_workload.items()}
        return results, worker.hello


def meta(args: argparse.Namespace, rows: Sequence[Row], texts: dict[str, list[str]],
         core: int | None, hello: dict[str, Any]) -> dict[str, Any]:
    data = args.data.read_bytes()
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "cpu": engines.cpu_model(), "pinned_core": core, "loadavg_end": os.getloadavg(),
        "data": os.path.relpath(args.data, ROOT), "data_sha256": hashlib.sha256(data).hexdigest(),
        "rows": len(rows), "per_source": args.per_source, "seed": args.seed,
        "workloads": {w: {"texts": len(texts[w]), "bytes": WORKLOADS[w][1], "role": WORKLOADS[w][0]}
                      for w in WORKLOADS},
        "reps": args.reps, "peers": hello, "versions": engines.ztai_versions(),
        "command": " ".join([".venv/bin/python bench/shield/compare.py", *sys.argv[1:]]),
    }


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    core = pin(args.core, args.no_pin)
    rows = sample(parse_rows(args.data.read_text("utf-8").split("\n")), args.per_source,
                  args.seed)
    pool = [r.text for r in rows]
    texts = {"prompt_1kb": cut_texts(pool, 1024, args.prompts, args.seed + 1),
             "document_10kb": cut_texts(pool, 10240, args.documents, args.seed + 2)}
    log(f"{len(rows)} rows; core {core}")
    load = os.getloadavg()
    tools, hello = measure(args, rows, texts)
    result = {"meta": {**meta(args, rows, texts, core, hello), "loadavg_start": load},
              "tools": tools}
    out = args.out or (OUT if args.per_source <= 0 else OUT.parent / "raw" / "shield-sample")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n", "utf-8")
    page = comparison_report.render(result)
    out.with_suffix(".md").write_text(page, "utf-8")
    print(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
