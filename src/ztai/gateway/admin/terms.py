"""``/admin/terms/acceptances``: who accepted which version of which app's terms of use, when."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ztai.gateway.admin.body import Reply, answers
from ztai.gateway.admin.edge import AdminEdge, Operation
from ztai.gateway.admin.services import AdminServices
from ztai.storage.model import TermsAcceptance


class AcceptanceInfo(Reply):
    principal: str
    app: str
    version: str
    at: float

    @classmethod
    def of(cls, item: TermsAcceptance) -> AcceptanceInfo:
        return cls(principal=item.principal, app=item.app, version=item.version, at=item.at)


class AcceptanceList(Reply):
    data: list[AcceptanceInfo]


def routes(edge: AdminEdge, services: AdminServices) -> APIRouter:
    router = APIRouter(prefix="/terms", tags=["terms"])

    def index(body: bytes) -> Operation:
        return Operation(lambda call: AcceptanceList(data=[
            AcceptanceInfo.of(item) for item in services.control.terms_acceptances()]))

    @router.get("/acceptances", responses=answers(AcceptanceList),
                summary="List terms-of-use acceptances")
    async def list_acceptances(request: Request) -> Response:
        return await edge.run(request, "terms.list", index)

    return router
