"""Operator actions taken from the shell (keys, agents, JIT) are audit events too: written to
the same hash chain as the gateway's, before the command reports success."""

from __future__ import annotations

import getpass

from ztai.audit.writer import AuditWriter
from ztai.cli.context import audit_store, fail
from ztai.config.settings import Settings
from ztai.core.audit import AuditEvent
from ztai.core.clock import SystemClock, new_id
from ztai.core.errors import ZtaiError
from ztai.core.model import Decision
from ztai.gateway.build import audit_signer


def operator() -> str:
    """Who ran the command, as the operating system says (``operator:NAME``)."""
    try:
        return f"operator:{getpass.getuser()}"
    except (KeyError, OSError):
        return "operator:unknown"


def record(settings: Settings, event: AuditEvent) -> None:
    clock = SystemClock()
    try:
        signer = audit_signer(settings)
    except ZtaiError as exc:
        fail(exc.message)
    writer = AuditWriter(audit_store(settings), signer, clock)
    writer.start()
    try:
        writer.record_sync(event)
    finally:
        writer.close()


def record_action(settings: Settings, route: str, details: dict[str, str | int | bool]) -> None:
    """An administrative action by the shell's operator."""
    actor = operator()
    record(settings, AuditEvent(
        id=new_id("x-"), time=SystemClock().now(), route=route, action="administer",
        resource="Gateway::gateway", principal=actor.partition(":")[2],
        principal_kind="operator", credential_id=None, decision=Decision.allow(route),
        status=200, delegation=(actor,), auth_method="local", details=details))
