"""``GET /v1/models``: only the models the caller may use, decided by policy in one batch."""

from __future__ import annotations

from typing import Any

from ztai.core.flow import Flow
from ztai.core.model import GATEWAY, Action, Exchange, ExchangeId, Resource, ResourceKind
from ztai.gateway.catalog import Catalog
from ztai.gateway.plan import Plan, TextlessReader
from ztai.policy.interface import Authorizer, AuthzRequest


class ModelLister:
    def __init__(self, catalog: Catalog, authorizer: Authorizer) -> None:
        self._catalog = catalog
        self._authorizer = authorizer

    def translate(self, body: bytes, exchange_id: ExchangeId) -> Plan:
        exchange = Exchange(exchange_id, "models", Action.LIST_MODELS, GATEWAY)
        return Plan(exchange, TextlessReader(), local=self._answer)

    async def _answer(self, flow: Flow) -> dict[str, Any]:
        routes = list(self._catalog)
        requests = [
            AuthzRequest(flow.principal, action, Resource(ResourceKind.MODEL, route.name),
                         flow.context)
            for route in routes for action in (Action.INVOKE_MODEL, Action.EMBED)
        ]
        decisions = self._authorizer.decide_many(requests)
        allowed = [route for i, route in enumerate(routes)
                   if decisions[2 * i].is_allow or decisions[2 * i + 1].is_allow]
        return {"object": "list", "data": [
            {"id": route.name, "object": "model", "created": 0, "owned_by": route.upstream.name}
            for route in allowed
        ]}
