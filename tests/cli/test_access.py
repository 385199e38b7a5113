"""``ztai access``: request, approve (never one's own), deny, expire; each step audited."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from ztai.cli.main import app
from ztai.config.settings import load_settings
from ztai.core.clock import FixedClock
from ztai.gateway.access import AccessService
from ztai.gateway.app import create_app
from ztai.gateway.build import build_parts
from ztai.storage.sqlite import SqliteControlStore

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    assert runner.invoke(app, ["init", str(tmp_path / "cfg")]).exit_code == 0
    return tmp_path / "cfg" / "ztai.yaml"


def ztai(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--config", str(config)])
    return result.exit_code, result.output


def _grant_id(out: str) -> str:
    return out.split("request id ")[1].split()[0]


def test_request_approve_deny_and_audit(config: Path) -> None:
    code, out = ztai(config, "access", "request", "--principal", "alice", "--role", "finance",
                     "--duration", "1h", "--reason", "quarter close")
    assert code == 0, out
    grant = _grant_id(out)
    code, out = ztai(config, "access", "approve", grant, "--approver", "alice")
    assert code == 1
    assert "their own" in out
    assert ztai(config, "access", "approve", grant, "--approver", "bob")[0] == 0
    code, out = ztai(config, "access", "deny", grant, "--approver", "carol")
    assert code == 1
    assert "already decided" in out
    code, out = ztai(config, "access", "request", "--principal", "alice", "--role", "x",
                     "--duration", "30d", "--reason", "too long")
    assert code == 1
    rows = [orjson.loads(line) for line in ztai(config, "access", "list", "--json")[1].splitlines()]
    assert [(r["role"], r["status"], r["decided_by"]) for r in rows] == [
        ("finance", "approved", "user:bob")]
    code, out = ztai(config, "audit", "tail", "--json")
    events = [orjson.loads(line)["event"] for line in out.splitlines()]
    assert [(e["route"], e["principal"]) for e in events] == [
        ("access.request", "alice"), ("access.approve", "bob")]
    assert events[1]["details"]["grant_id"] == grant
    assert ztai(config, "audit", "verify")[0] == 0


def test_grants_expire_by_themselves_and_the_expiry_is_audited(config: Path) -> None:
    code, out = ztai(config, "access", "request", "--principal", "alice", "--role", "finance",
                     "--duration", "60s", "--reason", "r")
    assert code == 0
    assert ztai(config, "access", "approve", _grant_id(out), "--approver", "bob")[0] == 0
    settings = load_settings(config)
    clock = FixedClock(start=10 ** 10)  # far past the grant's end
    parts = build_parts(settings, clock)
    parts.reload_interval_s = 0.01
    assert isinstance(parts.access, AccessService)

    async def run_briefly() -> None:
        gateway = create_app(parts)
        async with gateway.lifespan():
            await asyncio.sleep(0.3)

    asyncio.run(run_briefly())
    store = SqliteControlStore(settings.path(settings.storage.sqlite_path))
    assert [g.status.value for g in store.list_grants()] == ["expired"]
    events = [orjson.loads(line)["event"] for line in
              ztai(config, "audit", "tail", "--json")[1].splitlines()]
    assert events[-1]["route"] == "access.expire"
    assert events[-1]["principal"] == "ztai"
