"""``ztai approvals``: calls held for a person's approval, from the operator's shell (the admin
API offers the same remotely). A decision here reaches the waiting gateway through the shared
database within its poll interval; each decision is written to the audit log."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer
from rich.table import Table

from ztai.agents.approvals import ApprovalQueue
from ztai.agents.held import decision_event
from ztai.cli.context import ConfigOption, console, fail, format_time, settings_from
from ztai.cli.local_audit import operator, record
from ztai.config.settings import Settings
from ztai.core.clock import SystemClock
from ztai.core.errors import ZtaiError
from ztai.storage.model import HeldCall, HeldStatus
from ztai.storage.sqlite import SqliteApprovalStore

app = typer.Typer(help="Calls held for approval: list, approve, deny.", no_args_is_help=True)
Reason = Annotated[str, typer.Option(help="Why (recorded in the audit log)")]
By = Annotated[str | None, typer.Option(help="Decide as this user (default: the operator)")]


@app.command("list")
def list_held(
    status: Annotated[str, typer.Option(help="pending, approved, denied, expired or all")
                      ] = "pending",
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
    config: ConfigOption = None,
) -> None:
    """Held calls (pending ones by default), oldest first."""
    wanted = None if status == "all" else _status(status)
    calls = _queue(settings_from(config)).calls(wanted)
    if as_json:
        for call in calls:
            sys.stdout.write(orjson.dumps(_row(call)).decode() + "\n")
        return
    table = Table("id", "principal", "resource", "summary", "status", "expires", "decided by")
    for c in calls:
        table.add_row(c.id, " > ".join(c.chain), c.resource,
                      ", ".join(f"{k}={v}" for k, v in sorted(c.summary.items())),
                      c.status.value, format_time(c.expires_at), c.decided_by or "-")
    console().print(table)


@app.command()
def approve(call_id: str, reason: Reason, by: By = None, config: ConfigOption = None) -> None:
    """Approve a pending held call: the waiting call goes ahead."""
    call = _decide(settings_from(config), call_id, True, reason, by)
    console().print(f"Approved held call {call.id}: {call.resource} for {call.principal}")


@app.command()
def deny(call_id: str, reason: Reason, by: By = None, config: ConfigOption = None) -> None:
    """Deny a pending held call: the waiting call is refused."""
    call = _decide(settings_from(config), call_id, False, reason, by)
    console().print(f"Denied held call {call.id}: {call.resource} for {call.principal}")


def _decide(settings: Settings, call_id: str, approve: bool, reason: str,
            by: str | None) -> HeldCall:
    """Decide and audit; the audit commit happens before we report."""
    actor = f"user:{by}" if by else operator()
    try:
        call = _queue(settings).decide(call_id, approve, actor, reason)
    except ZtaiError as exc:
        fail(exc.message)
    record(settings, decision_event(call, actor, SystemClock().now()))
    return call


def _queue(settings: Settings) -> ApprovalQueue:
    return ApprovalQueue(SqliteApprovalStore(settings.path(settings.storage.sqlite_path)),
                         SystemClock())


def _status(text: str) -> HeldStatus:
    try:
        return HeldStatus(text)
    except ValueError:
        fail(f"unknown status {text!r}: use pending, approved, denied, expired or all")


def _row(c: HeldCall) -> dict[str, object]:
    return {"id": c.id, "principal": c.principal, "chain": list(c.chain), "action": c.action,
            "resource": c.resource, "summary": dict(c.summary), "created_at": c.created_at,
            "expires_at": c.expires_at, "status": c.status.value, "decided_by": c.decided_by,
            "decided_at": c.decided_at, "reason": c.reason, "notify_error": c.notify_error}
