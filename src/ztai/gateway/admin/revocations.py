"""``/admin/revocations``: disable a user, agent or service, or revoke a key, token or session,
from the very next request on (continuous verification); lift a revocation to re-enable."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from ztai.core.errors import BadRequest
from ztai.gateway.admin.body import Body, Name, Reply, Text, answers, parse_body, request_body
from ztai.gateway.admin.edge import AdminEdge, Call, Operation
from ztai.gateway.admin.services import AdminServices
from ztai.storage.model import Revocation, RevocationKind


class NewRevocation(Body):
    kind: RevocationKind
    subject: Name = Field(description="The id of the user, agent, service, key, token or session")
    until: float | None = Field(default=None, description="When it may be forgotten (epoch s)")
    reason: Text


class RevocationInfo(Reply):
    kind: RevocationKind
    subject: str
    at: float
    until: float | None
    reason: str
    by: str

    @classmethod
    def of(cls, item: Revocation) -> RevocationInfo:
        return cls(kind=item.kind, subject=item.subject, at=item.at, until=item.until,
                   reason=item.reason, by=item.by)


class RevocationList(Reply):
    data: list[RevocationInfo]


class Lifted(Reply):
    kind: RevocationKind
    subject: str
    lifted: bool = True


class RevocationOperations:
    def __init__(self, services: AdminServices) -> None:
        self._s = services

    def index(self, body: bytes) -> Operation:
        return Operation(lambda call: RevocationList(data=[
            RevocationInfo.of(item) for item in self._s.control.revocations()]))

    def create(self, body: bytes) -> Operation:
        ask = parse_body(NewRevocation, body)
        if ask.until is not None and ask.until <= self._s.clock.now():
            raise BadRequest("'until' must be in the future", param="until")
        return Operation(lambda call: self._revoke(ask, call), f"{ask.kind.value}:{ask.subject}")

    def lift(self, kind: str, subject: str) -> Operation:
        try:
            known = RevocationKind(kind)
        except ValueError:
            raise BadRequest(f"no revocation kind {kind!r}", param="kind") from None
        return Operation(lambda call: self._lift(known, subject), f"{known.value}:{subject}")

    def _revoke(self, ask: NewRevocation, call: Call) -> RevocationInfo:
        item = Revocation(ask.kind, ask.subject, self._s.clock.now(), ask.until, ask.reason,
                          call.ref)
        self._s.control.revoke(item)
        return RevocationInfo.of(item)

    def _lift(self, kind: RevocationKind, subject: str) -> Lifted:
        if not self._s.control.unrevoke(kind, subject):
            raise BadRequest(f"{kind.value} {subject!r} is not revoked", param="subject")
        return Lifted(kind=kind, subject=subject)


def routes(edge: AdminEdge, services: AdminServices) -> APIRouter:
    ops = RevocationOperations(services)
    router = APIRouter(prefix="/revocations", tags=["revocations"])

    @router.get("", responses=answers(RevocationList), summary="List revocations")
    async def list_revocations(request: Request) -> Response:
        return await edge.run(request, "revocations.list", ops.index)

    @router.post("", responses=answers(RevocationInfo), openapi_extra=request_body(NewRevocation),
                 summary="Revoke (takes effect on the next request)")
    async def revoke(request: Request) -> Response:
        return await edge.run(request, "revocations.create", ops.create)

    @router.delete("/{kind}/{subject}", responses=answers(Lifted),
                   summary="Lift a revocation (re-enable)")
    async def lift(kind: str, subject: str, request: Request) -> Response:
        return await edge.run(request, "revocations.delete", lambda body: ops.lift(kind, subject))

    return router
