"""The authorizer interface. ``decide`` never raises for an ordinary deny: a deny is a value.
It raises ``PolicyError`` only when it could not decide; the pipeline turns that into a deny."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ztai.core.errors import ZtaiError
from ztai.core.model import Action, Decision, Principal, Resource
from ztai.policy.model import DlpRule


class PolicyError(ZtaiError):
    code = "policy_error"


@dataclass(frozen=True, slots=True)
class AuthzRequest:
    principal: Principal
    action: Action
    resource: Resource
    context: Mapping[str, object] = field(default_factory=dict)


class Authorizer(Protocol):
    def decide(self, request: AuthzRequest) -> Decision: ...

    def decide_many(self, requests: Sequence[AuthzRequest]) -> list[Decision]:
        """Decide several requests at once (e.g. which models a caller may list)."""
        ...


class RuleMatcher(Protocol):
    def rules_for(self, request: AuthzRequest) -> tuple[DlpRule, ...]:
        """The DLP rules that hold for ``request``, strongest action first; raises
        ``PolicyError`` when a rule could not be evaluated (it may have been a block)."""
        ...
