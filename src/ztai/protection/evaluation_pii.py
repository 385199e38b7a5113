"""Scoring a detector on labelled PII rows ``{"text", "spans": [{"start", "end", "type"}]}``
with Presidio's entity names. Pure functions: the caller reads the file and prints the report.

Span matching. A predicted span and a gold span *match* when they have the same type and their
overlap covers at least half of the shorter one (``overlap``), or when their boundaries are
identical (``exact``). A prediction counts as a true positive when it matches some gold span
(precision = true positives / predictions); a gold span counts as found when some prediction
matches it (recall = found / gold). F1 and F2 combine the two; F2 weighs recall four times as
much, as presidio-research does. Gold types the detector never reports are listed under
``not_detected`` and, in ``overall_all_types``, count as missed; ``overall`` covers the types
the detector reports. Gold "ADDRESS" is scored as STREET_ADDRESS and "GPE" as LOCATION."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ztai.core.lines import parse_lines
from ztai.protection.interface import Detector
from ztai.protection.pii_kinds import PiiKind

GOLD_ALIASES = {"ADDRESS": "STREET_ADDRESS", "GPE": "LOCATION"}
DETECTED_TYPES = frozenset(kind.presidio_name for kind in PiiKind)
MIN_OVERLAP = 0.5
RULES = ("overlap", "exact")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    type: str


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Tally:
    """Counts for one type under one rule: predictions matched, gold spans found."""

    predicted: int = 0
    gold: int = 0
    true_positives: int = 0
    found: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.predicted + other.predicted,
            self.gold + other.gold,
            self.true_positives + other.true_positives,
            self.found + other.found,
        )


def parse_rows(lines: Iterable[str]) -> list[Row]:
    """One JSON object a line; blank lines skipped. Raises ``ValueError`` naming the first
    malformed line: no string ``text``, ``spans`` not a list of ``{start, end, type}``, or a
    span outside its text or empty (scored as given before 2026-11-28: a gold span past the
    end of its text counted as missed)."""
    return parse_lines(lines, _parse_row)


def _parse_row(line: str) -> Row:
    data = json.loads(line)
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ValueError("each row needs a string 'text'")
    spans = data.get("spans", [])
    if not isinstance(spans, list):
        raise ValueError("'spans' must be a list of {start, end, type}")
    return Row(data["text"], tuple(_span(s, len(data["text"])) for s in spans))


def _span(item: object, length: int) -> Span:
    if not isinstance(item, dict):
        raise ValueError("each span must be an object {start, end, type}")
    start, end, kind = item.get("start"), item.get("end"), item.get("type")
    if type(start) is not int or type(end) is not int:  # not bool, not float, not "3"
        raise ValueError(f"a span's start and end must be integers: {item}")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"a span needs a type name: {item}")
    if not 0 <= start < end <= length:
        raise ValueError(f"span {start}..{end} is empty or outside its text of {length} "
                         "characters")
    return Span(start, end, kind)


def predict(detector: Detector, text: str) -> tuple[Span, ...]:
    """The detector's findings as Presidio-typed spans; kinds with no Presidio name are left out."""
    known = {kind.value: kind.presidio_name for kind in PiiKind}
    return tuple(
        Span(m.start, m.end, known[m.kind]) for m in detector.detect(text) if m.kind in known
    )


def evaluate(detector: Detector, rows: Sequence[Row]) -> dict[str, Any]:
    """Run ``detector`` on every row and score it: see the module docstring for the rules."""
    return score(rows, [predict(detector, row.text) for row in rows])


def score(
    rows: Sequence[Row],
    predictions: Sequence[Sequence[Span]],
    detected_types: frozenset[str] = DETECTED_TYPES,
) -> dict[str, Any]:
    """The report: per type and overall precision, recall, F1 and F2 under both rules."""
    tallies = {rule: _tally_all(rows, predictions, rule) for rule in RULES}
    types = sorted(set().union(*(t.keys() for t in tallies.values())))
    covered = [t for t in types if t in detected_types]
    return {
        "rows": len(rows),
        "rules": {"overlap": f">= {MIN_OVERLAP:.0%} of the shorter span", "exact": "same bounds"},
        "types": {
            t: {rule: _metrics(tallies[rule].get(t, Tally())) for rule in RULES} for t in types
        },
        "overall": {rule: _metrics(_sum(tallies[rule], covered)) for rule in RULES},
        "overall_all_types": {rule: _metrics(_sum(tallies[rule], types)) for rule in RULES},
        "not_detected": {t: tallies["exact"][t].gold for t in types if t not in detected_types},
    }


def _tally_all(
    rows: Sequence[Row], predictions: Sequence[Sequence[Span]], rule: str
) -> dict[str, Tally]:
    totals: dict[str, Tally] = {}
    for row, predicted in zip(rows, predictions, strict=True):
        for kind, tally in _tally_row(row.spans, predicted, rule).items():
            totals[kind] = totals.get(kind, Tally()) + tally
    return totals


def _tally_row(labelled: Sequence[Span], predicted: Sequence[Span], rule: str) -> dict[str, Tally]:
    gold = [Span(s.start, s.end, GOLD_ALIASES.get(s.type, s.type)) for s in labelled]
    tp = Counter(p.type for p in predicted if any(_matches(p, g, rule) for g in gold))
    found = Counter(g.type for g in gold if any(_matches(p, g, rule) for p in predicted))
    n_pred, n_gold = Counter(p.type for p in predicted), Counter(g.type for g in gold)
    return {t: Tally(n_pred[t], n_gold[t], tp[t], found[t]) for t in n_pred | n_gold}


def _matches(predicted: Span, gold: Span, rule: str) -> bool:
    if predicted.type != gold.type:
        return False
    if rule == "exact":
        return (predicted.start, predicted.end) == (gold.start, gold.end)
    overlap = min(predicted.end, gold.end) - max(predicted.start, gold.start)
    shorter = min(predicted.end - predicted.start, gold.end - gold.start)
    return shorter > 0 and overlap >= MIN_OVERLAP * shorter


def _sum(tallies: dict[str, Tally], types: Iterable[str]) -> Tally:
    return sum((tallies.get(t, Tally()) for t in types), Tally())


def _metrics(tally: Tally) -> dict[str, float | int]:
    precision = tally.true_positives / tally.predicted if tally.predicted else 0.0
    recall = tally.found / tally.gold if tally.gold else 0.0
    return {
        "gold": tally.gold,
        "predicted": tally.predicted,
        "true_positives": tally.true_positives,
        "found": tally.found,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(_f_beta(precision, recall, 1.0), 4),
        "f2": round(_f_beta(precision, recall, 2.0), 4),
    }


def _f_beta(precision: float, recall: float, beta: float) -> float:
    denominator = beta * beta * precision + recall
    return (1 + beta * beta) * precision * recall / denominator if denominator else 0.0
