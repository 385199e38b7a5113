"""Latency of the shield's trained classifier (ztai.threats.classifier) on 1 KB prompts and
10 KB documents: p50/p99 milliseconds per text and per KB, one core, warm.

    .venv/bin/python bench/shield/classifier_latency.py [--rows FILE.jsonl] [--model DIR]

Texts are cut from the rows of FILE (default: the test fixtures) joined in a seeded order, so
every run measures the same inputs."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from ztai.threats.classifier import Role, ShieldModel

FIXTURE = Path(__file__).parents[2] / "tests/threats/fixtures/shield_sample.jsonl"


def texts(rows: Path, size: int, count: int, seed: int) -> list[str]:
    pool = [json.loads(line).get("context") or json.loads(line)["text"]
            for line in rows.read_text(encoding="utf-8").split("\n") if line.strip()]
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        rng.shuffle(pool)
        out.append(" ".join(pool)[:size] if len(" ".join(pool)) >= size
                   else (" ".join(pool) * (size // max(len(" ".join(pool)), 1) + 1))[:size])
    return out


def measure(model: ShieldModel, batch: list[str], role: Role) -> dict[str, float]:
    for text in batch[:20]:
        model.score(text, role)
    times = []
    for text in batch:
        began = time.perf_counter()
        model.score(text, role)
        times.append((time.perf_counter() - began) * 1000)
    times.sort()
    kb = len(batch[0].encode()) / 1024
    p50, p99 = statistics.median(times), times[int(0.99 * (len(times) - 1))]
    return {"p50_ms": p50, "p99_ms": p99, "p50_ms_per_kb": p50 / kb, "p99_ms_per_kb": p99 / kb}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=Path, default=FIXTURE)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--count", type=int, default=500)
    args = parser.parse_args()
    model = ShieldModel.from_files(args.model) if args.model else ShieldModel.load()
    result = {
        "prompt_1kb": measure(model, texts(args.rows, 1024, args.count, 1), Role.PROMPT),
        "document_10kb": measure(model, texts(args.rows, 10240, args.count // 5, 2),
                                 Role.DOCUMENT),
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
