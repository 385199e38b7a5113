"""Confusion counts of a binary detector against labelled cases, and the rates drawn from them
(precision, recall, F1, false-positive rate); None where a rate has no denominator."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Counts:
    tp: int = 0
    fn: int = 0
    fp: int = 0
    tn: int = 0

    def add(self, positive: bool, flagged: bool) -> Counts:
        field = ("tp" if flagged else "fn") if positive else ("fp" if flagged else "tn")
        return replace(self, **{field: getattr(self, field) + 1})

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def fpr(self) -> float | None:
        return _ratio(self.fp, self.fp + self.tn)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return None if p is None or r is None or p + r == 0 else 2 * p * r / (p + r)

    def as_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fn": self.fn, "fp": self.fp, "tn": self.tn,
                "precision": self.precision, "recall": self.recall, "f1": self.f1,
                "fpr": self.fpr}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
