"""Request stages the gateway core ships. Capabilities add theirs; routes never change."""

from __future__ import annotations

from collections.abc import Mapping

from ztai.core.flow import Flow
from ztai.core.model import Action, Decision, Effect, Principal, Resource, ResourceKind
from ztai.policy.interface import Authorizer, AuthzRequest

SCOPE_ATTRIBUTE = "scope"  # the models a ztai token was issued for (space separated)
SCOPED_ACTIONS = frozenset({Action.INVOKE_MODEL, Action.EMBED})


class AuthorizeStage:
    """Least privilege: Cedar decides on principal, action, resource and every signal. A
    delegated request is decided for every principal in the chain, and all must allow: an agent
    acting for Alice gets neither more than Alice nor more than itself (its token's scope)."""

    name = "authorize"
    suspends = False  # run() never awaits: the pipeline runs it to completion

    def __init__(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    async def run(self, flow: Flow) -> Decision:
        exchange, chain = flow.exchange, flow.principal.chain()
        decisions: list[Decision] = []
        for principal in chain:
            decision = _out_of_scope(principal, flow) or self._authorizer.decide(
                AuthzRequest(principal, exchange.action, exchange.resource, flow.context))
            if not decision.is_allow:
                return _for(principal, decision) if len(chain) > 1 else decision
            decisions.append(decision)
        return _combined(decisions)


def chain_denial(authorizer: Authorizer, principal: Principal, action: Action,
                 resource: Resource, context: Mapping[str, object]) -> Decision | None:
    """The first deny among every principal of ``principal``'s delegation chain, or None when
    all of them may: the question a listing, a label clearance or a proposed call asks besides
    the exchange's own (token scopes are not consulted: they cover models only)."""
    for member in principal.chain():
        decision = authorizer.decide(AuthzRequest(member, action, resource, context))
        if not decision.is_allow:
            return decision
    return None


def _out_of_scope(principal: Principal, flow: Flow) -> Decision | None:
    scope = principal.attributes.get(SCOPE_ATTRIBUTE)
    resource = flow.exchange.resource
    if scope is None or flow.exchange.action not in SCOPED_ACTIONS:
        return None
    if resource.kind is ResourceKind.MODEL and resource.id in scope.split():
        return None
    return Decision.deny(f"the token of {principal.kind.value} {principal.id!r} does not cover "
                         f"model {resource.id!r}")


def _for(principal: Principal, decision: Decision) -> Decision:
    """Name whose rights ran out, so a delegated deny is understandable."""
    who = f"{principal.kind.value} {principal.id!r}"
    reasons = tuple(f"{who}: {reason}" for reason in decision.reasons)
    return Decision(decision.effect, reasons, decision.policy_ids, decision.obligations)


def _combined(decisions: list[Decision]) -> Decision:
    if len(decisions) == 1:
        return decisions[0]
    reasons = tuple(r for d in decisions for r in d.reasons)
    ids = tuple(dict.fromkeys(i for d in decisions for i in d.policy_ids))
    return Decision(Effect.ALLOW, reasons, ids)
