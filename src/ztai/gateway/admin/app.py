"""``create_admin_app``: the admin API as a FastAPI app, mounted at ``/admin``. FastAPI routes and
documents; it never parses a body or answers by itself: every request, an unknown path too, runs
through the pipeline and is audited."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.security import HTTPBearer
from pydantic import RootModel

from ztai.core.errors import BadRequest
from ztai.gateway.admin import (
    access,
    agents,
    alerts,
    approvals,
    keys,
    kill,
    policies,
    revocations,
    risk,
    terms,
)
from ztai.gateway.admin.edge import AdminEdge, Operation
from ztai.gateway.admin.services import AdminServices
from ztai.gateway.clientinfo import MetaReader
from ztai.gateway.pipeline import Pipeline

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def create_admin_app(pipeline: Pipeline, services: AdminServices, *,
                     meta: MetaReader | None = None, max_body_bytes: int = 65_536) -> FastAPI:
    """The admin API over ``pipeline``; ``meta`` reads client addresses as the gateway does."""
    edge = AdminEdge(pipeline, meta or MetaReader(), max_body_bytes)
    # The bearer scheme only documents the credential in the OpenAPI document; it never
    # refuses: the pipeline authenticates, and audits the refusal.
    bearer = Depends(HTTPBearer(auto_error=False, description="A ztai API key"))
    # No docs pages: FastAPI's load Swagger UI and ReDoc from a CDN into this origin, where an
    # admin would paste a key (and they fail without internet). The OpenAPI document itself is
    # an admin operation like any other (before 2026-11-28 FastAPI served all three itself,
    # unauthenticated and unaudited).
    app = FastAPI(title="ztai admin API", version="1", description=_DESCRIPTION,
                  dependencies=[bearer], openapi_url=None, docs_url=None, redoc_url=None)
    for module in (keys, agents, kill, revocations, risk, alerts, access, approvals, terms,
                   policies):
        app.include_router(module.routes(edge, services))

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_document(request: Request) -> Response:
        return await edge.run(request, "openapi", lambda body: Operation(
            lambda call: _Document(app.openapi())))

    @app.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
    async def unknown(path: str, request: Request) -> Response:
        return await edge.run(request, "unknown", lambda body: _unknown(request))

    return app


class _Document(RootModel[dict[str, Any]]):
    """The OpenAPI document as an admin answer."""


def _unknown(request: Request) -> Operation:
    raise BadRequest(f"no admin endpoint {request.method} {request.url.path[:200]}")


_DESCRIPTION = """Administer ztai: API keys, agents, revocations, risk levels and alerts,
just-in-time access, terms-of-use acceptances and policies. Every call needs a bearer API key
whose principal the policies allow the `administer` action on `Gateway::"gateway"` (in the
starter policies: members of the group `admins`); asking for access needs `request_access`,
deciding a request `approve_access`. Every call, allowed or not, is recorded in the audit log."""
