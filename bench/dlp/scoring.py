"""Scores every engine of bench/dlp with ztai's own scorer (``ztai.protection.evaluation_pii``),
so that all of them are judged by the same span-matching rules, and turns timings into
throughput figures and ratios. Pure functions over values; run.py does the I/O."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from timing import Timing

from ztai.protection.evaluation_pii import GOLD_ALIASES, Row, Span, score

# Presidio types renamed to the data set's: its UrlRecognizer finds what the data set labels
# DOMAIN_NAME (which holds full URLs too). LOCATION needs nothing: Presidio maps spaCy's GPE,
# LOC and FAC to LOCATION, the data set says LOCATION, and the scorer reads gold GPE as LOCATION.
PRESIDIO_TO_DATASET = {"URL": "DOMAIN_NAME"}
# The structured types in the data set that ztai and Presidio both detect: the target.
STRUCTURED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS")
KB = 1024


def dataset_types(rows: Iterable[Row]) -> frozenset[str]:
    """The gold types of the data set, as the scorer reads them (ADDRESS as STREET_ADDRESS)."""
    return frozenset(GOLD_ALIASES.get(s.type, s.type) for row in rows for s in row.spans)


def to_dataset(spans: Sequence[Span], labels: frozenset[str]) -> tuple[list[Span], Counter[str]]:
    """``spans`` renamed to the data set's types, and a count of those left out because the data
    set never labels their type (Presidio's UK_NHS, NRP, ...; ztai's US_ITIN, UK_NINO): no
    engine is charged a false positive for a kind of data the labellers did not look for."""
    kept, dropped = [], Counter[str]()
    for span in spans:
        kind = PRESIDIO_TO_DATASET.get(span.type, span.type)
        if kind in labels:
            kept.append(Span(span.start, span.end, kind))
        else:
            dropped[kind] += 1
    return kept, dropped


def score_engine(
    rows: Sequence[Row],
    predictions: Sequence[Sequence[Span]],
    reported: frozenset[str],
    labels: frozenset[str],
) -> dict[str, Any]:
    """The scorer's report for one engine, ``overall`` over the data-set types the engine can
    report, plus ``overall_structured`` over STRUCTURED and what was left out."""
    kept, dropped = [], Counter[str]()
    for spans in predictions:
        row_kept, row_dropped = to_dataset(spans, labels)
        kept.append(row_kept)
        dropped.update(row_dropped)
    covered = frozenset(PRESIDIO_TO_DATASET.get(t, t) for t in reported) & labels
    report = score(rows, kept, covered)
    report["overall_structured"] = score(rows, kept, frozenset(STRUCTURED))["overall"]
    report["covered_types"] = sorted(covered)
    report["dropped_predictions"] = dict(sorted(dropped.items()))
    return report


def throughput(size_bytes: int, timings: Sequence[Timing]) -> dict[str, float]:
    """Medians over the timed passes: seconds, and KB (1024 bytes) per CPU second (per core,
    the engines being single-threaded) and per wall second."""
    cpu = statistics.median(t.cpu_s for t in timings)
    wall = statistics.median(t.wall_s for t in timings)
    kb = size_bytes / KB
    return {
        "cpu_s": round(cpu, 4),
        "wall_s": round(wall, 4),
        "kb_per_cpu_s": round(kb / cpu, 1),
        "kb_per_wall_s": round(kb / wall, 1),
        "cpu_s_min": round(min(t.cpu_s for t in timings), 4),
        "cpu_s_max": round(max(t.cpu_s for t in timings), 4),
    }


def ratios(speeds: Mapping[str, float], baselines: Sequence[str]) -> dict[str, dict[str, float]]:
    """For every engine, its speed divided by each baseline's that was run."""
    return {
        name: {base: _significant(speed / speeds[base]) for base in baselines if base in speeds}
        for name, speed in speeds.items()
    }


def _significant(value: float) -> float:
    return float(f"{value:.3g}")


def verdicts(
    engines: Mapping[str, Mapping[str, Any]], workloads: Sequence[str]
) -> list[dict[str, Any]]:
    """The issue's targets, each measured and judged (those whose engines were not run are left
    out): ztai structured ≥ 100× Presidio pattern-only per core with F1 ≥ Presidio's on every
    structured type; ztai with names ≥ 10× Presidio with spaCy per core. Speed is judged on
    every workload; ``met`` is None where the data set has no gold span of the type."""
    found: list[dict[str, Any]] = []
    pair = ("ztai-structured", "presidio-pattern")
    if all(name in engines for name in pair):
        found += [_speed_verdict(engines, pair, 100, workload) for workload in workloads]
        found += [_f1_verdict(engines, pair, kind) for kind in STRUCTURED]
    pair = ("ztai-default", "presidio-spacy")
    if all(name in engines for name in pair):
        found += [_speed_verdict(engines, pair, 10, workload) for workload in workloads]
    return found


def _speed_verdict(
    engines: Mapping[str, Mapping[str, Any]], pair: tuple[str, str], factor: int, workload: str
) -> dict[str, Any]:
    ours, theirs = pair
    mine = engines[ours]["throughput"][workload]["kb_per_cpu_s"]
    other = engines[theirs]["throughput"][workload]["kb_per_cpu_s"]
    return {
        "target": f"{ours} ≥ {factor}× {theirs} KB/s per core ({workload})",
        "measured": f"{_significant(mine / other)}× ({mine:,.0f} vs {other:,.1f} KB/s)",
        "met": mine >= factor * other,
    }


def _f1_verdict(
    engines: Mapping[str, Mapping[str, Any]], pair: tuple[str, str], kind: str
) -> dict[str, Any]:
    ours, theirs = pair
    mine, other = (_metrics(engines[name]["score"], kind) for name in pair)
    return {
        "target": f"{ours} F1 ≥ {theirs} F1 on {kind}",
        "measured": f"{mine['f1']:.3f} vs {other['f1']:.3f} ({mine['gold']} gold spans)",
        "met": mine["f1"] >= other["f1"] if mine["gold"] else None,
    }


def _metrics(report: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    empty = {"f1": 0.0, "gold": 0}
    return report["types"].get(kind, {}).get("overlap", empty)  # type: ignore[no-any-return]
