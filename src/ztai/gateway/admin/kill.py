"""``POST /admin/agents/{agent_id}/kill``: the kill switch. Revokes the agent (its tokens and
keys, and every chain it is in, fail from the next request on), disables its registration,
revokes its API keys and denies every held call it is part of. Idempotent; audited."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from ztai.agents.kill import KillSwitch
from ztai.gateway.admin.body import Body, Reply, Text, answers, parse_body, request_body
from ztai.gateway.admin.edge import AdminEdge, Call, Operation
from ztai.gateway.admin.services import AdminServices


class KillOrder(Body):
    reason: Text = Field(min_length=1, description="Why (recorded with the revocation)")


class KillInfo(Reply):
    """What this call changed: a second kill changes nothing (``changed`` false)."""

    agent_id: str
    changed: bool
    revoked: bool
    disabled: bool
    keys_revoked: list[str]
    held_denied: list[str]


def routes(edge: AdminEdge, services: AdminServices) -> APIRouter:
    router = APIRouter(prefix="/agents", tags=["agents"])

    def prepare(agent_id: str, body: bytes) -> Operation:
        order = parse_body(KillOrder, body)
        return Operation(lambda call: _kill(services, agent_id, order.reason, call), agent_id)

    @router.post("/{agent_id}/kill", responses=answers(KillInfo),
                 openapi_extra=request_body(KillOrder),
                 summary="Stop an agent everywhere (revoke, disable, deny its held calls)")
    async def kill_agent(agent_id: str, request: Request) -> Response:
        return await edge.run(request, "agents.kill", lambda body: prepare(agent_id, body))

    return router


def _kill(services: AdminServices, agent_id: str, reason: str, call: Call) -> KillInfo:
    switch = KillSwitch(services.control, services.keys, services.approvals, services.clock)
    report = switch.kill(agent_id, reason, call.ref)
    call.details.update(changed=report.changed, revoked=report.revoked,
                        disabled=report.disabled, keys_revoked=len(report.keys_revoked),
                        held_denied=len(report.held_denied))
    return KillInfo(agent_id=agent_id, changed=report.changed, revoked=report.revoked,
                    disabled=report.disabled, keys_revoked=list(report.keys_revoked),
                    held_denied=[held.id for held in report.held_denied])
