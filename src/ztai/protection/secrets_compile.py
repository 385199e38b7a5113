"""Rules compiled once at start: every regex by RE2 (linear time, whatever the input), the
keywords of all rules into one index that finds them in a single pass over the text. A rule
that cannot be compiled is kept out and listed in ``skipped`` with its reason, never dropped
silently."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ahocorasick
import re2

from ztai.protection.pii_scan import compile_set
from ztai.protection.secrets_rules import Allowlist, RegexTarget, RuleBook, SecretRule


class AllowlistError(ValueError):
    """A global allowlist does not compile: every rule would lose it, so nothing is built."""


@dataclass(frozen=True, slots=True)
class SkippedRule:
    rule_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CompiledAllowlist:
    """As gitleaks applies it to a finding: with ``require_all`` every check present must hold;
    a path or commit check never holds here (a prompt has neither), so such an allowlist never
    drops anything."""

    target: RegexTarget
    regexes: tuple[Any, ...]  # re2 patterns
    stopwords: Any  # a literal re2.Set over the lower-cased stopwords, or None
    require_all: bool
    needs_path_or_commit: bool

    def allows(self, secret: bytes, target: bytes) -> bool:
        checks = []
        if self.regexes:
            checks.append(any(r.search(target) for r in self.regexes))
        if self.stopwords is not None:
            checks.append(self.stopwords.Match(secret.lower()) is not None)
        if self.require_all:
            return bool(checks) and all(checks) and not self.needs_path_or_commit
        return any(checks)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: SecretRule
    regex: Any  # re2 pattern
    allowlists: tuple[CompiledAllowlist, ...]

    @property
    def kind(self) -> str:
        return f"secret.{self.rule.id}"

    @property
    def needs_line(self) -> bool:
        return any(a.target is RegexTarget.LINE for a in self.allowlists)


# Up to this many bytes a text is searched by the automaton, which keeps the GIL; a longer one
# by the RE2 set, several times faster per byte but releasing the GIL: in a busy server each
# release can hand the interpreter to another thread (the audit writer) mid-request, which
# costs more than searching a prompt.
_AUTOMATON_MAX_BYTES = 4096
_SECOND = operator.itemgetter(1)  # an automaton match is (end, word index)


class KeywordIndex:
    """Which of ``words`` occur in a lower-cased text, as byte strings (UTF-8): an
    Aho-Corasick automaton for short texts, an RE2 literal set for long ones; both linear in
    the text's length, and both give the same answer."""

    __slots__ = ("_automaton", "_set", "words")

    def __init__(self, words: Sequence[str]) -> None:
        if not words:
            raise ValueError("a keyword index needs at least one word")
        self.words = tuple(words)
        self._set = compile_set(self.words, literal=True)
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for index, word in enumerate(self.words):  # one character per byte: latin-1
            self._automaton.add_word(word.encode("utf-8").decode("latin-1"), index)
        self._automaton.make_automaton()

    def found(self, lowered: bytes) -> frozenset[int]:
        """The indexes of the words that occur in ``lowered``."""
        if len(lowered) <= _AUTOMATON_MAX_BYTES:
            return frozenset(map(_SECOND, self._automaton.iter(lowered.decode("latin-1"))))
        return frozenset(self._set.Match(lowered) or ())


@dataclass(frozen=True, slots=True)
class CompiledRuleSet:
    rules: tuple[CompiledRule, ...]
    allowlists: tuple[CompiledAllowlist, ...]  # global
    keywords: KeywordIndex | None  # every rule keyword
    by_keyword: tuple[tuple[int, ...], ...]  # keyword index -> rule indexes
    always: tuple[int, ...]  # rules without keywords run on every text
    skipped: tuple[SkippedRule, ...]

    def triggered(self, lowered: bytes) -> list[CompiledRule]:
        """The rules whose keywords occur in the lower-cased text, in rule order."""
        found = self.keywords.found(lowered) if self.keywords is not None else ()
        if not found and not self.always:
            return []
        indexes = set(self.always).union(*(self.by_keyword[k] for k in found))
        return [self.rules[i] for i in sorted(indexes)]


def compile_rule_book(book: RuleBook) -> CompiledRuleSet:
    compiled, skipped = _compile_rules(book.rules)
    try:
        allowlists = tuple(_compile_allowlist(a) for a in book.allowlists)
    except re2.error as exc:
        raise AllowlistError(f"global allowlist: {exc}") from exc
    by_keyword: dict[str, list[int]] = {}
    for index, ready in enumerate(compiled):
        for keyword in {k.lower() for k in ready.rule.keywords}:
            by_keyword.setdefault(keyword, []).append(index)
    keywords = sorted(by_keyword)
    always = tuple(i for i, c in enumerate(compiled) if not c.rule.keywords)
    return CompiledRuleSet(
        compiled,
        allowlists,
        KeywordIndex(keywords) if keywords else None,
        tuple(tuple(by_keyword[k]) for k in keywords),
        always,
        skipped,
    )


def _compile_rules(
    rules: Sequence[SecretRule],
) -> tuple[tuple[CompiledRule, ...], tuple[SkippedRule, ...]]:
    compiled: list[CompiledRule] = []
    skipped: list[SkippedRule] = []
    for rule in rules:
        match _compile_rule(rule):
            case CompiledRule() as ready:
                compiled.append(ready)
            case SkippedRule() as reason:
                skipped.append(reason)
    return tuple(compiled), tuple(skipped)


def _compile_rule(rule: SecretRule) -> CompiledRule | SkippedRule:
    if rule.regex is None:
        return SkippedRule(rule.id, "path-only rule: it matches file names, a prompt has none")
    try:
        regex = compile_regex(rule.regex)
    except re2.error as exc:
        return SkippedRule(rule.id, f"RE2 cannot compile its regex: {exc}")
    try:
        allowlists = tuple(_compile_allowlist(a) for a in rule.allowlists)
    except re2.error as exc:
        return SkippedRule(rule.id, f"RE2 cannot compile an allowlist regex: {exc}")
    if rule.secret_group is not None and rule.secret_group > regex.groups:
        return SkippedRule(rule.id, f"secret group {rule.secret_group} > {regex.groups} groups")
    return CompiledRule(rule, regex, allowlists)


def _compile_allowlist(allowlist: Allowlist) -> CompiledAllowlist:
    return CompiledAllowlist(
        allowlist.target,
        _any_of(allowlist.regexes),
        _literal_set([w.lower() for w in allowlist.stopwords]),
        allowlist.require_all,
        bool(allowlist.paths or allowlist.commits),
    )


def _any_of(patterns: Sequence[str]) -> tuple[Any, ...]:
    """Each pattern compiled (raising ``re2.error`` if one is not RE2), then joined into one
    alternation when that compiles too: one search instead of one per pattern, with a match
    exactly where one of them matches (inline flags stay inside their group)."""
    compiled = tuple(compile_regex(p) for p in patterns)
    if len(compiled) > 1:
        try:
            return (compile_regex("|".join(f"(?:{p})" for p in patterns)),)
        except re2.error:  # e.g. a \Q quote running to the end of its pattern
            pass
    return compiled


def compile_regex(pattern: str) -> Any:
    """An RE2 pattern; raises ``re2.error`` (without RE2 logging to stderr) if it is not one."""
    options = re2.Options()
    options.log_errors = False
    return re2.compile(pattern, options)


def _literal_set(words: Sequence[str]) -> Any:
    return compile_set(words, literal=True) if words else None
