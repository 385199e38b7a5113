"""``create_app(parts)``: the ASGI app. No work at import; everything comes in ``parts``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import Receive, Scope, Send

from ztai.agents.approvals import ApprovalQueue
from ztai.agents.held import decision_event
from ztai.core.clock import Clock
from ztai.core.errors import ZtaiError
from ztai.core.flow import RequestStage, ResponseStage
from ztai.gateway.access import AccessService, lifecycle_event
from ztai.gateway.admin import AdminServices, create_admin_app
from ztai.gateway.answer import AnswerPolicy
from ztai.gateway.catalog import Catalog
from ztai.gateway.clientinfo import MetaReader
from ztai.gateway.fastpath import FastPath, FastRoute, UnknownRoute
from ztai.gateway.holds import Holds
from ztai.gateway.mcp.front import McpFront, running
from ztai.gateway.mcp.gate import McpGate
from ztai.gateway.metrics import Metrics
from ztai.gateway.openai.models import ModelLister
from ztai.gateway.pipeline import (
    Auditor,
    Pipeline,
    PipelineOptions,
    PipelineServices,
    UsageSink,
)
from ztai.gateway.routes import openai_routes
from ztai.gateway.toolcalls import ToolCallPolicy
from ztai.identity.interface import Authenticator
from ztai.policy.interface import Authorizer

log = logging.getLogger("ztai.gateway")
Lifespan = Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]


class LifecycleAuditor(Auditor, Protocol):
    def start(self) -> None: ...

    async def aclose(self) -> None: ...

    def is_healthy(self) -> bool: ...


class PolicyWatcher(Protocol):
    def poll(self, metrics: Metrics) -> None:
        """Reload policies if their files changed; report the result (never raise)."""
        ...


@dataclass(slots=True)
class Parts:
    """Everything the gateway is made of. ``build_parts`` makes them from settings; tests
    assemble their own (memory stores, fake upstreams, extra stages)."""

    clock: Clock
    authenticator: Authenticator
    authorizer: Authorizer
    catalog: Catalog
    auditor: LifecycleAuditor
    stages: Sequence[RequestStage]
    response_stages: Sequence[ResponseStage] = ()
    answers: AnswerPolicy | None = None  # answers scanned and protected (DLP), when given
    tool_calls: ToolCallPolicy | None = None  # tool calls models propose, authorized
    holds: Holds | None = None  # held tool calls wait for approval
    usage: UsageSink | None = None  # tokens of allowed answers (agent budgets)
    approvals: ApprovalQueue | None = None  # expired by the housekeeping loop
    options: PipelineOptions = field(default_factory=PipelineOptions)
    max_body_bytes: int = 1_048_576
    meta_reader: MetaReader = field(default_factory=MetaReader)
    extra_routes: Mapping[tuple[str, str], FastRoute] = field(default_factory=dict)
    watcher: PolicyWatcher | None = None
    access: AccessService | None = None
    admin: AdminServices | None = None  # the admin API at /admin, when given
    reload_interval_s: float = 1.0
    mcp_gates: Sequence[McpGate] = ()  # upstream MCP servers, served at /mcp/<name>
    closers: list[Callable[[], None]] = field(default_factory=list)
    async_closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # control-plane loops run while serving (the risk monitor); cancelled before the closers
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


class Gateway(FastPath):
    """The ASGI app: the OpenAI routes on the fast path, everything else on Starlette."""

    def __init__(self, parts: Parts) -> None:
        metrics = Metrics()
        pipeline = Pipeline(parts.authenticator, parts.stages, parts.response_stages,
                            parts.auditor, PipelineServices(parts.clock, metrics, parts.options,
                                                            parts.answers, parts.tool_calls,
                                                            parts.holds, parts.usage))
        lister = ModelLister(parts.catalog, parts.authorizer)
        self.mcp = [McpFront(gate, pipeline, parts.authenticator, parts.meta_reader,
                             parts.max_body_bytes) for gate in parts.mcp_gates]
        routes = {**openai_routes(parts.catalog, lister), **parts.extra_routes}
        served = [*_routes(parts, metrics, pipeline), *(Route(f.path, f) for f in self.mcp)]
        unknown = UnknownRoute(pipeline, _methods(served, routes, self.mcp), parts.meta_reader)
        self.starlette = Starlette(routes=[*served, Route("/{path:path}", unknown)],
                                   lifespan=_lifespan(parts, metrics, self.mcp))
        super().__init__(pipeline, routes, self.starlette, parts.max_body_bytes,
                         parts.meta_reader)
        self._mcp_paths = {front.path: front for front in self.mcp}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        front = self._mcp_paths.get(scope.get("path", "")) if scope["type"] == "http" else None
        if front is None:
            await super().__call__(scope, receive, send)
        else:  # MCP is a hot path too: straight to its endpoint, no Starlette in between
            await front(scope, receive, send)

    def lifespan(self) -> contextlib.AbstractAsyncContextManager[object]:
        """Start-up and shut-down, for running the app without a server (tests)."""
        return self.starlette.router.lifespan_context(self.starlette)


def _methods(served: list[BaseRoute], routes: Mapping[tuple[str, str], object],
             mcp: list[McpFront]) -> dict[str, tuple[str, ...]]:
    """The methods each served path takes (for a 405's ``Allow``)."""
    known = {route.path: tuple(sorted(route.methods)) for route in served
             if isinstance(route, Route) and route.methods}
    for method, path in sorted(routes):
        known[path] = (*known.get(path, ()), method)
    known.update((front.path, ("DELETE", "GET", "POST")) for front in mcp)
    return known


def create_app(parts: Parts) -> Gateway:
    return Gateway(parts)


def _lifespan(parts: Parts, metrics: Metrics, mcp: list[McpFront]) -> Lifespan:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        parts.auditor.start()
        watcher = asyncio.create_task(_watch(parts, metrics))
        background = [asyncio.ensure_future(run()) for run in parts.background]
        try:
            async with running(mcp):
                yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            for upstream in {route.upstream for route in parts.catalog}:
                await upstream.aclose()
            await parts.auditor.aclose()
            for aclose in parts.async_closers:
                await aclose()
            for close in parts.closers:
                close()

    return lifespan


async def _watch(parts: Parts, metrics: Metrics) -> None:
    """Housekeeping off the request path: reload changed policies, expire JIT grants."""
    while True:
        await asyncio.sleep(parts.reload_interval_s)
        if parts.watcher is not None:
            await asyncio.to_thread(parts.watcher.poll, metrics)
        if parts.access is not None:
            await _expire_grants(parts, parts.access)
        if parts.approvals is not None:
            await _expire_held(parts, parts.approvals)


async def _expire_grants(parts: Parts, access: AccessService) -> None:
    try:
        expired = await asyncio.to_thread(access.expire)
        for grant in expired:
            await parts.auditor.record(lifecycle_event(grant, "expire", "service:ztai",
                                                       parts.clock))
    except ZtaiError as exc:
        log.error("could not expire access grants: %s", exc.message)


async def _expire_held(parts: Parts, approvals: ApprovalQueue) -> None:
    try:
        expired = await asyncio.to_thread(approvals.expire, parts.clock.now())
        for call in expired:
            await parts.auditor.record(decision_event(call, "service:ztai", parts.clock.now()))
    except ZtaiError as exc:
        log.error("could not expire held calls: %s", exc.message)


def _routes(parts: Parts, metrics: Metrics, pipeline: Pipeline) -> list[BaseRoute]:
    routes: list[BaseRoute] = [*_operational_routes(parts, metrics)]
    if parts.admin is not None:
        routes.append(Mount("/admin", app=create_admin_app(
            pipeline, parts.admin, meta=parts.meta_reader, max_body_bytes=parts.max_body_bytes)))
    return routes


def _operational_routes(parts: Parts, metrics: Metrics) -> list[Route]:
    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    async def readyz(request: Request) -> Response:
        problems = [] if parts.auditor.is_healthy() else ["audit writer is not running"]
        body = orjson.dumps({"status": "not ready" if problems else "ready",
                             "problems": problems})
        return Response(body, 503 if problems else 200, media_type="application/json")

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    return [Route("/healthz", healthz), Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint)]
