"""``ztai agents``: register AI agents (each with a sponsor, the models it may use, a lifetime
and its public key), list, disable, enable and delete them. Agents then get short-lived tokens
at ``/oauth2/token`` with assertions signed by their key."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from joserfc.jwk import ECKey
from rich.table import Table

from ztai.agents.approvals import ApprovalQueue
from ztai.agents.kill import KillSwitch
from ztai.cli.context import (
    ConfigOption,
    console,
    fail,
    format_time,
    key_store,
    parse_duration,
    settings_from,
)
from ztai.cli.local_audit import operator, record_action
from ztai.config.settings import Settings
from ztai.core.clock import SystemClock
from ztai.core.errors import BadRequest, ZtaiError
from ztai.gateway.admin.jwk import public_jwk
from ztai.storage.interface import DuplicateKey
from ztai.storage.model import AgentRecord
from ztai.storage.sqlite import SqliteApprovalStore, SqliteControlStore

app = typer.Typer(help="Register and manage AI agent identities.", no_args_is_help=True)


@app.command()
def create(
    name: Annotated[str, typer.Argument(help="Agent id, e.g. mailbot")],
    sponsor: Annotated[str, typer.Option(help="The accountable user (disabling them disables "
                                              "the agent)")],
    allow_model: Annotated[list[str], typer.Option(help="A model it may use (repeatable)")],
    public_key: Annotated[Path | None, typer.Option(help="The agent's public JWK (JSON file)")
                          ] = None,
    generate_key: Annotated[Path | None, typer.Option(help="Generate a key pair; write the "
                                                           "private JWK here for the agent")
                            ] = None,
    group: Annotated[list[str] | None, typer.Option(help="Group (repeatable)")] = None,
    expires: Annotated[str | None, typer.Option(help="Lifetime, e.g. 90d")] = None,
    description: Annotated[str, typer.Option(help="Free text")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    config: ConfigOption = None,
) -> None:
    """Register an agent with its public key (given, or generated for it)."""
    if (public_key is None) == (generate_key is None):
        fail("give exactly one of --public-key and --generate-key")
    settings, now = settings_from(config), SystemClock().now()
    jwk = _load_public(public_key) if public_key else _generate(generate_key)
    record = AgentRecord(name, sponsor, jwk, frozenset(allow_model), frozenset(group or ()),
                         now, now + parse_duration(expires) if expires else None,
                         description=description)
    try:
        _store(settings).put_agent(record)
    except DuplicateKey:
        fail(f"agent {name!r} exists")
    record_action(settings, "agents.create", {"agent_id": name, "sponsor": sponsor})
    if as_json:
        sys.stdout.write(orjson.dumps(_row(record)).decode() + "\n")
        return
    console().print(f"Registered agent [bold]{name}[/bold] (sponsor {sponsor}); models: "
                    f"{', '.join(sorted(record.allowed_models))}")


@app.command("list")
def list_agents(as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
                config: ConfigOption = None) -> None:
    """All registered agents."""
    agents = _store(settings_from(config)).list_agents()
    if as_json:
        for agent in agents:
            sys.stdout.write(orjson.dumps(_row(agent)).decode() + "\n")
        return
    table = Table("agent", "sponsor", "models", "groups", "expires", "status")
    now = SystemClock().now()
    for a in agents:
        table.add_row(a.agent_id, a.sponsor, ",".join(sorted(a.allowed_models)),
                      ",".join(sorted(a.groups)), format_time(a.expires_at),
                      "active" if a.is_active(now) else "disabled or expired")
    console().print(table)


@app.command()
def disable(name: str, config: ConfigOption = None) -> None:
    """Disable an agent: its tokens are refused from the very next request."""
    _toggle(settings_from(config), name, True)


@app.command()
def enable(name: str, config: ConfigOption = None) -> None:
    """Enable a disabled agent."""
    _toggle(settings_from(config), name, False)


@app.command()
def delete(name: str, config: ConfigOption = None) -> None:
    """Delete an agent."""
    settings = settings_from(config)
    if not _store(settings).delete_agent(name):
        fail(f"no agent {name!r}")
    record_action(settings, "agents.delete", {"agent_id": name})
    console().print(f"Deleted agent {name}.")


@app.command()
def kill(name: str,
         reason: Annotated[str, typer.Option(help="Why (recorded with the revocation)")],
         as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
         config: ConfigOption = None) -> None:
    """Stop an agent everywhere, from its very next request: revoke it (every token, key and
    delegation chain it is in), disable it, revoke its API keys, deny its held calls."""
    settings, clock = settings_from(config), SystemClock()
    database = settings.path(settings.storage.sqlite_path)
    switch = KillSwitch(_store(settings), key_store(settings),
                        ApprovalQueue(SqliteApprovalStore(database), clock), clock)
    try:
        report = switch.kill(name, reason, operator())
    except ZtaiError as exc:
        fail(exc.message)
    record_action(settings, "agents.kill", {
        "agent_id": name, "reason": reason[:500], "changed": report.changed,
        "revoked": report.revoked, "disabled": report.disabled,
        "keys_revoked": len(report.keys_revoked), "held_denied": len(report.held_denied)})
    if as_json:
        sys.stdout.write(orjson.dumps({
            "agent_id": name, "changed": report.changed, "revoked": report.revoked,
            "disabled": report.disabled, "keys_revoked": list(report.keys_revoked),
            "held_denied": [c.id for c in report.held_denied]}).decode() + "\n")
        return
    if not report.changed:
        console().print(f"Agent {name} was already stopped; nothing changed.")
        return
    console().print(f"Stopped agent {name}: revoked {'now' if report.revoked else 'already'}, "
                    f"registration {'disabled' if report.disabled else 'unchanged'}, "
                    f"{len(report.keys_revoked)} key(s) revoked, "
                    f"{len(report.held_denied)} held call(s) denied.")


def _toggle(settings: Settings, name: str, disabled: bool) -> None:
    store = _store(settings)
    if store.get_agent(name) is None:
        fail(f"no agent {name!r}")
    store.set_agent_disabled(name, disabled)
    step = "disable" if disabled else "enable"
    record_action(settings, f"agents.{step}", {"agent_id": name})
    console().print(f"Agent {name}: {step}d.")


def _load_public(path: Path) -> dict[str, object]:
    try:
        return public_jwk(orjson.loads(path.read_bytes()))
    except (OSError, orjson.JSONDecodeError) as exc:
        fail(f"cannot read {path}: {exc}")
    except BadRequest as exc:
        fail(exc.message)


def _generate(path: Path | None) -> dict[str, object]:
    assert path is not None  # noqa: S101  # the caller checked exactly one option was given
    key = ECKey.generate_key("P-256", {"use": "sig"}, private=True)
    key_id = key.thumbprint()
    private = {**key.as_dict(private=True), "kid": key_id}
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(orjson.dumps(private))
    return {**public_jwk(key.as_dict(private=False)), "kid": key_id}


def _store(settings: Settings) -> SqliteControlStore:
    return SqliteControlStore(settings.path(settings.storage.sqlite_path))


def _row(a: AgentRecord) -> dict[str, object]:
    return {"agent_id": a.agent_id, "sponsor": a.sponsor, "allowed_models":
            sorted(a.allowed_models), "groups": sorted(a.groups), "expires_at": a.expires_at,
            "disabled": a.disabled, "kid": a.public_jwk.get("kid"),
            "description": a.description}
