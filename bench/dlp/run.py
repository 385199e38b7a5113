"""DLP detector benchmark: ztai's PII detectors against Microsoft Presidio, in one run, on one
labelled JSONL file (default: shared/data/pii/dev.jsonl), plus ordinary user prompts, timed only
(default: the benign prompts of shared/data/injection/dev.jsonl).

Each engine is loaded (timed), runs once over every row to give its predictions (which also
warms it up), then makes ``--reps`` timed passes, interleaved with the other engines' (the order
rotates each repetition) so that drift hits all alike; figures are medians. Everything runs on one
core (pinned; Presidio's worker process inherits the pinning). Predictions are scored here with
ztai's scorer, ``ztai.protection.evaluation_pii``, for every engine alike.

Run it with ztai's interpreter, after bench/dlp/setup.sh:

    .venv/bin/python bench/dlp/run.py --rows 300 --reps 1     # quick look, < 1 minute
    .venv/bin/python bench/dlp/run.py                         # all rows and prompts, 3 reps

See README.md beside this file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

sys.path.insert(1, str(Path(__file__).parents[1]))  # bench/common.py
from common import log, pin
from engines import (
    Engine,
    Loaded,
    PresidioEngine,
    PresidioWorker,
    ztai_engines,
    ztai_import_seconds,
)
from report import render
from scoring import dataset_types, ratios, score_engine, throughput, verdicts
from timing import Timing, read_prompts, sizes, workloads

from ztai.protection.evaluation_pii import Row, Span, parse_rows

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
RESULTS = BENCH / "results"
DEFAULT_DATA = BENCH.parents[1] / "shared" / "data" / "pii" / "dev.jsonl"
DEFAULT_PROMPTS = BENCH.parents[1] / "shared" / "data" / "injection" / "dev.jsonl"
ENGINES = {
    "ztai-structured": "ztai structured",
    "ztai-default": "ztai default (+ names, places, street addresses)",
    "presidio-pattern": "Presidio pattern-only (no-op NLP engine, no NER)",
    "presidio-spacy": "Presidio + spaCy en_core_web_sm",
}
PRESIDIO_KEYS = {"presidio-pattern": "pattern", "presidio-spacy": "spacy"}
BASELINES = ("presidio-pattern", "presidio-spacy")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled JSONL file")
    parser.add_argument("--rows", type=int, help="only the first N rows (a quick run)")
    parser.add_argument("--reps", type=int, default=3, help="timed passes per engine")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset")
    parser.add_argument("--core", type=int, help="core to pin to (default: the last one)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one core")
    parser.add_argument(
        "--joined-bytes",
        type=int,
        default=4096,
        help="size of the joined texts of the second workload (0: leave it out)",
    )
    parser.add_argument(
        "--prompts",
        type=optional_path,
        default=DEFAULT_PROMPTS,
        help="JSONL file whose benign prompts make the third workload, timed only ('': leave it "
        "out; --rows N takes the first N)",
    )
    parser.add_argument("--out", type=Path, help="JSON result (the .md goes beside it)")
    args = parser.parse_args(argv)
    args.engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    unknown = sorted(set(args.engines) - set(ENGINES))
    if unknown or not args.engines or args.reps < 1:
        parser.error(f"engines from {list(ENGINES)}, reps >= 1 (unknown: {unknown})")
    if args.out is None:
        quick = args.rows is not None
        args.out = RESULTS / "raw" / f"dlp-rows{args.rows}.json" if quick else RESULTS / "dlp.json"
    return args


def optional_path(value: str) -> Path | None:
    """A path, or None for the empty string (``--prompts ''``)."""
    return Path(value) if value else None


def build_engines(
    names: Sequence[str], texts: Mapping[str, Sequence[str]], worker: PresidioWorker | None
) -> list[Engine]:
    """The selected engines in ENGINES order."""
    found: dict[str, Engine] = {e.name: e for e in ztai_engines(texts)}
    if worker is not None:
        found |= {name: PresidioEngine(name, key, worker) for name, key in PRESIDIO_KEYS.items()}
    return [found[name] for name in ENGINES if name in names]


def measure(engines: Sequence[Engine], workloads: Sequence[str], reps: int) -> list[dict[str, Any]]:
    """``reps`` timed passes of every engine over every workload, interleaved: the engines take
    turns within a workload, and their order rotates every repetition."""
    runs = []
    for rep in range(reps):
        order = [*engines[rep % len(engines) :], *engines[: rep % len(engines)]]
        for workload in workloads:
            for position, engine in enumerate(order):
                timing = engine.time_pass(workload)
                runs.append(
                    {
                        "rep": rep,
                        "workload": workload,
                        "position": position,
                        "engine": engine.name,
                        **timing.to_json(),
                    }
                )
                log(
                    f"rep {rep} {workload:<7} {engine.name:<16} {timing.cpu_s:8.3f} s CPU "
                    f"{timing.wall_s:8.3f} s wall"
                )
    return runs


@dataclass(frozen=True, slots=True)
class Measured:
    """What the engines did: load costs, predictions over the rows, timed passes over each
    workload, and the Presidio worker's greeting (versions, import time)."""

    workloads: dict[str, list[str]]
    loaded: dict[str, Loaded]
    predictions: dict[str, list[tuple[Span, ...]]]
    runs: list[dict[str, Any]]
    presidio: dict[str, Any]


def run_engines(args: argparse.Namespace, texts: Sequence[str], prompts: Sequence[str]) -> Measured:
    """Start Presidio's worker when needed; load, predict (warm-up), then the timed passes."""
    texts_by_workload = workloads(texts, args.joined_bytes, prompts)
    with contextlib.ExitStack() as stack:
        worker = None
        if any(name in PRESIDIO_KEYS for name in args.engines):
            log("starting Presidio's worker")
            worker = stack.enter_context(
                PresidioWorker(args.data, args.rows, args.joined_bytes, args.prompts)
            )
            check_worker(worker.hello, texts_by_workload)
        engines = build_engines(args.engines, texts_by_workload, worker)
        loaded, predictions = {}, {}
        for engine in engines:
            loaded[engine.name] = engine.load()
            log(f"{engine.name}: loaded in {loaded[engine.name].load_s:.3f} s; predicting")
            predictions[engine.name] = engine.predict()
        runs = measure(engines, list(texts_by_workload), args.reps)
        hello = worker.hello if worker else {}
    return Measured(texts_by_workload, loaded, predictions, runs, hello)


def check_worker(hello: Mapping[str, Any], texts_by_workload: Mapping[str, Sequence[str]]) -> None:
    """Raise ``RuntimeError`` unless Presidio's worker built the same workloads as we did (as
    many texts, as many bytes, in each)."""
    ours = sizes(texts_by_workload)
    if hello["workloads"] != ours:
        raise RuntimeError(f"presidio worker's workloads {hello['workloads']} differ from {ours}")


def engine_results(
    rows: Sequence[Row], labels: frozenset[str], measured: Measured
) -> dict[str, dict[str, Any]]:
    """Per engine: what it is, its load time, throughput and ratios per workload, and the
    scorer's report on its predictions."""
    results = {
        name: {
            "label": ENGINES[name],
            "load_s": round(loaded.load_s, 4),
            "build_s": round(loaded.build_s, 4),
            "first_call_s": round(loaded.first_call_s, 4),
            "reports": sorted(loaded.types),
            **loaded.details,
            "throughput": {w: _throughput(measured, name, w) for w in measured.workloads},
            "score": score_engine(rows, measured.predictions[name], loaded.types, labels),
        }
        for name, loaded in measured.loaded.items()
    }
    for workload in measured.workloads:
        speeds = {name: r["throughput"][workload]["kb_per_cpu_s"] for name, r in results.items()}
        for name, speed_ratios in ratios(speeds, BASELINES).items():
            results[name].setdefault("ratios_cpu", {})[workload] = speed_ratios
    return results


def _throughput(measured: Measured, engine: str, workload: str) -> dict[str, float]:
    size = sum(len(text.encode("utf-8")) for text in measured.workloads[workload])
    timings = [
        Timing(r["cpu_s"], r["wall_s"])
        for r in measured.runs
        if r["engine"] == engine and r["workload"] == workload
    ]
    return throughput(size, timings)


def meta(args: argparse.Namespace, measured: Measured, core: int | None) -> dict[str, Any]:
    """Where, when and with what the figures were taken."""
    presidio = measured.presidio
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "pinned_core": core,
        "data": str(args.data),
        "rows": len(measured.workloads["rows"]),
        "workloads": sizes(measured.workloads),
        "joined_bytes": args.joined_bytes,
        "prompts": str(args.prompts) if args.prompts else None,
        "reps": args.reps,
        "engines": args.engines,
        "versions": {
            "python": sys.version.split()[0],
            "ztai": metadata.version("ztai"),
            **presidio.get("versions", {}),
        },
        "import_s": {
            "ztai": round(ztai_import_seconds(Path(sys.executable)), 3),
            "presidio": round(presidio["import_s"], 3) if presidio else None,
        },
    }


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    core = pin(args.core, args.no_pin)
    every_row = parse_rows(args.data.read_text("utf-8").split("\n"))
    rows = every_row[: args.rows]
    labels = dataset_types(every_row)
    prompts = read_prompts(args.prompts, args.rows) if args.prompts else []
    measured = run_engines(args, [row.text for row in rows], prompts)
    engines = engine_results(rows, labels, measured)
    result = {
        "meta": meta(args, measured, core)
        | {"dataset_types": sorted(labels), "elapsed_s": round(time.monotonic() - started, 1)},
        "engines": engines,
        "targets": verdicts(engines, list(measured.workloads)),
        "runs": measured.runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    markdown = render(result)
    args.out.with_suffix(".md").write_text(markdown + "\n", "utf-8")
    print(markdown)
    log(f"wrote {args.out} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
