"""Request stages the gateway core ships. Capabilities add theirs; routes never change."""

from __future__ import annotations

from ztai.core.flow import Flow
from ztai.core.model import Decision
from ztai.policy.interface import Authorizer, AuthzRequest


class AuthorizeStage:
    """Least privilege: Cedar decides on principal, action, resource and every signal."""

    name = "authorize"

    def __init__(self, authorizer: Authorizer) -> None:
        self._authorizer = authorizer

    async def run(self, flow: Flow) -> Decision:
        exchange = flow.exchange
        request = AuthzRequest(flow.principal, exchange.action, exchange.resource, flow.context)
        return self._authorizer.decide(request)
