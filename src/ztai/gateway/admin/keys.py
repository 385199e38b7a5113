"""``/admin/keys``: list API keys (never their secrets or hashes), issue one (the key is in that
one answer and nowhere else; the audit event records its id), revoke one."""

from __future__ import annotations

import dataclasses

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import Field

from ztai.core.errors import BadRequest
from ztai.core.model import PrincipalKind
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
from ztai.gateway.admin.edge import AdminEdge, Call, Operation
from ztai.gateway.admin.services import AdminServices
from ztai.identity.apikey import KeySpec, issue_key
from ztai.storage.model import KeyRecord


class NewKey(Body):
    principal: Name
    kind: PrincipalKind
    groups: Names = frozenset()
    attributes: dict[Name, Text] = Field(default_factory=dict, max_length=100)
    expires_in_s: float | None = Field(default=None, gt=0, le=MAX_LIFETIME_S)
    description: Text = ""


class KeyInfo(Reply):
    key_id: str
    principal: str
    kind: PrincipalKind
    groups: list[str]
    attributes: dict[str, str]
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    description: str

    @classmethod
    def of(cls, record: KeyRecord) -> KeyInfo:
        return cls(key_id=record.key_id, principal=record.principal, kind=record.kind,
                   groups=sorted(record.groups), attributes=dict(record.attributes),
                   created_at=record.created_at, expires_at=record.expires_at,
                   revoked_at=record.revoked_at, description=record.description)


class IssuedKey(KeyInfo):
    key: str = Field(description="The API key. Shown in this answer only; store it now.")


class KeyList(Reply):
    data: list[KeyInfo]


class KeyOperations:
    def __init__(self, services: AdminServices) -> None:
        self._s = services

    def index(self, body: bytes) -> Operation:
        return Operation(lambda call: KeyList(data=[
            KeyInfo.of(record) for record in self._s.keys.list_keys()]))

    def create(self, body: bytes) -> Operation:
        ask = parse_body(NewKey, body)
        return Operation(lambda call: self._create(ask, call), f"{ask.kind.value}:{ask.principal}")

    def revoke(self, key_id: str) -> Operation:
        return Operation(lambda call: self._revoke(key_id), key_id)

    def _create(self, ask: NewKey, call: Call) -> IssuedKey:
        spec = KeySpec(ask.principal, ask.kind, ask.groups, ask.attributes, ask.expires_in_s,
                       ask.description)
        key, record = issue_key(self._s.keys, spec, self._s.clock)
        call.details["key_id"] = record.key_id
        return IssuedKey(**KeyInfo.of(record).model_dump(), key=key.reveal())

    def _revoke(self, key_id: str) -> KeyInfo:
        record, now = self._s.keys.get_key(key_id), self._s.clock.now()
        if record is None or not self._s.keys.revoke_key(key_id, now):
            raise BadRequest(f"no unrevoked API key {key_id!r}", param="key_id")
        return KeyInfo.of(dataclasses.replace(record, revoked_at=now))


def routes(edge: AdminEdge, services: AdminServices) -> APIRouter:
    ops, router = KeyOperations(services), APIRouter(prefix="/keys", tags=["keys"])

    @router.get("", responses=answers(KeyList), summary="List API keys")
    async def list_keys(request: Request) -> Response:
        return await edge.run(request, "keys.list", ops.index)

    @router.post("", responses=answers(IssuedKey), openapi_extra=request_body(NewKey),
                 summary="Issue an API key (shown once)")
    async def create_key(request: Request) -> Response:
        return await edge.run(request, "keys.create", ops.create)

    @router.post("/{key_id}/revoke", responses=answers(KeyInfo), summary="Revoke an API key")
    async def revoke_key(key_id: str, request: Request) -> Response:
        return await edge.run(request, "keys.revoke", lambda body: ops.revoke(key_id))

    return router
