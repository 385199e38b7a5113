"""``ztai approvals`` and ``ztai agents kill`` on a real configuration: decisions reach a waiting
gateway through the shared database, each one audited; the kill switch is idempotent."""

from __future__ import annotations

import asyncio
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from ztai.agents.approvals import ApprovalQueue
from ztai.agents.held import new_held_call
from ztai.cli.local_audit import operator
from ztai.cli.main import app
from ztai.config.settings import load_settings
from ztai.core.clock import SystemClock
from ztai.storage.model import HeldCall, HeldStatus
from ztai.storage.sqlite import SqliteApprovalStore, SqliteControlStore, SqliteKeyStore

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    assert runner.invoke(app, ["init", str(tmp_path / "cfg")]).exit_code == 0
    return tmp_path / "cfg" / "ztai.yaml"


def ztai(config: Path, *args: str) -> tuple[int, str]:
    """The exit code and the output, its lines unwrapped (rich wraps at the terminal width)."""
    result = runner.invoke(app, [*args, "--config", str(config)])
    output = result.output if "--json" in args else " ".join(result.output.split())
    return result.exit_code, output


def _database(config: Path) -> Path:
    settings = load_settings(config)
    return settings.path(settings.storage.sqlite_path)


def _hold(config: Path, *chain: str, timeout_s: float = 300) -> HeldCall:
    """A call held as the gateway would hold it, in the configuration's database."""
    call = new_held_call(chain or ("user:alice", "agent:bot"), "call_tool", "mail/send_email",
                         {"tool": "send_email", "server": "mail"}, SystemClock().now(),
                         timeout_s)
    with closing(SqliteApprovalStore(_database(config))) as store:
        return asyncio.run(ApprovalQueue(store, SystemClock()).hold(call))


def _audit(config: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line)["event"] for line in
            ztai(config, "audit", "tail", "--json")[1].splitlines()]


def test_held_calls_are_listed_approved_and_denied_each_audited(config: Path) -> None:
    first, second = _hold(config), _hold(config)
    code, out = ztai(config, "approvals", "list", "--json")
    assert code == 0, out
    assert {orjson.loads(line)["id"] for line in out.splitlines()} == {first.id, second.id}
    code, out = ztai(config, "approvals", "approve", first.id, "--reason", "expected")
    assert (code, f"Approved held call {first.id}" in out) == (0, True)
    code, out = ztai(config, "approvals", "deny", second.id, "--reason", "odd", "--by", "bob")
    assert code == 0, out
    code, out = ztai(config, "approvals", "deny", first.id, "--reason", "too late")
    assert code == 1
    assert "already approved" in out
    assert ztai(config, "approvals", "approve", "h-nope", "--reason", "x")[0] == 1
    assert ztai(config, "approvals", "list", "--status", "maybe")[0] == 1
    rows = [orjson.loads(line) for line in
            ztai(config, "approvals", "list", "--status", "all", "--json")[1].splitlines()]
    assert {(r["id"], r["status"], r["decided_by"], r["reason"]) for r in rows} == {
        (first.id, "approved", operator(), "expected"), (second.id, "denied", "user:bob", "odd")}
    assert ztai(config, "approvals", "list", "--json")[1] == ""
    assert "approved" in ztai(config, "approvals", "list", "--status", "approved")[1]
    events = _audit(config)
    assert [(e["route"], e["principal"]) for e in events] == [
        ("approvals.approve", operator().partition(":")[2]), ("approvals.deny", "bob")]
    assert events[0]["details"]["held_id"] == first.id


def test_a_decision_in_the_cli_wakes_a_waiting_gateway(config: Path) -> None:
    held = _hold(config)

    async def gateway() -> HeldCall:
        with closing(SqliteApprovalStore(_database(config))) as store:
            queue = ApprovalQueue(store, SystemClock(), poll_s=0.02)
            waiting = asyncio.create_task(queue.wait(held.id, timeout_s=10))
            code, out = await asyncio.to_thread(
                ztai, config, "approvals", "deny", held.id, "--reason", "no")
            assert code == 0, out
            async with asyncio.timeout(5):
                return await waiting

    final = asyncio.run(gateway())
    assert (final.status, final.reason) == (HeldStatus.DENIED, "no")


def test_killing_an_agent_from_the_shell(config: Path, tmp_path: Path) -> None:
    assert ztai(config, "agents", "create", "bot", "--sponsor", "alice", "--allow-model",
                "demo-chat", "--generate-key", str(tmp_path / "bot.jwk"))[0] == 0
    code, out = ztai(config, "keys", "create", "--principal", "bot", "--kind", "agent")
    assert code == 0, out
    own, other = _hold(config), _hold(config, "user:bob", "agent:helper")
    code, out = ztai(config, "agents", "kill", "bot", "--reason", "prompt injection")
    assert code == 0, out
    assert "Stopped agent bot" in out
    assert "1 key(s) revoked, 1 held call(s) denied" in out
    code, out = ztai(config, "agents", "kill", "bot", "--reason", "again", "--json")
    assert code == 0, out
    assert orjson.loads(out) == {"agent_id": "bot", "changed": False, "revoked": False,
                                 "disabled": False, "keys_revoked": [], "held_denied": []}
    assert "already stopped" in ztai(config, "agents", "kill", "bot", "--reason", "x")[1]
    code, out = ztai(config, "agents", "kill", "ghost", "--reason", "typo")
    assert (code, "no agent 'ghost'" in out) == (1, True)
    database = _database(config)
    with closing(SqliteControlStore(database)) as control, \
            closing(SqliteKeyStore(database)) as keys, \
            closing(SqliteApprovalStore(database)) as held:
        agent = control.get_agent("bot")
        assert agent is not None
        assert agent.disabled
        assert [(r.kind.value, r.subject, r.reason) for r in control.revocations()] == [
            ("agent", "bot", "prompt injection")]
        assert all(k.revoked_at is not None for k in keys.list_keys() if k.principal == "bot")
        stored = {c.id: c.status for c in held.list_held()}
    assert stored == {own.id: HeldStatus.DENIED, other.id: HeldStatus.PENDING}
    kills = [e for e in _audit(config) if e["route"] == "agents.kill"]
    assert [(k["details"]["changed"], k["details"]["held_denied"])
            for k in kills] == [(True, 1), (False, 0), (False, 0)]
