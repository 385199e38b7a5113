"""HTTP routes. Each one only frames the request and hands it to the pipeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ztai.core.errors import BadRequest, PayloadTooLarge
from ztai.core.model import ExchangeId
from ztai.core.secret import Secret
from ztai.gateway.catalog import Catalog
from ztai.gateway.openai.chat import translate_chat
from ztai.gateway.openai.embeddings import translate_embeddings
from ztai.gateway.openai.models import ModelLister
from ztai.gateway.openai.responses import translate_responses
from ztai.gateway.pipeline import Inbound, Outcome, Pipeline, Translate
from ztai.gateway.plan import Plan

Endpoint = Callable[[Request], Awaitable[Response]]


def body_reader(request: Request, limit: int) -> Callable[[], Awaitable[bytes]]:
    async def read() -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            if not declared.isdigit():
                raise BadRequest("invalid Content-Length header")
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    return read


def to_response(outcome: Outcome) -> Response:
    headers = {"x-ztai-exchange-id": outcome.exchange_id, **outcome.headers}
    if outcome.chunks is not None:
        headers["cache-control"] = "no-cache"
        return StreamingResponse(outcome.chunks, outcome.status, headers,
                                 media_type="text/event-stream")
    if outcome.status == 401:
        headers["www-authenticate"] = 'Bearer realm="ztai"'
    return Response(outcome.body, outcome.status, headers, media_type="application/json")


def endpoint(pipeline: Pipeline, route: str, translate: Translate, limit: int) -> Endpoint:
    async def handle(request: Request) -> Response:
        header = request.headers.get("authorization")
        inbound = Inbound(route, Secret(header) if header else None, body_reader(request, limit))
        return to_response(await pipeline.run(inbound, translate))

    return handle


def openai_routes(pipeline: Pipeline, catalog: Catalog, lister: ModelLister,
                  limit: int) -> list[Route]:
    def bound(fn: Callable[[bytes, Catalog, ExchangeId], Plan]) -> Translate:
        return partial(_call, fn, catalog)

    return [
        Route("/v1/chat/completions", endpoint(pipeline, "chat.completions",
                                               bound(translate_chat), limit), methods=["POST"]),
        Route("/v1/responses", endpoint(pipeline, "responses", bound(translate_responses), limit),
              methods=["POST"]),
        Route("/v1/embeddings", endpoint(pipeline, "embeddings", bound(translate_embeddings),
                                         limit), methods=["POST"]),
        Route("/v1/models", endpoint(pipeline, "models", lister.translate, limit),
              methods=["GET"]),
    ]


def _call(fn: Callable[[bytes, Catalog, ExchangeId], Plan], catalog: Catalog, body: bytes,
          exchange_id: ExchangeId) -> Plan:
    return fn(body, catalog, exchange_id)
