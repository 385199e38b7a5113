"""Turn policy texts (file name → Cedar text) into one validated PolicySet with stable policy ids.

A policy's id is its ``@id`` annotation, else ``<file>#<n>``; ids are unique across files.
Every problem of every file is collected, so ``ztai policy validate`` reports them all at once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

import cedarpy
from cedarpy import pst

from ztai.policy.interface import PolicyError
from ztai.policy.model import (
    DLP_ACTIONS,
    DLP_METHODS,
    OBLIGATIONS,
    LoadedPolicies,
    PolicyProblem,
    PolicySource,
)
from ztai.policy.source import Statement, split_statements

_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:#/-]{0,127}")
_POSITIONAL = re.compile(r"policy(\d+)")


class PolicyLoadError(PolicyError):
    """The policy files could not be used; ``problems`` says where and why."""

    def __init__(self, problems: tuple[PolicyProblem, ...]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclasses.dataclass(frozen=True, slots=True)
class _Compiled:
    policies: tuple[tuple[PolicySource, pst.Template], ...] = ()
    problems: tuple[PolicyProblem, ...] = ()


def compile_policies(texts: Mapping[str, str], schema: cedarpy.Schema) -> LoadedPolicies:
    """Parse and validate every text; raises ``PolicyLoadError`` listing all problems found."""
    compiled = [_compile_file(name, texts[name], schema) for name in sorted(texts)]
    policies = [pair for each in compiled for pair in each.policies]
    problems = [problem for each in compiled for problem in each.problems]
    problems += _duplicate_ids([source for source, _ in policies])
    if problems:
        raise PolicyLoadError(tuple(problems))
    enforced = {s.id: tree for s, tree in policies if "dlp" not in s.annotations}
    rules = {s.id: tree for s, tree in policies if "dlp" in s.annotations}
    return LoadedPolicies(_build_set(enforced), schema, {s.id: s for s, _ in policies},
                          rule_set=_build_set(rules) if rules else None)


def _compile_file(name: str, text: str, schema: cedarpy.Schema) -> _Compiled:
    try:
        tree = cedarpy.PolicySet.from_str(text).to_pst()
    except ValueError as exc:
        return _Compiled(problems=(_locate_parse_error(name, text, exc),))
    if tree.templates:
        problem = PolicyProblem(name, "templates (?principal, ?resource) are not supported")
        return _Compiled(problems=(problem,))
    templates = sorted(tree.static_policies.values(), key=lambda t: _position(t.id))
    statements = split_statements(text)
    if len(statements) != len(templates):
        statements = []
    sources = tuple(_source(name, n, t, statements) for n, t in enumerate(templates))
    problems = _id_problems(sources) + _obligation_problems(sources) + _rule_problems(sources)
    problems += _validate(text, schema, sources)
    return _Compiled(tuple(zip(sources, templates, strict=True)), problems)


def _position(positional_id: str) -> int:
    match = _POSITIONAL.fullmatch(positional_id)
    if match is None:
        raise PolicyError(f"cedarpy returned an unexpected policy id {positional_id!r}")
    return int(match.group(1))


def _source(name: str, n: int, tree: pst.Template, statements: list[Statement]) -> PolicySource:
    annotations = tree.annotations
    policy_id = annotations.get("id", f"{name}#{n}")
    if statements:
        return PolicySource(
            policy_id, name, statements[n].line, tree.effect, annotations, statements[n].text
        )
    rendered = str(_build_set({tree.id: tree}))
    return PolicySource(policy_id, name, None, tree.effect, annotations, rendered)


def _locate_parse_error(name: str, text: str, exc: ValueError) -> PolicyProblem:
    """Cedar's parse errors carry no position: find the first statement that fails on its own."""
    for statement in split_statements(text):
        try:
            cedarpy.PolicySet.from_str(statement.text)
        except ValueError as inner:
            return PolicyProblem(name, f"parse error: {inner}", statement.line)
    return PolicyProblem(name, str(exc))


def _id_problems(sources: tuple[PolicySource, ...]) -> tuple[PolicyProblem, ...]:
    return tuple(
        PolicyProblem(s.file, f"invalid @id {s.id!r}: use letters, digits and _.:#/-", s.line)
        for s in sources
        if "id" in s.annotations and _ID_PATTERN.fullmatch(s.id) is None
    )


def _obligation_problems(sources: tuple[PolicySource, ...]) -> tuple[PolicyProblem, ...]:
    """A misspelt obligation would silently do nothing; and only a forbid can carry one."""
    problems = []
    for s in sources:
        kind = s.annotations.get("obligation")
        if kind is None:
            continue
        if kind not in OBLIGATIONS:
            problems.append(PolicyProblem(
                s.file, f"unknown @obligation {kind!r}: use one of {sorted(OBLIGATIONS)}", s.line))
        elif s.effect != "forbid":
            problems.append(PolicyProblem(s.file, "@obligation belongs on a forbid", s.line))
    return tuple(problems)


def _rule_problems(sources: tuple[PolicySource, ...]) -> tuple[PolicyProblem, ...]:
    """A DLP rule is a permit ("when this holds") with a known action; a redact rule's method
    must be one ztai has. A typo must stop the load, not silently skip the rule."""
    problems = []
    for s in sources:
        action = s.annotations.get("dlp")
        if action is None:
            continue
        method = s.annotations.get("method", "placeholder")
        if action not in DLP_ACTIONS:
            message = f"unknown @dlp {action!r}: use one of {sorted(DLP_ACTIONS)}"
        elif s.effect != "permit":
            message = "a @dlp rule is written as permit (it applies when it holds, never grants)"
        elif "obligation" in s.annotations:
            message = "a @dlp rule cannot carry an @obligation"
        elif method not in DLP_METHODS:
            message = f"unknown @method {method!r}: use one of {sorted(DLP_METHODS)}"
        elif action == "redact" and not s.annotations.get("kinds", "").split():
            message = 'a redact rule names the kinds it replaces: @kinds("pii.* secret.*")'
        else:
            continue
        problems.append(PolicyProblem(s.file, message, s.line, s.id))
    return tuple(problems)


def _validate(
    text: str, schema: cedarpy.Schema, sources: tuple[PolicySource, ...]
) -> tuple[PolicyProblem, ...]:
    result = cedarpy.validate_policies(text, schema)
    problems = (_validation_problem(error, sources) for error in result.errors)
    # Cedar's order varies from run to run; sort so reports are stable.
    return tuple(sorted(problems, key=lambda p: (p.line or 0, p.message)))


def _validation_problem(
    error: cedarpy.ValidationError, sources: tuple[PolicySource, ...]
) -> PolicyProblem:
    source = sources[_position(error.policy_id)]
    message = error.error.replace(f"policy `{error.policy_id}`", f"policy `{source.id}`")
    return PolicyProblem(source.file, message, source.line, source.id)


def _duplicate_ids(sources: list[PolicySource]) -> list[PolicyProblem]:
    first: dict[str, PolicySource] = {}
    problems: list[PolicyProblem] = []
    for source in sources:
        seen = first.setdefault(source.id, source)
        if seen is not source:
            where = f"{seen.file}:{seen.line}" if seen.line else seen.file
            problems.append(
                PolicyProblem(
                    source.file,
                    f"duplicate policy id {source.id!r} (first in {where})",
                    source.line,
                    source.id,
                )
            )
    return problems


def _build_set(templates: Mapping[str, pst.Template]) -> cedarpy.PolicySet:
    """Rebuild the set under our own ids, so Cedar's diagnostics name policies by stable id."""
    renamed = {pid: dataclasses.replace(tree, id=pid) for pid, tree in templates.items()}
    node = pst.PolicySet(templates={}, static_policies=renamed, template_links=())
    try:
        return cedarpy.PolicySet.from_pst(node)
    except ValueError as exc:
        raise PolicyError(f"could not assemble the policy set: {exc}") from exc
