"""``/admin/access/requests``: just-in-time elevation. Anyone may ask for a role for themselves
(``request_access``); someone else with ``approve_access`` approves or denies it, never the
requester (nor anyone acting for them). An approved role joins the requester's groups until it
expires; every step is an audited exchange."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from ztai.core.errors import BadRequest
from ztai.core.model import Action
from ztai.gateway.access import MAX_DURATION_S, AccessRequest
from ztai.gateway.admin.body import Body, Name, Reply, Text, answers, parse_body, request_body
from ztai.gateway.admin.edge import AdminEdge, Call, Operation
from ztai.gateway.admin.services import AdminServices
from ztai.gateway.control import ref
from ztai.storage.model import AccessGrant, GrantStatus


class NewAccessRequest(Body):
    role: Name = Field(description="The group to join while the grant lasts")
    duration_s: float = Field(gt=0, le=MAX_DURATION_S)
    reason: Text = Field(min_length=1)


class AccessDecision(Body):
    note: Text = ""


class GrantInfo(Reply):
    grant_id: str
    principal: str
    role: str
    reason: str
    duration_s: float
    requested_at: float
    status: GrantStatus
    decided_by: str | None
    decided_at: float | None
    expires_at: float | None
    note: str

    @classmethod
    def of(cls, grant: AccessGrant) -> GrantInfo:
        return cls(grant_id=grant.grant_id, principal=grant.principal, role=grant.role,
                   reason=grant.reason, duration_s=grant.duration_s,
                   requested_at=grant.requested_at, status=grant.status,
                   decided_by=grant.decided_by, decided_at=grant.decided_at,
                   expires_at=grant.expires_at, note=grant.note)


class GrantList(Reply):
    data: list[GrantInfo]


class AccessOperations:
    def __init__(self, services: AdminServices) -> None:
        self._s = services

    def index(self, body: bytes) -> Operation:
        return Operation(lambda call: GrantList(data=[
            GrantInfo.of(grant) for grant in self._s.control.list_grants()]))

    def ask(self, body: bytes) -> Operation:
        ask = parse_body(NewAccessRequest, body)
        return Operation(lambda call: self._ask(ask, call), ask.role, Action.REQUEST_ACCESS)

    def decide(self, grant_id: str, approve: bool, body: bytes) -> Operation:
        decision = parse_body(AccessDecision, body) if body.strip() else AccessDecision()
        return Operation(lambda call: self._decide(grant_id, approve, decision.note, call),
                         grant_id, Action.APPROVE_ACCESS)

    def _ask(self, ask: NewAccessRequest, call: Call) -> GrantInfo:
        grant = self._s.access.request(AccessRequest(call.ref, ask.role, ask.duration_s,
                                                     ask.reason))
        call.details["grant_id"] = grant.grant_id
        return GrantInfo.of(grant)

    def _decide(self, grant_id: str, approve: bool, note: str, call: Call) -> GrantInfo:
        grant = self._s.control.get_grant(grant_id)
        if grant is not None and grant.principal in {ref(p) for p in call.principal.chain()}:
            raise BadRequest("nobody may decide their own access request", param="grant_id")
        decided = self._s.access.decide(grant_id, call.ref, approve, note)
        call.details.update(role=decided.role, subject=decided.principal,
                            status=decided.status.value)
        return GrantInfo.of(decided)


def routes(edge: AdminEdge, services: AdminServices) -> APIRouter:
    ops = AccessOperations(services)
    router = APIRouter(prefix="/access/requests", tags=["access"])

    @router.get("", responses=answers(GrantList), summary="List access requests and grants")
    async def list_requests(request: Request) -> Response:
        return await edge.run(request, "access.list", ops.index)

    @router.post("", responses=answers(GrantInfo), openapi_extra=request_body(NewAccessRequest),
                 summary="Ask for a role for yourself, for a while")
    async def ask(request: Request) -> Response:
        return await edge.run(request, "access.request", ops.ask)

    @router.post("/{grant_id}/approve", responses=answers(GrantInfo),
                 openapi_extra=request_body(AccessDecision, required=False),
                 summary="Approve someone else's request")
    async def approve(grant_id: str, request: Request) -> Response:
        return await edge.run(request, "access.approve",
                              lambda body: ops.decide(grant_id, True, body))

    @router.post("/{grant_id}/deny", responses=answers(GrantInfo),
                 openapi_extra=request_body(AccessDecision, required=False),
                 summary="Deny someone else's request")
    async def deny(grant_id: str, request: Request) -> Response:
        return await edge.run(request, "access.deny",
                              lambda body: ops.decide(grant_id, False, body))

    return router
