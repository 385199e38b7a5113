"""``ztai mcp``: the tools of the configured MCP servers as ztai has pinned them, and the
decisions on quarantined definitions (a changed description, a new tool). Every decision is
written to the audit log before it is reported."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer
from rich.table import Table

from ztai.agents.pinning import PinBook
from ztai.cli.context import ConfigOption, console, fail, format_time, settings_from
from ztai.cli.local_audit import operator, record_action
from ztai.config.settings import Settings
from ztai.core.clock import SystemClock
from ztai.core.errors import ZtaiError
from ztai.storage.pins import SqlitePinStore

app = typer.Typer(help="MCP servers: pinned tool definitions, quarantine decisions.",
                  no_args_is_help=True)


@app.command("pins")
def pins(server: Annotated[str | None, typer.Argument(help="One server (default: all)")] = None,
         as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
         config: ConfigOption = None) -> None:
    """Every version of every tool seen, with its status (approved, quarantined, rejected)."""
    settings = settings_from(config)
    names = [server] if server else [s.name for s in settings.mcp.servers]
    store = SqlitePinStore(settings.path(settings.storage.sqlite_path))
    try:
        rows = [pin for name in names for pin in store.pins(name)]
    finally:
        store.close()
    if as_json:
        for pin in rows:
            typer.echo(orjson.dumps({
                "server": pin.server, "tool": pin.tool, "digest": pin.digest,
                "status": pin.status.value, "reason": pin.reason, "first_seen": pin.first_seen,
                "decided_by": pin.decided_by, "definition": orjson.loads(pin.definition),
            }).decode())
        return
    table = Table("server", "tool", "digest", "status", "first seen", "reason")
    for pin in rows:
        table.add_row(pin.server, pin.tool, pin.digest[:12], pin.status.value,
                      format_time(pin.first_seen), pin.reason)
    console().print(table)


@app.command()
def approve(server: str, tool: str,
            reason: Annotated[str, typer.Option(help="Why it is safe (recorded)")],
            digest: Annotated[str | None, typer.Option(help="Which version (prefix)")] = None,
            config: ConfigOption = None) -> None:
    """Approve a tool's quarantined definition: it is listed and callable from now on."""
    _decide(settings_from(config), server, tool, True, reason, digest)


@app.command()
def reject(server: str, tool: str,
           reason: Annotated[str, typer.Option(help="Why (recorded)")],
           digest: Annotated[str | None, typer.Option(help="Which version (prefix)")] = None,
           config: ConfigOption = None) -> None:
    """Reject a definition: it stays unusable, and is no longer shown as waiting."""
    _decide(settings_from(config), server, tool, False, reason, digest)


def _decide(settings: Settings, server: str, tool: str, approve: bool, reason: str,
            digest: str | None) -> None:
    if server not in {s.name for s in settings.mcp.servers}:
        fail(f"no MCP server {server!r} is configured")
    if not reason.strip():
        fail("give a reason")
    store = SqlitePinStore(settings.path(settings.storage.sqlite_path))
    try:
        pin = PinBook(store, SystemClock()).decide(server, tool, approve, operator(), reason,
                                                   digest)
    except ZtaiError as exc:
        fail(exc.message)
    finally:
        store.close()
    record_action(settings, "mcp.pin_" + ("approve" if approve else "reject"), {
        "mcp_server": server, "tool": tool, "digest": pin.digest, "reason": reason[:512]})
    console().print(f"{pin.status.value}: {server}/{tool} version {pin.digest[:12]}")
