"""``ztai access``: just-in-time elevation from the operator's shell (the admin API offers the
same to remote users). Every step is written to the audit log."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Annotated

import orjson
import typer
from rich.table import Table

from ztai.cli.context import ConfigOption, console, fail, format_time, parse_duration, settings_from
from ztai.cli.local_audit import record
from ztai.config.settings import Settings
from ztai.core.clock import SystemClock
from ztai.core.errors import ZtaiError
from ztai.core.model import PrincipalKind
from ztai.gateway.access import AccessRequest, AccessService, lifecycle_event
from ztai.storage.model import AccessGrant
from ztai.storage.sqlite import SqliteControlStore

app = typer.Typer(help="Just-in-time access: request, approve, deny, list.", no_args_is_help=True)


@app.command()
def request(
    principal: Annotated[str, typer.Option(help="Who needs the role")],
    role: Annotated[str, typer.Option(help="The group to join, e.g. finance-approvers")],
    duration: Annotated[str, typer.Option(help="How long, e.g. 1h")],
    reason: Annotated[str, typer.Option(help="Why (recorded)")],
    kind: Annotated[PrincipalKind, typer.Option(help="Principal kind")] = PrincipalKind.USER,
    config: ConfigOption = None,
) -> None:
    """Ask for a role for a while. It takes effect once someone else approves it."""
    settings = settings_from(config)
    ask = AccessRequest(f"{kind.value}:{principal}", role, parse_duration(duration), reason)
    grant = _step(settings, lambda s: s.request(ask), "request", ask.principal)
    console().print(f"Requested {role} for {ask.principal}: request id [bold]{grant.grant_id}")


@app.command()
def approve(grant_id: str,
            approver: Annotated[str, typer.Option(help="Approver, e.g. bob (a user)")],
            note: Annotated[str, typer.Option(help="Note")] = "",
            config: ConfigOption = None) -> None:
    """Approve a pending request; the role applies from the next request until it expires."""
    who = f"user:{approver}"
    grant = _step(settings_from(config), lambda s: s.decide(grant_id, who, True, note),
                  "approve", who)
    console().print(f"Approved: {grant.role} for {grant.principal} until "
                    f"{format_time(grant.expires_at)}")


@app.command()
def deny(grant_id: str,
         approver: Annotated[str, typer.Option(help="Who denies, e.g. bob (a user)")],
         note: Annotated[str, typer.Option(help="Note")] = "",
         config: ConfigOption = None) -> None:
    """Deny a pending request."""
    who = f"user:{approver}"
    grant = _step(settings_from(config), lambda s: s.decide(grant_id, who, False, note),
                  "deny", who)
    console().print(f"Denied: {grant.role} for {grant.principal}")


@app.command("list")
def list_grants(as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                config: ConfigOption = None) -> None:
    """All requests and grants with their status."""
    settings = settings_from(config)
    grants = SqliteControlStore(settings.path(settings.storage.sqlite_path)).list_grants()
    if as_json:
        for g in grants:
            sys.stdout.write(orjson.dumps({
                "grant_id": g.grant_id, "principal": g.principal, "role": g.role,
                "status": g.status.value, "reason": g.reason, "decided_by": g.decided_by,
                "expires_at": g.expires_at}).decode() + "\n")
        return
    table = Table("id", "principal", "role", "status", "reason", "decided by", "expires")
    for g in grants:
        table.add_row(g.grant_id, g.principal, g.role, g.status.value, g.reason,
                      g.decided_by or "-", format_time(g.expires_at))
    console().print(table)


def _step(settings: Settings, act: Callable[[AccessService], AccessGrant], step: str,
          actor: str) -> AccessGrant:
    """Run one lifecycle step and audit it; the audit commit happens before we report."""
    clock = SystemClock()
    store = SqliteControlStore(settings.path(settings.storage.sqlite_path))
    try:
        grant = act(AccessService(store, clock))
    except ZtaiError as exc:
        fail(exc.message)
    record(settings, lifecycle_event(grant, step, actor, clock))
    return grant
