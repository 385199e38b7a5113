"""What detectors report. A ``Match`` is a span of the text the detector was given; it never
carries the matched text itself (callers slice the text when, and only when, they must)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Match:
    kind: str  # e.g. "pii.email", "secret.aws-access-token", "term.project-obsidian"
    start: int
    end: int
    score: float = 1.0
    detector: str = ""
