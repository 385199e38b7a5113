"""How core values become Cedar: entity uids, the per-request principal entity, request dicts.

A principal is ``User``/``Agent``/``Service::"<id>"`` with its groups as ``Group`` parents and its
attributes as tags. The context carries ``auth_method`` and ``principal_kind`` from the principal
itself, so a caller-supplied context can never claim a stronger authentication.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

import orjson

from ztai.core.model import Action, Exchange, Principal, PrincipalKind, Resource
from ztai.policy.interface import AuthzRequest
from ztai.policy.model import ResourceEntity

Uid = dict[str, str]


def principal_type(kind: PrincipalKind) -> str:
    match kind:
        case PrincipalKind.USER:
            return "User"
        case PrincipalKind.AGENT:
            return "Agent"
        case PrincipalKind.SERVICE:
            return "Service"
        case _:
            assert_never(kind)


def principal_uid(principal: Principal) -> Uid:
    return {"type": principal_type(principal.kind), "id": principal.id}


def resource_uid(resource: Resource) -> Uid:
    return {"type": resource.kind.value, "id": resource.id}


def action_uid(action: Action) -> Uid:
    return {"type": "Action", "id": action.value}


def principal_json(principal: Principal) -> str:
    """The principal as a one-entity Cedar JSON document, the per-request entity delta."""
    entity = {
        "uid": principal_uid(principal),
        "attrs": {},
        "parents": [{"type": "Group", "id": group} for group in sorted(principal.groups)],
        "tags": dict(principal.attributes),
    }
    return orjson.dumps([entity]).decode()


def catalogue_json(catalogue: Sequence[ResourceEntity]) -> str:
    entities = [
        {
            "uid": resource_uid(item.resource),
            "attrs": dict(item.attributes),
            "parents": [resource_uid(parent) for parent in item.parents],
        }
        for item in catalogue
    ]
    return orjson.dumps(entities).decode()


def cedar_request(request: AuthzRequest) -> dict[str, object]:
    """The request as cedarpy takes it; the context goes as JSON text (orjson is quicker than the
    json.dumps cedarpy would apply). Raises ``TypeError`` for a context value JSON cannot hold."""
    principal = request.principal
    context = {
        **request.context,
        "auth_method": principal.auth_method,
        "principal_kind": principal.kind.value,
    }
    return {
        "principal": principal_uid(principal),
        "action": action_uid(request.action),
        "resource": resource_uid(request.resource),
        "context": orjson.dumps(context).decode(),
    }


def request_for(principal: Principal, exchange: Exchange) -> AuthzRequest:
    """The authorization question an exchange asks, with the context signals supplied today."""
    context = {"route": exchange.route, "stream": exchange.stream}
    return AuthzRequest(principal, exchange.action, exchange.resource, context)
