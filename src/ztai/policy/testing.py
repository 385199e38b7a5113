"""``ztai policy test``: table-driven policy tests, like OPA's. Each case names a principal, an
action, a resource and a context, and the decision (and optionally the deciding policies and
obligations) it expects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ztai.core.model import (
    Action,
    Decision,
    Effect,
    Principal,
    PrincipalId,
    PrincipalKind,
    Resource,
    ResourceKind,
)
from ztai.policy.cedar import CedarAuthorizer
from ztai.policy.interface import AuthzRequest, PolicyError
from ztai.policy.model import LoadedPolicies, ResourceEntity

DEFAULT_CONTEXT: Mapping[str, object] = {"route": "chat.completions", "stream": False}


@dataclass(frozen=True, slots=True)
class PolicyCase:
    name: str
    request: AuthzRequest
    expect: Effect
    policies: tuple[str, ...] | None = None
    obligations: tuple[str, ...] | None = None
    resource_attributes: Mapping[str, str | int | bool] | None = None


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: PolicyCase
    decision: Decision | None
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def parse_cases(document: Any) -> list[PolicyCase]:
    """Cases from a parsed YAML document; raises ``PolicyError`` naming the bad case/field."""
    if not isinstance(document, dict) or not isinstance(document.get("cases"), list):
        raise PolicyError("a policy test file needs a top-level 'cases' list")
    return [_case(i, raw) for i, raw in enumerate(document["cases"])]


def run_cases(policies: LoadedPolicies, catalogue: Sequence[ResourceEntity],
              cases: Sequence[PolicyCase]) -> list[CaseResult]:
    known = {entity.resource: entity for entity in catalogue}
    for case in cases:
        if case.request.resource not in known and case.resource_attributes is not None:
            known[case.request.resource] = ResourceEntity(case.request.resource,
                                                          case.resource_attributes)
    authorizer = CedarAuthorizer(policies, list(known.values()))
    return [_run(authorizer, case) for case in cases]


def _run(authorizer: CedarAuthorizer, case: PolicyCase) -> CaseResult:
    try:
        decision = authorizer.decide(case.request)
    except PolicyError as exc:
        return CaseResult(case, None, (f"could not decide: {exc.message}",))
    failures = []
    if decision.effect is not case.expect:
        failures.append(f"expected {case.expect.value}, got {decision.effect.value} "
                        f"({'; '.join(decision.reasons)})")
    if case.policies is not None and tuple(sorted(case.policies)) != decision.policy_ids:
        failures.append(f"expected deciding policies {sorted(case.policies)}, "
                        f"got {list(decision.policy_ids)}")
    kinds = tuple(sorted(o.kind for o in decision.obligations))
    if case.obligations is not None and tuple(sorted(case.obligations)) != kinds:
        failures.append(f"expected obligations {sorted(case.obligations)}, got {list(kinds)}")
    return CaseResult(case, decision, tuple(failures))


def _case(index: int, raw: Any) -> PolicyCase:
    where = f"cases[{index}]"
    if not isinstance(raw, dict):
        raise PolicyError(f"{where} must be a mapping")
    name = str(raw.get("name") or where)
    try:
        request = AuthzRequest(_principal(raw["principal"]), Action(raw["action"]),
                               _resource(raw["resource"]),
                               {**DEFAULT_CONTEXT, **(raw.get("context") or {})})
        expect = Effect(raw["expect"])
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise PolicyError(f"{where} ({name}): invalid or missing field: {exc}") from None
    resource = raw["resource"] if isinstance(raw["resource"], dict) else {}
    return PolicyCase(name, request, expect, _strings(raw.get("policies")),
                      _strings(raw.get("obligations")), resource.get("attributes"))


def _principal(raw: Any) -> Principal:
    if isinstance(raw, str):
        raw = {"id": raw}
    return Principal(
        id=PrincipalId(str(raw["id"])),
        kind=PrincipalKind(raw.get("kind", "user")),
        groups=frozenset(str(g) for g in raw.get("groups") or ()),
        attributes={str(k): str(v) for k, v in (raw.get("attributes") or {}).items()},
        auth_method=str(raw.get("auth_method", "api_key")),
    )


def _resource(raw: Any) -> Resource:
    if isinstance(raw, str):
        kind, _, ident = raw.partition("::")
        return Resource(ResourceKind(kind), ident.strip('"'))
    return Resource(ResourceKind(raw.get("type", "Model")), str(raw["id"]))


def _strings(raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise PolicyError("'policies' and 'obligations' must be lists")
    return tuple(str(item) for item in raw)
