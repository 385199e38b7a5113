"""``create_admin_app``: the admin API as a FastAPI app, mounted at ``/admin``. FastAPI routes and
documents; it never parses a body or answers by itself: every request, an unknown path too, runs
through the pipeline and is audited."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.security import HTTPBearer

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
    # The bearer scheme only documents the credential (and gives the docs page its Authorize
    # button); it never refuses: the pipeline authenticates, and audits the refusal.
    bearer = Depends(HTTPBearer(auto_error=False, description="A ztai API key"))
    app = FastAPI(title="ztai admin API", version="1", description=_DESCRIPTION,
                  dependencies=[bearer])
    for module in (keys, agents, kill, revocations, risk, alerts, access, approvals, terms,
                   policies):
        app.include_router(module.routes(edge, services))

    @app.api_route("/{path:path}", methods=METHODS, include_in_schema=False)
    async def unknown(path: str, request: Request) -> Response:
        return await edge.run(request, "unknown", lambda body: _unknown(request))

    return app


def _unknown(request: Request) -> Operation:
    raise BadRequest(f"no admin endpoint {request.method} {request.url.path[:200]}")


_DESCRIPTION = """Administer ztai: API keys, agents, revocations, risk levels and alerts,
just-in-time access, terms-of-use acceptances and policies. Every call needs a bearer API key
whose principal the policies allow the `administer` action on `Gateway::"gateway"` (in the
starter policies: members of the group `admins`); asking for access needs `request_access`,
deciding a request `approve_access`. Every call, allowed or not, is recorded in the audit log."""
