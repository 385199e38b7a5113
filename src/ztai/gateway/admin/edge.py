"""How an admin request reaches the one pipeline. FastAPI only routes: the raw request becomes an
``Inbound``, the body is read after authentication and validated inside ``translate`` (so every
refusal is audited), the answer runs only once Cedar allowed it, and the ``Outcome`` is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from ztai.core.flow import Flow
from ztai.core.model import GATEWAY, Action, Exchange, ExchangeId, Principal
from ztai.core.secret import Secret
from ztai.gateway.clientinfo import MetaReader
from ztai.gateway.control import ref
from ztai.gateway.fastpath import body_reader
from ztai.gateway.pipeline import Inbound, Outcome, Pipeline
from ztai.gateway.plan import Plan, TextlessReader

# The exchange's own signals: they land in the audit event's ``details``. An answer may add to
# them (a new key's id is known only once the key exists); never a secret.
Details = dict[str, str | int | bool]


@dataclass(frozen=True, slots=True)
class Call:
    """What an answer works with: the verified caller (with its just-in-time roles) and the
    audit details it may add to."""

    principal: Principal
    details: Details

    @property
    def ref(self) -> str:
        return ref(self.principal)


Answer = Callable[[Call], BaseModel]


@dataclass(frozen=True, slots=True)
class Operation:
    """What an admin request asks: the answer to run once allowed, the Cedar action it needs
    (on ``Gateway::"gateway"``), and the target its audit event names."""

    answer: Answer
    target: str = ""
    action: Action = Action.ADMINISTER


Prepare = Callable[[bytes], Operation]  # the body → the operation; raises ``BadRequest``


@dataclass(frozen=True, slots=True)
class AdminEdge:
    pipeline: Pipeline
    meta: MetaReader
    max_body_bytes: int

    async def run(self, request: Request, name: str, prepare: Prepare) -> Response:
        """Run operation ``name`` (audited as route ``admin.<name>``) through the pipeline."""
        authorization = request.headers.get("authorization")
        inbound = Inbound(f"admin.{name}", Secret(authorization) if authorization else None,
                          body_reader(request.scope, request.receive, self.max_body_bytes),
                          self.meta.read(request.scope))
        return _response(await self.pipeline.run(inbound, partial(_translate, name, prepare)))


def _translate(name: str, prepare: Prepare, body: bytes, exchange_id: ExchangeId) -> Plan:
    operation = prepare(body)
    details: Details = {"operation": name}
    if operation.target:
        details["target"] = operation.target
    exchange = Exchange(exchange_id, f"admin.{name}", operation.action, GATEWAY, signals=details)
    return Plan(exchange, TextlessReader(), local=partial(_answer, operation.answer, details))


async def _answer(answer: Answer, details: Details, flow: Flow) -> dict[str, Any]:
    # Stores may block (SQLite waits on a busy database), so the answer runs off the loop.
    result = await asyncio.to_thread(answer, Call(flow.principal, details))
    return result.model_dump(mode="json")


def _response(outcome: Outcome) -> Response:
    headers = {"x-ztai-exchange-id": outcome.exchange_id, "cache-control": "no-store",
               **outcome.headers}
    if outcome.status == 401:
        headers.setdefault("www-authenticate", 'Bearer realm="ztai"')
    return Response(outcome.body, outcome.status, headers=headers, media_type="application/json")
