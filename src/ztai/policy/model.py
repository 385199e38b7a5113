"""Values of the policy capability: loaded policy sets, their sources, problems, resources."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import cedarpy

from ztai.core.model import Resource

# What a forbid may ask of the caller (``@obligation``) and the annotations that parametrise it.
# ``hold``: a tool call waits for a person to approve it (the gateway's approval queue).
OBLIGATIONS = frozenset({"step_up", "accept_terms", "require_approval", "hold"})
OBLIGATION_PARAMS = frozenset({"acr_values", "max_age", "terms", "approvers"})

# DLP rules: a permit annotated ``@dlp("...")`` says "when this holds, apply that action". Rules
# live in their own policy set, so a rule never grants access; ``@kinds`` (finding kinds, shell
# patterns, space separated) and ``@method`` say what a redact rule replaces and how.
DLP_ACTIONS = ("block", "justify", "redact", "audit")  # strongest first
DLP_METHODS = frozenset({"mask", "hash", "placeholder", "pseudonymise"})

# A directory's state as (file name, mtime_ns, size) per policy file, sorted by name.
Fingerprint = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """Why a policy file could not be used. ``line`` is 1-based, None where unknown."""

    file: str
    message: str
    line: int | None = None
    policy_id: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class PolicySource:
    """One policy as loaded: its stable id, where it is written, and what it says."""

    id: str
    file: str
    line: int | None
    effect: str
    annotations: Mapping[str, str]
    text: str

    @property
    def reason(self) -> str | None:
        return self.annotations.get("reason")


@dataclass(frozen=True, slots=True)
class DlpRule:
    """A DLP rule that holds for a request: what to do, and for redaction which finding kinds
    (shell patterns) and how."""

    id: str
    action: str
    reason: str
    kinds: tuple[str, ...] = ()
    method: str = "placeholder"

    @classmethod
    def of(cls, source: PolicySource) -> DlpRule:
        notes = source.annotations
        return cls(source.id, notes["dlp"], source.reason or f"DLP rule {source.id}",
                   tuple(notes.get("kinds", "").split()), notes.get("method", "placeholder"))


@dataclass(frozen=True, slots=True)
class LoadedPolicies:
    """A validated policy set: the parsed handle, the schema it was checked against, its sources
    by id, and the fingerprint of the directory taken before it was read."""

    policy_set: cedarpy.PolicySet
    schema: cedarpy.Schema
    sources: Mapping[str, PolicySource]
    directory: Path | None = None
    fingerprint: Fingerprint = ()
    rule_set: cedarpy.PolicySet | None = None  # the @dlp rules, None when there are none

    def rules(self) -> tuple[PolicySource, ...]:
        return tuple(s for s in self.sources.values() if "dlp" in s.annotations)


@dataclass(frozen=True, slots=True)
class ResourceEntity:
    """A resource the policies may name, with its attributes (e.g. a Model's upstream and tier)
    and the resources it belongs to."""

    resource: Resource
    attributes: Mapping[str, str | int | bool] = field(default_factory=dict)
    parents: tuple[Resource, ...] = ()


class ReloadStatus(StrEnum):
    UNCHANGED = "unchanged"
    RELOADED = "reloaded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload check did. On FAILED the last good policy set stays in force."""

    status: ReloadStatus
    problems: tuple[PolicyProblem, ...] = ()
    policy_count: int = 0
