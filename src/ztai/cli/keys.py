"""``ztai keys``: create (shown once), list, revoke API keys."""

from __future__ import annotations

import sys
from typing import Annotated

import orjson
import typer
from rich.table import Table

from ztai.cli.context import (
    ConfigOption,
    console,
    fail,
    format_time,
    key_store,
    parse_duration,
    settings_from,
)
from ztai.cli.local_audit import record_action
from ztai.core.clock import SystemClock
from ztai.core.model import PrincipalKind
from ztai.identity.apikey import KeySpec, issue_key
from ztai.storage.model import KeyRecord

app = typer.Typer(help="Manage API keys (only their hashes are stored).", no_args_is_help=True)


@app.command()
def create(
    principal: Annotated[str, typer.Option(help="Principal name, e.g. alice")],
    kind: Annotated[PrincipalKind, typer.Option(help="user, service or agent")] = (
        PrincipalKind.USER),
    group: Annotated[list[str] | None, typer.Option(help="Group (repeatable)")] = None,
    attr: Annotated[list[str] | None, typer.Option(help="Attribute k=v (repeatable)")] = None,
    expires: Annotated[str | None, typer.Option(help="Lifetime, e.g. 30d, 12h")] = None,
    description: Annotated[str, typer.Option(help="Free text")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """Create a key. The key is printed once and cannot be shown again."""
    if not principal.strip():
        fail("--principal must not be empty")
    spec = KeySpec(principal, kind, frozenset(group or ()), parse_attributes(attr or []),
                   parse_duration(expires) if expires else None, description)
    settings = settings_from(config)
    key, record = issue_key(key_store(settings), spec, SystemClock())
    record_action(settings, "keys.create", {"key_id": record.key_id, "principal": principal,
                                            "kind": kind.value})
    if as_json:
        sys.stdout.write(orjson.dumps({"key": key.reveal(), **_row(record)}).decode() + "\n")
        return
    out = console()
    out.print(f"Created key [bold]{record.key_id}[/bold] for {kind.value} {principal!r}.")
    out.print("Store it now; it cannot be shown again:")
    out.print(key.reveal(), soft_wrap=True)


@app.command("list")
def list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines")] = False,
    config: ConfigOption = None,
) -> None:
    """List keys (never the keys themselves)."""
    records = key_store(settings_from(config)).list_keys()
    if as_json:
        for record in records:
            sys.stdout.write(orjson.dumps(_row(record)).decode() + "\n")
        return
    table = Table("key id", "principal", "kind", "groups", "created", "expires", "status")
    for r in records:
        table.add_row(r.key_id, r.principal, r.kind.value, ",".join(sorted(r.groups)),
                      format_time(r.created_at), format_time(r.expires_at), _status(r))
    console().print(table)


@app.command()
def revoke(key_id: str, config: ConfigOption = None) -> None:
    """Revoke a key; it is refused from the very next request."""
    settings = settings_from(config)
    if not key_store(settings).revoke_key(key_id, SystemClock().now()):
        fail(f"no active key with id {key_id!r}")
    record_action(settings, "keys.revoke", {"key_id": key_id})
    console().print(f"Revoked key {key_id}.")


def parse_attributes(pairs: list[str]) -> dict[str, str]:
    attributes = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            fail(f"invalid --attr {pair!r}: use key=value")
        attributes[name] = value
    return attributes


def _row(r: KeyRecord) -> dict[str, object]:
    return {"key_id": r.key_id, "principal": r.principal, "kind": r.kind.value,
            "groups": sorted(r.groups), "attributes": dict(r.attributes),
            "created_at": r.created_at, "expires_at": r.expires_at, "revoked_at": r.revoked_at,
            "status": _status(r), "description": r.description}


def _status(r: KeyRecord) -> str:
    if r.revoked_at is not None:
        return "revoked"
    return "active" if r.is_active(SystemClock().now()) else "expired"
