"""The gitleaks rules applied as gitleaks applies them: keyword prefilter, every match of each
triggered rule, the secret group, the entropy floor, then the global and the rule allowlists.
Two deliberate differences: a ``gitleaks:allow`` comment does not hide a secret (in a prompt it
would be a bypass), and an allowlist's "line" is at most 4 KiB either side of the match."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ztai.protection.secrets_compile import CompiledRule, CompiledRuleSet
from ztai.protection.secrets_rules import RegexTarget
from ztai.protection.secrets_text import ByteMatch, ScanText, shannon_entropy

DETECTOR = "secrets.gitleaks"
GENERIC_SCORE = 0.6  # keyword-and-entropy rules, not a vendor's token format
_LINE_WINDOW = 4096


class GitleaksScanner:
    def __init__(self, rules: CompiledRuleSet) -> None:
        self._rules = rules

    def scan(self, text: ScanText) -> list[ByteMatch]:
        lowered = text.data.lower()  # ASCII-only lowering keeps byte offsets
        return [
            found
            for rule in self._rules.triggered(lowered)
            for found in self._rule_findings(rule, text)
        ]

    def _rule_findings(self, rule: CompiledRule, text: ScanText) -> Iterator[ByteMatch]:
        score = GENERIC_SCORE if "generic" in rule.rule.id else 1.0
        for match in rule.regex.finditer(text.data):
            whole = _trim_newlines(text.data, *match.span())
            span = _secret_span(rule, match, whole)
            if span is not None and self._is_finding(rule, text, whole, span):
                yield ByteMatch(rule.kind, span[0], span[1], score, DETECTOR)

    def _is_finding(
        self, rule: CompiledRule, text: ScanText, whole: tuple[int, int], span: tuple[int, int]
    ) -> bool:
        secret = text.data[span[0] : span[1]]
        floor = rule.rule.entropy
        if floor and shannon_entropy(secret.decode("utf-8", "replace")) <= floor:
            return False
        targets = {RegexTarget.SECRET: secret, RegexTarget.MATCH: text.data[whole[0] : whole[1]]}
        if rule.needs_line or any(a.target is RegexTarget.LINE for a in self._rules.allowlists):
            targets[RegexTarget.LINE] = _line(text.data, *whole)
        allowlists = (*self._rules.allowlists, *rule.allowlists)
        return not any(a.allows(secret, targets[a.target]) for a in allowlists)


def _trim_newlines(data: bytes, start: int, end: int) -> tuple[int, int]:
    while start < end and data[start] == 0x0A:
        start += 1
    while end > start and data[end - 1] == 0x0A:
        end -= 1
    return start, end


def _secret_span(rule: CompiledRule, match: Any, whole: tuple[int, int]) -> tuple[int, int] | None:
    """gitleaks' choice: the configured group, else the first non-empty group, else all."""
    group = rule.rule.secret_group
    if group is None:
        spans = (match.span(i) for i in range(1, rule.regex.groups + 1))
        span = next((s for s in spans if s[1] > s[0] >= 0), whole)
    else:
        span = match.span(group) if group else whole
    return span if span[1] > span[0] >= 0 else None


def _line(data: bytes, start: int, end: int) -> bytes:
    """The lines holding the match, cut at ``_LINE_WINDOW`` bytes either side (bounded work)."""
    low, high = max(0, start - _LINE_WINDOW), min(len(data), end + _LINE_WINDOW)
    before, after = data.rfind(b"\n", low, start), data.find(b"\n", end, high)
    return data[before + 1 if before >= 0 else low : after if after >= 0 else high]
