"""The markdown page of bench/dlp (bench/results/dlp.md), rendered from the JSON result alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scoring import STRUCTURED

Result = Mapping[str, Any]
BASELINES = ("presidio-pattern", "presidio-spacy")
SHORT = {
    "ztai-structured": "ztai structured",
    "ztai-default": "ztai default",
    "presidio-pattern": "Presidio pattern",
    "presidio-spacy": "Presidio + spaCy",
}


def render(result: Result) -> str:
    """Every section, in reading order."""
    return "\n".join(
        [
            *_header(result["meta"]),
            *_speed(result),
            *_overall(result["engines"]),
            *_per_type(result, "F1 per type", lambda m: f"{m['f1']:.3f}"),
            *_per_type(
                result,
                "Precision / recall / F2 per type",
                lambda m: f"{m['precision']:.2f} / {m['recall']:.2f} / {m['f2']:.2f}",
            ),
            *_targets(result["targets"]),
            *_notes(result),
        ]
    )


def _table(head: Sequence[str], align: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "|".join(align) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
    ]


def _header(meta: Result) -> list[str]:
    versions = meta["versions"]
    pinned = (
        f"pinned to core {meta['pinned_core']}"
        if meta["pinned_core"] is not None
        else ("not pinned")
    )
    described = ", ".join(f"{name} {version}" for name, version in versions.items())
    return [
        "# DLP detector benchmark: ztai vs Presidio",
        "",
        f"{meta['date']} · {meta['cpu']} · {meta['cores']} cores, {pinned} · "
        f"{meta['rows']} rows, {_kb(meta['workloads']['rows'])} KB of text · "
        f"{meta['reps']} timed passes per engine, interleaved · {described}",
        "",
    ]


def _speed(result: Result) -> list[str]:
    workloads = result["meta"]["workloads"]
    head, rows = ["engine", "load s"], []
    for workload in workloads:
        head += [f"KB/s per core, {workload}", *(f"× {SHORT[b]}, {workload}" for b in BASELINES)]
    for engine in result["engines"].values():
        row = [engine["label"], f"{engine['load_s']:.3f}"]
        for workload in workloads:
            speed, ratio = engine["throughput"][workload], engine["ratios_cpu"][workload]
            row += [
                f"{speed['kb_per_cpu_s']:,.1f}",
                *(f"{ratio[b]:g}×" if b in ratio else "–" for b in BASELINES),
            ]
        rows.append(row)
    imports = result["meta"]["import_s"]
    return [
        "## Throughput: one core, one text at a time (medians of the timed passes; a pass "
        "shorter than 0.25 s of CPU repeats its workload and counts as the mean of its rounds)",
        "",
        _workload_line(result["meta"]),
        "",
        *_table(head, ["---", *["---:"] * (len(head) - 1)], rows),
        f"*load s*: building the engine (ztai: the detector and its word lists; Presidio: the "
        f"AnalyzerEngine, spaCy model included) plus its first call on one short sentence "
        f"(lazy set-up). Import in a fresh interpreter, not in *load s*: "
        f"ztai {imports['ztai']} s, Presidio {imports['presidio']} s.",
        "",
        *_timing_detail(result),
    ]


def _workload_line(meta: Result) -> str:
    sizes = meta["workloads"]
    text = f"*rows*: the {sizes['rows']['texts']} rows one by one ({_kb(sizes['rows'])} KB)"
    if "joined" in sizes:
        text += (
            f"; *joined*: the same rows joined by blank lines into "
            f"{sizes['joined']['texts']} texts of about {meta['joined_bytes']} bytes "
            f"({_kb(sizes['joined'])} KB), closer to whole prompts"
        )
    if "prompts" in sizes:
        text += (
            f"; *prompts*: {sizes['prompts']['texts']} ordinary user prompts one by one "
            f"({_kb(sizes['prompts'])} KB; the benign prompts of {meta['prompts']}), mostly "
            f"free of PII, as a gateway sees most traffic; timed only (no gold spans)"
        )
    return text + ". KB = 1024 bytes of UTF-8; KB/s per core = KB / CPU seconds."


def _kb(size: Result) -> str:
    return f"{size['bytes'] / 1024:,.1f}"


def _timing_detail(result: Result) -> list[str]:
    rows = []
    for name, engine in result["engines"].items():
        for workload, speed in engine["throughput"].items():
            rows.append(
                [
                    SHORT.get(name, name),
                    workload,
                    f"{speed['cpu_s']:.3f}",
                    f"{speed['cpu_s_min']:.3f}–{speed['cpu_s_max']:.3f}",
                    f"{speed['wall_s']:.3f}",
                    f"{speed['kb_per_wall_s']:,.1f}",
                ]
            )
    head = ["engine", "workload", "CPU s / pass", "CPU s min–max", "wall s / pass", "KB/s (wall)"]
    return [
        "<details><summary>Per-pass timings</summary>",
        "",
        *_table(head, ["---", "---", *["---:"] * 4], rows),
        "</details>",
        "",
    ]


def _overall(engines: Result) -> list[str]:
    rows = []
    for engine in engines.values():
        report = engine["score"]
        own, exact = report["overall"]["overlap"], report["overall"]["exact"]
        rows.append(
            [
                engine["label"],
                str(len(report["covered_types"])),
                *(f"{own[key]:.3f}" for key in ("precision", "recall", "f1", "f2")),
                f"{exact['f1']:.3f}",
                f"{report['overall_structured']['overlap']['f1']:.3f}",
                f"{report['overall_all_types']['overlap']['f1']:.3f}",
            ]
        )
    head = [
        "engine",
        "types scored",
        "P",
        "R",
        "F1",
        "F2",
        "F1 exact bounds",
        f"F1 on the {len(STRUCTURED)} structured types",
        "F1 on every labelled type",
    ]
    return [
        "## Accuracy overall (ztai's scorer; overlap rule unless said)",
        "",
        "*P, R, F1, F2* cover the data-set types the engine reports (*types scored*). The "
        f"structured types are {', '.join(STRUCTURED)}, the same set for every engine. "
        "*Every labelled type* counts gold spans of types an engine never reports as missed.",
        "",
        *_table(head, ["---", *["---:"] * 8], rows),
    ]


def _per_type(result: Result, title: str, cell: Any) -> list[str]:
    engines = result["engines"]
    gold = _gold_counts(engines)
    rows = []
    for kind in sorted(gold, key=lambda k: (-gold[k], k)):
        cells = [
            cell(e["score"]["types"][kind]["overlap"])
            if kind in e["score"]["covered_types"]
            else "–"
            for e in engines.values()
        ]
        rows.append([kind, str(gold[kind]), *cells])
    head = ["type", "gold", *(SHORT.get(name, name) for name in engines)]
    return [
        f"## {title} (overlap rule; – = the engine does not report the type)",
        "",
        *_table(head, ["---", "---:", *["---:"] * len(engines)], rows),
    ]


def _gold_counts(engines: Result) -> dict[str, int]:
    counts: dict[str, int] = {}
    for engine in engines.values():
        for kind, rules in engine["score"]["types"].items():
            if rules["overlap"]["gold"]:
                counts[kind] = rules["overlap"]["gold"]
    return counts


def _targets(targets: Sequence[Result]) -> list[str]:
    if not targets:
        return []
    met = {True: "yes", False: "**no**", None: "n/a (no gold span)"}
    rows = [[t["target"], t["measured"], met[t["met"]]] for t in targets]
    return [
        "## Targets (from the issue)",
        "",
        *_table(["target", "measured", "met"], ["---", "---", "---"], rows),
    ]


def _notes(result: Result) -> list[str]:
    engines = result["engines"]
    covered = set().union(*(e["score"]["covered_types"] for e in engines.values()))
    unscored = sorted(set(result["meta"]["dataset_types"]) - covered)
    lines = ["## Notes", ""]
    for name, engine in engines.items():
        dropped = engine["score"]["dropped_predictions"]
        listed = ", ".join(f"{k} {v}" for k, v in dropped.items()) or "none"
        lines.append(
            f"- {SHORT.get(name, name)}: predictions left out (types the data set "
            f"never labels): {listed}."
        )
    lines.append(f"- Labelled types no engine here reports: {', '.join(unscored) or 'none'}.")
    lines.append(
        "- Presidio's URL is scored as DOMAIN_NAME; gold ADDRESS as STREET_ADDRESS "
        "(Presidio has no street-address recognizer). See bench/dlp/README.md."
    )
    return lines
