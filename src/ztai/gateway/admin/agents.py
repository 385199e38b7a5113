"""``/admin/agents``: register an agent (its sponsor, public key and allowed models), list,
disable, enable and delete agents. A disabled or deleted agent fails its next request."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from ztai.core.errors import BadRequest
from ztai.gateway.admin.body import (
    MAX_LIFETIME_S,
    Body,
    Name,
    Names,
    Reply,
    Text,
    answers,
    parse_body,
    request_body,
)
from ztai.gateway.admin.edge import AdminEdge, Operation
from ztai.gateway.admin.jwk import public_jwk
from ztai.gateway.admin.services import AdminServices
from ztai.storage.interface import DuplicateKey
from ztai.storage.model import AgentRecord


class NewAgent(Body):
    agent_id: Name
    sponsor: Name = Field(description="The accountable user's id")
    public_jwk: dict[str, Any] = Field(
        description="Public JWK: RSA ≥ 2048 bits, EC P-256/P-384 or OKP Ed25519")
    allowed_models: Names = frozenset()
    groups: Names = frozenset()
    expires_in_s: float | None = Field(default=None, gt=0, le=MAX_LIFETIME_S)
    description: Text = ""


class AgentInfo(Reply):
    agent_id: str
    sponsor: str
    public_jwk: dict[str, Any]
    allowed_models: list[str]
    groups: list[str]
    created_at: float
    expires_at: float | None
    disabled: bool
    description: str

    @classmethod
    def of(cls, record: AgentRecord) -> AgentInfo:
        return cls(agent_id=record.agent_id, sponsor=record.sponsor,
                   public_jwk=dict(record.public_jwk), allowed_models=sorted(record.allowed_models),
                   groups=sorted(record.groups), created_at=record.created_at,
                   expires_at=record.expires_at, disabled=record.disabled,
                   description=record.description)


class AgentList(Reply):
    data: list[AgentInfo]


class Deleted(Reply):
    agent_id: str
    deleted: bool = True


class AgentOperations:
    def __init__(self, services: AdminServices) -> None:
        self._s = services

    def index(self, body: bytes) -> Operation:
        return Operation(lambda call: AgentList(data=[
            AgentInfo.of(record) for record in self._s.control.list_agents()]))

    def create(self, body: bytes) -> Operation:
        ask = parse_body(NewAgent, body)
        record = self._record(ask, public_jwk(ask.public_jwk))
        return Operation(lambda call: self._put(record), ask.agent_id)

    def set_disabled(self, agent_id: str, disabled: bool) -> Operation:
        return Operation(lambda call: self._set_disabled(agent_id, disabled), agent_id)

    def delete(self, agent_id: str) -> Operation:
        return Operation(lambda call: self._delete(agent_id), agent_id)

    def _record(self, ask: NewAgent, jwk: dict[str, Any]) -> AgentRecord:
        now = self._s.clock.now()
        return AgentRecord(ask.agent_id, ask.sponsor, jwk, ask.allowed_models, ask.groups,
                           created_at=now, description=ask.description,
                           expires_at=None if ask.expires_in_s is None else now + ask.expires_in_s)

    def _put(self, record: AgentRecord) -> AgentInfo:
        try:
            self._s.control.put_agent(record)
        except DuplicateKey:
            raise BadRequest(f"agent {record.agent_id!r} already exists",
                             param="agent_id") from None
        return AgentInfo.of(record)

    def _set_disabled(self, agent_id: str, disabled: bool) -> AgentInfo:
        self._s.control.set_agent_disabled(agent_id, disabled)  # False if already so: fine
        record = self._s.control.get_agent(agent_id)
        if record is None:
            raise BadRequest(f"no agent {agent_id!r}", param="agent_id")
        return AgentInfo.of(record)

    def _delete(self, agent_id: str) -> Deleted:
        if not self._s.control.delete_agent(agent_id):
            raise BadRequest(f"no agent {agent_id!r}", param="agent_id")
        return Deleted(agent_id=agent_id)


def routes(edge: AdminEdge, services: AdminServices) -> APIRouter:
    ops, router = AgentOperations(services), APIRouter(prefix="/agents", tags=["agents"])

    @router.get("", responses=answers(AgentList), summary="List agents")
    async def list_agents(request: Request) -> Response:
        return await edge.run(request, "agents.list", ops.index)

    @router.post("", responses=answers(AgentInfo), openapi_extra=request_body(NewAgent),
                 summary="Register an agent")
    async def create_agent(request: Request) -> Response:
        return await edge.run(request, "agents.create", ops.create)

    @router.post("/{agent_id}/disable", responses=answers(AgentInfo), summary="Disable an agent")
    async def disable_agent(agent_id: str, request: Request) -> Response:
        return await edge.run(request, "agents.disable",
                              lambda body: ops.set_disabled(agent_id, True))

    @router.post("/{agent_id}/enable", responses=answers(AgentInfo), summary="Enable an agent")
    async def enable_agent(agent_id: str, request: Request) -> Response:
        return await edge.run(request, "agents.enable",
                              lambda body: ops.set_disabled(agent_id, False))

    @router.delete("/{agent_id}", responses=answers(Deleted), summary="Delete an agent")
    async def delete_agent(agent_id: str, request: Request) -> Response:
        return await edge.run(request, "agents.delete", lambda body: ops.delete(agent_id))

    return router
