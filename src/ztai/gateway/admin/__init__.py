"""The admin API: keys, agents, revocations, risk, just-in-time access, terms and policies, as a
FastAPI app (OpenAPI-documented) whose every endpoint runs through the one pipeline."""

from ztai.gateway.admin.app import create_admin_app
from ztai.gateway.admin.services import AdminServices

__all__ = ["AdminServices", "create_admin_app"]
