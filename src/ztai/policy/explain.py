"""What ``ztai policy explain`` and ``ztai policy validate`` show: why a request is decided the
way it is (the deciding policies with file, annotations and text), and what is wrong with a
policy directory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cedarpy

from ztai.core.model import Decision
from ztai.policy.bundled import load_schema
from ztai.policy.cedar import CedarAuthorizer, evaluate
from ztai.policy.compiler import PolicyLoadError
from ztai.policy.interface import AuthzRequest
from ztai.policy.loader import load_policies
from ztai.policy.model import PolicyProblem, PolicySource


@dataclass(frozen=True, slots=True)
class Explanation:
    """A decision and its evidence. ``policies`` are those named by ``decision.policy_ids``
    (permits for an allow, forbids or erroring policies for a deny); none for a default deny."""

    request: AuthzRequest
    decision: Decision
    policies: tuple[PolicySource, ...]
    errors: tuple[str, ...]


def explain(authorizer: CedarAuthorizer, request: AuthzRequest) -> Explanation:
    """Decide ``request`` as the gateway would; raises ``PolicyError`` where ``decide`` would."""
    snapshot = authorizer.snapshot
    evaluation = evaluate(snapshot, [request])[0]
    sources = snapshot.policies.sources
    ids = evaluation.decision.policy_ids
    deciding = tuple(sources[pid] for pid in ids if pid in sources)
    return Explanation(request, evaluation.decision, deciding, evaluation.errors)


def render(explanation: Explanation) -> str:
    """Plain text for a terminal."""
    decision = explanation.decision
    lines = [f"decision: {decision.effect.value}"]
    lines += [f"reason: {reason}" for reason in decision.reasons]
    for source in explanation.policies:
        where = source.file if source.line is None else f"{source.file}:{source.line}"
        lines.append(f"\npolicy {source.id} ({source.effect}, {where})")
        lines += [f"  {line}" for line in source.text.splitlines()]
    lines += [f"error: {error}" for error in explanation.errors]
    return "\n".join(lines)


def validate_dir(directory: Path, schema: cedarpy.Schema | None = None) -> list[PolicyProblem]:
    """Every problem of the policy files in ``directory``; empty when they are all valid."""
    try:
        load_policies(directory, schema if schema is not None else load_schema())
    except PolicyLoadError as exc:
        return list(exc.problems)
    return []
