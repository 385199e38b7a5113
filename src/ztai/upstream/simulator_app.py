"""The simulator served over HTTP as an OpenAI-compatible fake provider, for tests and demos.
Serve it on 127.0.0.1 only: it has no authentication."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ztai.core.clock import Clock, SystemClock
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall
from ztai.upstream.model import SimulatorOptions
from ztai.upstream.simulation import FINGERPRINT, SimulatedFailure, Trigger, invalid
from ztai.upstream.simulator import events_of, reply_of, triggered
from ztai.upstream.sse import encode_event

MODELS = ("ztai-simulator-chat", "ztai-simulator-embed")
Handler = Callable[[Request], Awaitable[Response]]


def create_simulator_app(options: SimulatorOptions | None = None,
                         clock: Clock | None = None) -> Starlette:
    """Routes: POST /v1/chat/completions, /v1/responses, /v1/embeddings; GET /v1/models."""
    stall = (options or SimulatorOptions()).slow_seconds
    now = clock or SystemClock()
    routes = [Route(f"/v1/{endpoint}", _handler(endpoint, stall, now), methods=["POST"])
              for endpoint in Endpoint]
    return Starlette(routes=[*routes, Route("/v1/models", _models, methods=["GET"])])


def _handler(endpoint: Endpoint, stall: float, clock: Clock) -> Handler:
    async def handle(request: Request) -> Response:
        try:
            call = _call(endpoint, await request.body())
            slow = triggered(call) is Trigger.SLOW
            if call.stream:
                return _streamed(events_of(call, int(clock.now())), stall if slow else 0.0)
            reply = reply_of(call, int(clock.now()))
        except SimulatedFailure as failure:
            return _json(failure.body, failure.status)
        await asyncio.sleep(stall if slow else 0.0)
        return _json(reply, 200)

    return handle


def _call(endpoint: Endpoint, content: bytes) -> UpstreamCall:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        raise invalid("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    stream = body.get("stream") is True and endpoint is not Endpoint.EMBEDDINGS
    return UpstreamCall(endpoint=endpoint, body=body, stream=stream)


def _streamed(events: list[StreamEvent], stall: float) -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for index, event in enumerate(events):
            if index == 1 and stall:
                await asyncio.sleep(stall)
            yield encode_event(event)

    return StreamingResponse(chunks(), media_type="text/event-stream",
                             headers={"cache-control": "no-cache"})


async def _models(request: Request) -> Response:
    data = [{"id": model, "object": "model", "created": 0, "owned_by": FINGERPRINT}
            for model in MODELS]
    return _json({"object": "list", "data": data}, 200)


def _json(body: dict[str, Any], status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")
