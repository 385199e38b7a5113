"""The OpenAI routes as a bare ASGI app. They are the hot path, so they skip Starlette's
middleware, routing and request objects (measured: ~10% of the gateway's CPU per request);
every other path, and the lifespan, goes to the Starlette app behind."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from starlette.responses import StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ztai.core.errors import BadRequest, MethodNotAllowed, NotFound, PayloadTooLarge
from ztai.core.model import ExchangeId, Principal
from ztai.core.secret import Secret
from ztai.gateway.clientinfo import MetaReader
from ztai.gateway.pipeline import Inbound, Outcome, Pipeline, Translate
from ztai.gateway.plan import Plan

_JSON = (b"content-type", b"application/json")
_CHALLENGE = (b"www-authenticate", b'Bearer realm="ztai"')


Authenticate = Callable[[], Awaitable[Principal]]
Binding = tuple[Authenticate, Translate]


@dataclass(frozen=True, slots=True)
class FastRoute:
    """A route: its name in metrics and audit, and how it translates a body into a plan.
    ``bind`` is for a route whose caller is identified by the body rather than the
    Authorization header (the token endpoint): per request it yields how to authenticate and
    translate. ``shape`` rewrites the answer into the route's own protocol (its error format)."""

    name: str
    translate: Translate | None = None
    bind: Callable[[Callable[[], Awaitable[bytes]]], Binding] | None = None
    shape: Callable[[Outcome], Outcome] | None = None

    def __post_init__(self) -> None:
        if (self.translate is None) == (self.bind is None):
            raise ValueError(f"route {self.name}: give exactly one of translate and bind")

    def binding(self, read_body: Callable[[], Awaitable[bytes]]
                ) -> tuple[Authenticate | None, Translate]:
        if self.bind is not None:
            return self.bind(read_body)
        assert self.translate is not None  # noqa: S101  # __post_init__ guarantees one of them
        return None, self.translate


class FastPath:
    def __init__(self, pipeline: Pipeline, routes: Mapping[tuple[str, str], FastRoute],
                 fallback: ASGIApp, limit: int, meta: MetaReader) -> None:
        self._pipeline = pipeline
        self._routes = dict(routes)
        self._fallback = fallback
        self._limit = limit
        self._meta = meta

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self._routes.get((scope.get("method", ""), scope.get("path", "")))
        if route is None or scope["type"] != "http":
            await self._fallback(scope, receive, send)
            return
        authorization = _header(scope, b"authorization")
        reader = body_reader(scope, receive, self._limit)
        authenticate, translate = route.binding(reader)
        inbound = Inbound(route.name, Secret(authorization) if authorization else None, reader,
                          self._meta.read(scope), authenticate)
        outcome = await self._pipeline.run(inbound, translate)
        await respond(route.shape(outcome) if route.shape else outcome, scope, receive, send)


async def respond(outcome: Outcome, scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"x-ztai-exchange-id", outcome.exchange_id.encode())]
    headers += [(k.encode(), v.encode()) for k, v in outcome.headers.items()]
    if outcome.chunks is not None:
        stream = StreamingResponse(outcome.chunks, outcome.status, media_type="text/event-stream",
                                   headers={"cache-control": "no-cache"})
        stream.raw_headers.extend(headers)
        await stream(scope, receive, send)  # cancels the relay when the client goes away
        return
    if outcome.status == 401 and "www-authenticate" not in outcome.headers:
        headers.append(_CHALLENGE)
    headers += [_JSON, (b"content-length", str(len(outcome.body)).encode())]
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": outcome.body})


class UnknownRoute:
    """Every path and method no route serves: through the pipeline like any request, so the
    caller is authenticated first (no credential: 401, and nothing said about which paths
    exist), the refusal is audited and is an OpenAI error object — 405 naming the methods a
    known path takes, else 404 (before 2026-11-28 Starlette answered a plain-text 404 that no
    audit event recorded)."""

    def __init__(self, pipeline: Pipeline, known: Mapping[str, tuple[str, ...]],
                 meta: MetaReader) -> None:
        """``known``: the methods each served path takes."""
        self._pipeline, self._known, self._meta = pipeline, dict(known), meta

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = scope.get("method", ""), scope.get("path", "")
        allowed = self._known.get(path)
        error: BadRequest = MethodNotAllowed(
            f"{method} {path}: this path takes {', '.join(allowed)}") if allowed \
            else NotFound(f"no route {method} {path[:200]}")

        def refused(body: bytes, exchange_id: ExchangeId) -> Plan:
            raise error

        authorization = _header(scope, b"authorization")
        outcome = await self._pipeline.run(Inbound(
            "unknown", Secret(authorization) if authorization else None, no_body,
            self._meta.read(scope)), refused)
        if allowed and outcome.status == 405:
            outcome.headers["allow"] = ", ".join(allowed)
        await respond(outcome, scope, receive, send)


async def no_body() -> bytes:
    """The body reader of a request whose body is never read."""
    return b""


def body_reader(scope: Scope, receive: Receive, limit: int) -> Callable[[], Awaitable[bytes]]:
    """Reads the body once, bounded by ``limit``; later calls return the same bytes."""
    cached: list[bytes] = []

    async def read() -> bytes:
        if not cached:
            cached.append(await _read(scope, receive, limit))
        return cached[0]

    return read


async def _read(scope: Scope, receive: Receive, limit: int) -> bytes:
    declared = _header(scope, b"content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("invalid Content-Length header")
        if int(declared) > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise BadRequest("the client went away while sending the body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)




def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
