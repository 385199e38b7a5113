"""CedarAuthorizer: decides requests against a loaded policy set and a resource catalogue.

Policies and resource entities are parsed once into an immutable snapshot; a request only adds
its principal. Fails closed: a policy that errors while evaluating (it may have been a forbid
that Cedar skipped) turns the decision into a deny that names it.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence

import cedarpy

from ztai.core.model import (
    GATEWAY,
    Decision,
    Effect,
    Obligation,
    Principal,
    Resource,
    ResourceKind,
)
from ztai.policy.entities import catalogue_json, cedar_request, principal_json
from ztai.policy.interface import AuthzRequest, PolicyError
from ztai.policy.model import (
    DLP_ACTIONS,
    OBLIGATION_PARAMS,
    OBLIGATIONS,
    DlpRule,
    LoadedPolicies,
    PolicySource,
    ResourceEntity,
)

MAX_CACHED_PRINCIPALS = 10_000
MAX_REMEMBERED_DECISIONS = 50_000
DEFAULT_DENY = "no policy permits this request (default deny)"
_ERRORED = re.compile(r"error while evaluating policy `([^`]+)`")


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one decision reads, swapped as a whole so a decision never sees half a reload."""

    policies: LoadedPolicies
    entities: cedarpy.Entities
    resources: frozenset[Resource]
    # base entities plus one principal, per principal seen (bounded); entities never change
    # within a snapshot, so a cached handle is exactly what parsing again would give.
    with_principal: dict[tuple[object, ...], cedarpy.Entities] = dataclasses.field(
        default_factory=dict, compare=False, repr=False)
    # decisions already reached in this snapshot. Cedar is a pure function of policies,
    # entities and the request, and every input is in the key, so a hit is the same answer.
    decided: dict[tuple[object, ...], Evaluation] = dataclasses.field(
        default_factory=dict, compare=False, repr=False)
    rules_held: dict[tuple[object, ...], tuple[DlpRule, ...]] = dataclasses.field(
        default_factory=dict, compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class Evaluation:
    """A decision with Cedar's raw diagnostics: the determining policy ids and the errors."""

    decision: Decision
    determining: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


def build_snapshot(policies: LoadedPolicies, catalogue: Sequence[ResourceEntity]) -> Snapshot:
    """Parse the catalogue (plus ``Gateway::"gateway"``) once; raises ``PolicyError`` if it does
    not fit the schema (e.g. a Model without ``tier``) or names a resource twice."""
    items = list(catalogue)
    if all(item.resource != GATEWAY for item in items):
        items.append(ResourceEntity(GATEWAY))
    resources = frozenset(item.resource for item in items)
    if len(resources) != len(items):
        raise PolicyError("resource catalogue names a resource twice")
    try:
        entities = cedarpy.Entities.from_json_str(catalogue_json(items), policies.schema)
    except ValueError as exc:
        raise PolicyError(f"resource catalogue rejected: {exc}") from exc
    return Snapshot(policies, entities, resources)


class CedarAuthorizer:
    """Implements ``Authorizer``. Safe to share between threads: each call reads one snapshot."""

    __slots__ = ("_snapshot",)

    def __init__(self, policies: LoadedPolicies, catalogue: Sequence[ResourceEntity]) -> None:
        self._snapshot = build_snapshot(policies, catalogue)

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def replace_policies(self, policies: LoadedPolicies) -> None:
        """Swap in a new policy set (one reference assignment); decisions in flight finish on
        the old one. The catalogue stays; remembered decisions do not."""
        self._snapshot = dataclasses.replace(self._snapshot, policies=policies, decided={},
                                             rules_held={})

    def decide(self, request: AuthzRequest) -> Decision:
        snapshot = self._snapshot
        key = _request_key(request)
        if key is None:
            return evaluate(snapshot, [request])[0].decision
        evaluation = snapshot.decided.get(key)
        if evaluation is None:
            evaluation = evaluate(snapshot, [request])[0]
            _remember(snapshot.decided, key, evaluation)
        return evaluation.decision

    def decide_many(self, requests: Sequence[AuthzRequest]) -> list[Decision]:
        return [evaluation.decision for evaluation in evaluate(self._snapshot, requests)]

    def rules_for(self, request: AuthzRequest) -> tuple[DlpRule, ...]:
        snapshot = self._snapshot
        rule_set = snapshot.policies.rule_set
        if rule_set is None or not _known(snapshot, request.resource):
            return ()
        key = _request_key(request)
        remembered = snapshot.rules_held.get(key) if key is not None else None
        if remembered is not None:
            return remembered
        held = _rules_holding(snapshot, rule_set, request)
        if key is not None:
            if len(snapshot.rules_held) >= MAX_REMEMBERED_DECISIONS:
                snapshot.rules_held.clear()
            snapshot.rules_held[key] = held
        return held


def _rules_holding(snapshot: Snapshot, rule_set: cedarpy.PolicySet,
                   request: AuthzRequest) -> tuple[DlpRule, ...]:
    try:
        entities = _entities_with(snapshot, request.principal)
        result = cedarpy.is_authorized(cedar_request(request), rule_set, entities,
                                       snapshot.policies.schema)
    except (ValueError, TypeError) as exc:
        raise PolicyError(f"could not evaluate DLP rules: {exc}") from exc
    errors = [str(error) for error in result.diagnostics.errors]
    if errors or result.decision not in (cedarpy.Decision.Allow, cedarpy.Decision.Deny):
        named = ", ".join(_errored_ids(tuple(errors))) or "; ".join(errors) or "no decision"
        raise PolicyError(f"DLP rule evaluation failed ({named}); denied to fail closed")
    sources = snapshot.policies.sources
    rules = [DlpRule.of(sources[pid]) for pid in result.diagnostics.reasons if pid in sources]
    return tuple(sorted(rules, key=lambda r: (DLP_ACTIONS.index(r.action), r.id)))


def evaluate(snapshot: Snapshot, requests: Sequence[AuthzRequest]) -> list[Evaluation]:
    """Decide each request, batched per principal. Raises ``PolicyError`` when Cedar cannot
    evaluate a request at all (a context or resource type the schema rejects)."""
    results: dict[int, Evaluation] = {}
    for principal, indices in _by_principal(requests):
        batch = [requests[i] for i in indices]
        results.update(zip(indices, _evaluate(snapshot, principal, batch), strict=True))
    return [results[i] for i in range(len(requests))]


def _by_principal(requests: Sequence[AuthzRequest]) -> list[tuple[Principal, list[int]]]:
    groups: dict[tuple[str, str], tuple[Principal, list[int]]] = {}
    for index, request in enumerate(requests):
        principal = request.principal
        first, indices = groups.setdefault((principal.kind, principal.id), (principal, []))
        if first != principal:
            raise PolicyError(f"one batch holds two different principals named {principal.id!r}")
        indices.append(index)
    return list(groups.values())


def _evaluate(
    snapshot: Snapshot, principal: Principal, requests: list[AuthzRequest]
) -> list[Evaluation]:
    known = [r for r in requests if _known(snapshot, r.resource)]
    try:
        entities = _entities_with(snapshot, principal)
        cedar = [cedar_request(r) for r in known]
        results = cedarpy.is_authorized_batch(
            cedar, snapshot.policies.policy_set, entities, snapshot.policies.schema
        )
    except (ValueError, TypeError) as exc:
        raise PolicyError(f"could not evaluate policies: {exc}") from exc
    answers = iter(_evaluation(result, snapshot.policies.sources) for result in results)
    return [next(answers) if _known(snapshot, r.resource) else _unknown(r) for r in requests]


def _request_key(request: AuthzRequest) -> tuple[object, ...] | None:
    """Everything a decision depends on besides the snapshot; None if a context value cannot
    be a key (then the request is simply not remembered)."""
    principal = request.principal
    context = tuple(sorted(request.context.items()))
    key = (_principal_key(principal), principal.auth_method, request.action, request.resource,
           context)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _principal_key(principal: Principal) -> tuple[object, ...]:
    return (principal.kind, principal.id, principal.groups,
            tuple(sorted(principal.attributes.items())))


def _remember(memo: dict[tuple[object, ...], Evaluation], key: tuple[object, ...],
              evaluation: Evaluation) -> None:
    if len(memo) >= MAX_REMEMBERED_DECISIONS:
        memo.clear()
    memo[key] = evaluation


def _entities_with(snapshot: Snapshot, principal: Principal) -> cedarpy.Entities:
    key = _principal_key(principal)
    cached = snapshot.with_principal.get(key)
    if cached is None:
        cached = snapshot.entities.with_added_json_str(principal_json(principal))
        if len(snapshot.with_principal) >= MAX_CACHED_PRINCIPALS:
            snapshot.with_principal.clear()
        snapshot.with_principal[key] = cached
    return cached


def _known(snapshot: Snapshot, resource: Resource) -> bool:
    """A resource in the catalogue; or a tool, which MCP servers name at run time: a tool
    entity has no attributes (what ztai knows of it travels in the context)."""
    return resource in snapshot.resources or resource.kind is ResourceKind.TOOL


def _unknown(request: AuthzRequest) -> Evaluation:
    resource = request.resource
    uid = f"{resource.kind.value}::{json.dumps(resource.id)}"
    return Evaluation(Decision.deny(f"unknown resource {uid}"))


def _evaluation(result: cedarpy.AuthzResult, sources: Mapping[str, PolicySource]) -> Evaluation:
    errors = tuple(str(error) for error in result.diagnostics.errors)
    determining = tuple(sorted(result.diagnostics.reasons))
    if result.decision not in (cedarpy.Decision.Allow, cedarpy.Decision.Deny):
        raise PolicyError(f"could not evaluate the request: {'; '.join(errors)}")
    allowed = result.decision is cedarpy.Decision.Allow
    return Evaluation(_decision(allowed, determining, errors, sources), determining, errors)


def _decision(
    allowed: bool,
    determining: tuple[str, ...],
    errors: tuple[str, ...],
    sources: Mapping[str, PolicySource],
) -> Decision:
    if allowed and determining and not errors:
        return Decision(Effect.ALLOW, _reasons(determining, "permitted", sources), determining)
    forbids = () if allowed else determining
    errored = _errored_ids(errors)
    reasons = _reasons(forbids, "forbidden", sources) + _error_reasons(errored, errors)
    obligations = () if errored else _obligations(forbids, sources)
    return Decision(Effect.DENY, reasons or (DEFAULT_DENY,), forbids + errored, obligations)


def _obligations(ids: tuple[str, ...], sources: Mapping[str, PolicySource]
                 ) -> tuple[Obligation, ...]:
    """A forbid may say how the caller can still succeed: ``@obligation("step_up")`` with
    ``@acr_values("...")``, ``@obligation("accept_terms")`` with ``@terms("app")``, or
    ``@obligation("require_approval")``. The deny stands either way."""
    found = []
    for pid in ids:
        source = sources.get(pid)
        kind = source.annotations.get("obligation") if source else None
        if source is not None and kind in OBLIGATIONS:
            params = {k: v for k, v in source.annotations.items() if k in OBLIGATION_PARAMS}
            found.append(Obligation(kind, params))
    return tuple(found)


def _reasons(
    ids: tuple[str, ...], verb: str, sources: Mapping[str, PolicySource]
) -> tuple[str, ...]:
    found = (sources.get(pid) for pid in ids)
    return tuple(
        (source.reason if source and source.reason else f"{verb} by {pid}")
        for pid, source in zip(ids, found, strict=True)
    )


def _errored_ids(errors: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({m.group(1) for e in errors for m in _ERRORED.finditer(e)}))


def _error_reasons(errored: tuple[str, ...], errors: tuple[str, ...]) -> tuple[str, ...]:
    """Cedar skips a policy that errors; that policy may have been a forbid, so deny."""
    if not errors:
        return ()
    named = ", ".join(errored) if errored else errors[0]
    return (f"policy evaluation failed ({named}); denied to fail closed",)
