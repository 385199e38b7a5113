"""``/admin/approvals``: calls held for a person's approval. List them (pending by default),
read one, approve or deny it with a reason; a decision wakes the waiting call at once. Agents
never decide (nor anyone acting through one). Every call is an audited exchange."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from ztai.agents.approvals import ApprovalQueue
from ztai.core.errors import BadRequest
from ztai.gateway.admin.body import Body, Reply, Text, answers, parse_body, request_body
from ztai.gateway.admin.edge import AdminEdge, Call, Operation
from ztai.gateway.admin.services import AdminServices
from ztai.storage.model import HeldCall, HeldStatus


class HeldDecision(Body):
    reason: Text = Field(min_length=1, description="Why (recorded in the audit log)")


class HeldInfo(Reply):
    id: str
    principal: str
    chain: list[str]
    action: str
    resource: str
    summary: dict[str, str]
    created_at: float
    expires_at: float
    status: HeldStatus
    decided_by: str | None
    decided_at: float | None
    reason: str
    notify_error: str

    @classmethod
    def of(cls, call: HeldCall) -> HeldInfo:
        return cls(id=call.id, principal=call.principal, chain=list(call.chain),
                   action=call.action, resource=call.resource, summary=dict(call.summary),
                   created_at=call.created_at, expires_at=call.expires_at, status=call.status,
                   decided_by=call.decided_by, decided_at=call.decided_at, reason=call.reason,
                   notify_error=call.notify_error)


class HeldList(Reply):
    data: list[HeldInfo]


class ApprovalOperations:
    def __init__(self, services: AdminServices) -> None:
        self._s = services

    def index(self, status: str | None) -> Operation:
        wanted = _status(status or HeldStatus.PENDING.value)
        return Operation(lambda call: HeldList(data=[
            HeldInfo.of(held) for held in self._queue().calls(wanted)]))

    def show(self, call_id: str) -> Operation:
        return Operation(lambda call: HeldInfo.of(self._queue().get(call_id)), call_id)

    def decide(self, call_id: str, approve: bool, body: bytes) -> Operation:
        ask = parse_body(HeldDecision, body)
        return Operation(lambda call: self._decide(call_id, approve, ask.reason, call), call_id)

    def _decide(self, call_id: str, approve: bool, reason: str, call: Call) -> HeldInfo:
        decided = self._queue().decide(call_id, approve, call.ref, reason)
        call.details.update(held_id=decided.id, subject=decided.principal,
                            resource=decided.resource, status=decided.status.value)
        return HeldInfo.of(decided)

    def _queue(self) -> ApprovalQueue:
        if self._s.approvals is None:
            raise BadRequest("this gateway holds no calls for approval",
                             code="approvals_not_configured")
        return self._s.approvals


def _status(text: str) -> HeldStatus | None:
    if text == "all":
        return None
    try:
        return HeldStatus(text)
    except ValueError:
        raise BadRequest("status must be pending, approved, denied, expired or all",
                         param="status") from None


def routes(edge: AdminEdge, services: AdminServices) -> APIRouter:
    ops, router = ApprovalOperations(services), APIRouter(prefix="/approvals",
                                                          tags=["approvals"])

    @router.get("", responses=answers(HeldList),
                summary="Held calls (?status=pending by default; approved, denied, expired, all)")
    async def list_held(request: Request) -> Response:
        status = request.query_params.get("status")
        return await edge.run(request, "approvals.list", lambda body: ops.index(status))

    @router.get("/{call_id}", responses=answers(HeldInfo), summary="One held call")
    async def show_held(call_id: str, request: Request) -> Response:
        return await edge.run(request, "approvals.get", lambda body: ops.show(call_id))

    @router.post("/{call_id}/approve", responses=answers(HeldInfo),
                 openapi_extra=request_body(HeldDecision), summary="Approve a held call")
    async def approve(call_id: str, request: Request) -> Response:
        return await edge.run(request, "approvals.approve",
                              lambda body: ops.decide(call_id, True, body))

    @router.post("/{call_id}/deny", responses=answers(HeldInfo),
                 openapi_extra=request_body(HeldDecision), summary="Deny a held call")
    async def deny(call_id: str, request: Request) -> Response:
        return await edge.run(request, "approvals.deny",
                              lambda body: ops.decide(call_id, False, body))

    return router
