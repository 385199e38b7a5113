"""``/admin/risk``: each principal's current risk level, and setting one by hand (recorded with
who set it and why). Policies read the level as ``context.risk_level``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ztai.core.errors import BadRequest
from ztai.core.model import PrincipalKind
from ztai.gateway.admin.body import Body, Reply, Text, answers, parse_body, request_body
from ztai.gateway.admin.edge import AdminEdge, Call, Operation
from ztai.gateway.admin.services import AdminServices
from ztai.storage.model import RiskLevel, RiskRecord


class NewRisk(Body):
    level: RiskLevel
    reason: Text


class RiskInfo(Reply):
    principal: str
    level: RiskLevel
    reason: str
    set_by: str
    at: float

    @classmethod
    def of(cls, record: RiskRecord) -> RiskInfo:
        return cls(principal=record.principal, level=record.level, reason=record.reason,
                   set_by=record.set_by, at=record.at)


class RiskList(Reply):
    data: list[RiskInfo]


class RiskOperations:
    def __init__(self, services: AdminServices) -> None:
        self._s = services

    def index(self, body: bytes) -> Operation:
        levels = self._s.control.risk_levels
        return Operation(lambda call: RiskList(data=[
            RiskInfo.of(record) for _, record in sorted(levels().items())]))

    def assign(self, principal_ref: str, body: bytes) -> Operation:
        kind, _, subject = principal_ref.partition(":")
        if kind not in {k.value for k in PrincipalKind} or not subject:
            raise BadRequest("the principal must be 'kind:id' with kind user, agent or service",
                             param="principal_ref")
        ask = parse_body(NewRisk, body)
        return Operation(lambda call: self._set(principal_ref, ask, call), principal_ref)

    def _set(self, principal_ref: str, ask: NewRisk, call: Call) -> RiskInfo:
        record = RiskRecord(principal_ref, ask.level, ask.reason, call.ref, self._s.clock.now())
        self._s.control.set_risk(record)
        return RiskInfo.of(record)


def routes(edge: AdminEdge, services: AdminServices) -> APIRouter:
    ops, router = RiskOperations(services), APIRouter(prefix="/risk", tags=["risk"])

    @router.get("", responses=answers(RiskList), summary="Current risk levels")
    async def list_risk(request: Request) -> Response:
        return await edge.run(request, "risk.list", ops.index)

    @router.put("/{principal_ref}", responses=answers(RiskInfo),
                openapi_extra=request_body(NewRisk),
                summary="Set a principal's risk level ('kind:id')")
    async def set_risk(principal_ref: str, request: Request) -> Response:
        return await edge.run(request, "risk.set", lambda body: ops.assign(principal_ref, body))

    return router
