"""Measure the secret detector on labelled strings: gitleaks' rule test cases (a case counts
only when its own rule fires) and detect-secrets' plugin cases (any ``secret.*`` finding
counts). ``evaluate_secrets`` is pure; the loaders read the two JSONL formats from disk."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ztai.core.scoring import Counts
from ztai.protection.secrets_compile import SkippedRule
from ztai.protection.secrets_detector import SecretDetector

GITLEAKS = "gitleaks"
DETECT_SECRETS = "detect-secrets"
GITLEAKS_CASES = Path("gitleaks/DERIVED_rule_test_cases.jsonl")
DETECT_SECRETS_CASES = Path("detect-secrets/DERIVED_plugin_test_cases.jsonl")
OUT_OF_SCOPE = {"ip_public": "public IP addresses are not credentials (a PII kind)"}


class CaseFileError(ValueError):
    """A case file row is not in the format its loader reads."""


@dataclass(frozen=True, slots=True)
class SecretCase:
    """``kind``: the finding kind that must (or must not) appear; None means any secret."""

    source: str
    rule: str
    text: str
    positive: bool
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class RuleScore:
    rule: str
    counts: Counts


@dataclass(frozen=True, slots=True)
class SourceScore:
    """``counts``: the case's own kind must fire. ``any_kind``: any secret finding counts
    (what a gateway sees: a should-not-match string flagged by another rule is still flagged)."""

    source: str
    counts: Counts
    any_kind: Counts
    rules: tuple[RuleScore, ...]


@dataclass(frozen=True, slots=True)
class Excluded:
    source: str
    rule: str
    cases: int
    reason: str


@dataclass(frozen=True, slots=True)
class SecretsReport:
    sources: tuple[SourceScore, ...]
    excluded: tuple[Excluded, ...]
    skipped: tuple[SkippedRule, ...]
    rules_in_use: int
    unscoped: tuple[str, ...] = ()  # rules applied without gitleaks' file-path condition


def evaluate_secrets(cases: Sequence[SecretCase], detector: SecretDetector) -> SecretsReport:
    """Score every case; cases of a rule the config lacks or of an out-of-scope plugin are
    counted under ``excluded`` with the reason. A skipped rule's cases stay in (as misses)."""
    known = {f"secret.{i}" for i in (*detector.rule_ids, *(s.rule_id for s in detector.skipped))}
    kept, excluded = _split(cases, known)
    outcomes = [(case, {m.kind for m in detector.detect(case.text)}) for case in kept]
    sources = sorted({case.source for case, _ in outcomes})
    scores = tuple(_score(s, [o for o in outcomes if o[0].source == s]) for s in sources)
    return SecretsReport(
        scores, excluded, detector.skipped, len(detector.rule_ids), detector.unscoped
    )


def _split(
    cases: Sequence[SecretCase], kinds: set[str]
) -> tuple[list[SecretCase], tuple[Excluded, ...]]:
    kept: list[SecretCase] = []
    dropped: dict[tuple[str, str, str], int] = {}
    for case in cases:
        reason = OUT_OF_SCOPE.get(case.rule) or (
            "rule not in the rule set" if case.kind is not None and case.kind not in kinds else ""
        )
        if reason:
            key = (case.source, case.rule, reason)
            dropped[key] = dropped.get(key, 0) + 1
        else:
            kept.append(case)
    return kept, tuple(Excluded(s, r, n, why) for (s, r, why), n in sorted(dropped.items()))


def _score(source: str, outcomes: list[tuple[SecretCase, set[str]]]) -> SourceScore:
    counts, any_kind, rules = Counts(), Counts(), dict[str, Counts]()
    for case, kinds in outcomes:
        strict = case.kind in kinds if case.kind else any(k.startswith("secret.") for k in kinds)
        counts = counts.add(case.positive, strict)
        any_kind = any_kind.add(case.positive, any(k.startswith("secret.") for k in kinds))
        rules[case.rule] = rules.get(case.rule, Counts()).add(case.positive, strict)
    return SourceScore(
        source, counts, any_kind, tuple(RuleScore(r, c) for r, c in sorted(rules.items()))
    )


def load_secret_cases(root: Path) -> list[SecretCase]:
    """Both case files under ``root`` (the ``secrets`` data folder)."""
    return [
        *load_gitleaks_cases(root / GITLEAKS_CASES),
        *load_detect_secrets_cases(root / DETECT_SECRETS_CASES),
    ]


def load_gitleaks_cases(path: Path) -> list[SecretCase]:
    """Rows ``{"rule_id", "label": "tp"|"fp", "text"}``."""
    return [
        SecretCase(
            GITLEAKS,
            str(row["rule_id"]),
            str(row["text"]),
            _label(row.get("label")),
            f"secret.{row['rule_id']}",
        )
        for row in _rows(path, ("rule_id", "label", "text"))
    ]


def load_detect_secrets_cases(path: Path) -> list[SecretCase]:
    """Rows ``{"plugin_test": "tests/plugins/<plugin>_test.py", "text", "should_flag"}``."""
    return [
        SecretCase(
            DETECT_SECRETS,
            Path(str(row["plugin_test"])).stem.removesuffix("_test"),
            str(row["text"]),
            row["should_flag"] is True,
        )
        for row in _rows(path, ("plugin_test", "text", "should_flag"))
    ]


def _rows(path: Path, keys: tuple[str, ...]) -> list[dict[str, object]]:
    rows = []
    # lines end at newlines only: str.splitlines also splits at U+2028, which JSON strings hold
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if line.strip():
            rows.append(_row(line, keys, f"{path.name}:{number}"))
    return rows


def _row(line: str, keys: tuple[str, ...], where: str) -> dict[str, object]:
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise CaseFileError(f"{where}: not JSON") from exc
    if not isinstance(row, dict) or any(k not in row for k in keys):
        raise CaseFileError(f"{where}: expected the keys {list(keys)}")
    return row


def _label(label: object) -> bool:
    if label not in ("tp", "fp"):
        raise CaseFileError(f"unknown label {label!r}")
    return label == "tp"

