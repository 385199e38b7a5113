"""The ``ztai`` commands, driven through typer's runner on a real configuration directory."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from ztai.audit.signing import CheckpointSigner
from ztai.audit.writer import AuditWriter
from ztai.cli.main import app, run
from ztai.config.settings import check_host, load_settings
from ztai.core.audit import AuditEvent
from ztai.core.clock import SystemClock
from ztai.core.model import Decision
from ztai.storage.sqlite import SqliteAuditStore

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    result = runner.invoke(app, ["init", str(tmp_path / "cfg")])
    assert result.exit_code == 0, result.output
    return tmp_path / "cfg" / "ztai.yaml"


def ztai(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--config", str(config)])
    return result.exit_code, result.output


def test_init_refuses_to_overwrite(config: Path) -> None:
    result = runner.invoke(app, ["init", str(config.parent)])
    assert result.exit_code == 1
    assert "exists" in result.output
    assert (config.parent / "policies" / "00-baseline.cedar").exists()
    assert (config.parent / "audit-signing.key").stat().st_mode & 0o077 == 0


def test_keys_create_list_revoke(config: Path) -> None:
    code, out = ztai(config, "keys", "create", "--principal", "alice", "--group", "staff",
                     "--group", "eng", "--attr", "dept=eng", "--expires", "30d", "--json")
    assert code == 0, out
    created = orjson.loads(out)
    assert created["key"].startswith("ztai-sk-")
    assert created["groups"] == ["eng", "staff"]
    assert created["attributes"] == {"dept": "eng"}
    assert created["expires_at"] - created["created_at"] == 30 * 86400
    code, out = ztai(config, "keys", "list", "--json")
    listed = orjson.loads(out.splitlines()[0])
    assert listed["status"] == "active"
    assert "key" not in listed
    assert created["key"] not in out
    assert ztai(config, "keys", "revoke", created["key_id"])[0] == 0
    assert orjson.loads(ztai(config, "keys", "list", "--json")[1])["status"] == "revoked"
    code, out = ztai(config, "keys", "revoke", created["key_id"])
    assert code == 1
    assert "no active key" in out


def test_only_the_hash_is_stored(config: Path) -> None:
    key = orjson.loads(ztai(config, "keys", "create", "--principal", "a", "--json")[1])["key"]
    database = (config.parent / "ztai.db").read_bytes()
    assert key.encode() not in database
    assert key.split("-")[3].encode() not in database


@pytest.mark.parametrize("bad", ["0d", "5y", "ten", "-3h"])
def test_bad_durations_are_rejected(config: Path, bad: str) -> None:
    code, out = ztai(config, "keys", "create", "--principal", "a", "--expires", bad)
    assert code == 1
    assert "invalid duration" in out


def test_policy_validate_and_explain(config: Path) -> None:
    assert ztai(config, "policy", "validate")[0] == 0
    code, out = ztai(config, "policy", "explain", "--principal", "bob", "--group", "staff",
                     "--group", "contractors", "--resource", "demo-consumer-chat")
    assert code == 2
    assert "decision: deny" in out
    assert "contractors-no-consumer-models" in out
    assert "forbid" in out
    code, out = ztai(config, "policy", "explain", "--principal", "alice", "--group", "staff",
                     "--resource", "demo-chat")
    assert code == 0
    assert "staff-use-models" in out


def test_policy_validate_reports_the_broken_file(config: Path) -> None:
    (config.parent / "policies" / "20-broken.cedar").write_text("permit(principal, action;\n")
    code, out = ztai(config, "policy", "validate")
    assert code == 1
    assert "20-broken.cedar" in out


def _audit_some(config: Path, n: int) -> None:
    settings = load_settings(config)
    signer = CheckpointSigner.from_pem_file(settings.path(settings.audit.signing_key))
    writer = AuditWriter(SqliteAuditStore(settings.path(settings.storage.sqlite_path)), signer)
    writer.start()
    for i in range(n):
        writer.record_sync(AuditEvent(
            id=f"x-{i}", time=SystemClock().now(), route="chat.completions",
            action="invoke_model", resource="Model::demo-chat", principal="alice",
            principal_kind="user", credential_id="k", decision=Decision.allow("test"),
            status=200))
    writer.close()


def test_audit_verify_tail_export(config: Path, tmp_path: Path) -> None:
    _audit_some(config, 10)
    code, out = ztai(config, "audit", "verify", "--json")
    assert code == 0, out
    report = orjson.loads(out)
    assert report["ok"] is True
    assert report["count"] == 10
    assert report["checkpoints_verified"] >= 1
    code, out = ztai(config, "audit", "tail", "-n", "3", "--json")
    assert [orjson.loads(line)["seq"] for line in out.splitlines()] == [8, 9, 10]
    target = tmp_path / "export.jsonl"
    assert ztai(config, "audit", "export", "--out", str(target))[0] == 0
    lines = target.read_bytes().splitlines()
    assert len(lines) == 10
    assert orjson.loads(lines[0])["event"]["id"] == "x-0"


def test_audit_verify_fails_on_tampering(config: Path) -> None:
    _audit_some(config, 5)
    with sqlite3.connect(config.parent / "ztai.db") as conn:
        conn.execute("UPDATE audit_log SET payload = replace(payload, 'alice', 'mallory') "
                     "WHERE seq = 3")
    code, out = ztai(config, "audit", "verify")
    assert code == 1
    assert "seq 3" in out
    assert "TAMPERED" in out


def test_a_bad_config_names_the_field(config: Path) -> None:
    config.write_text(config.read_text().replace("port: 8080", "port: eighty"))
    code, out = ztai(config, "keys", "list")
    assert code == 1
    assert "server.port" in out


@pytest.mark.parametrize(("line", "says"), [
    # before 2026-11-28 the first reached uvicorn and ended in a traceback (the IDNA codec)
    ("host: '../../etc/passwd'", "server.host: Value error, '../../etc/passwd' is neither"),
    ("host: 'a..b'", "is neither an IP address nor a host name"),
    ("host: '-a.example'", "is neither an IP address nor a host name"),
    # a non-finite timeout was taken as "never"
    ("stage_timeout_s: .inf", "server.stage_timeout_s: Input should be a finite number"),
    ("stage_timeout_s: .nan", "server.stage_timeout_s: Input should be a finite number"),
    # YAML's true / on / yes were taken for 1: a one-byte body limit
    ("max_body_bytes: true", "server.max_body_bytes: Value error, a number is expected"),
    ("stage_timeout_s: on", "server.stage_timeout_s: Value error, a number is expected"),
])
def test_a_bad_server_setting_stops_the_start_with_its_name(
        config: Path, monkeypatch: pytest.MonkeyPatch, line: str, says: str) -> None:
    started: list[object] = []
    monkeypatch.setattr("ztai.cli.serve.uvicorn.run", lambda *a, **k: started.append(a))
    text = config.read_text()
    field = line.split(":")[0]
    config.write_text("\n".join(f"  {line}" if row.startswith(f"  {field}:") else row
                                for row in text.splitlines()))
    code, out = ztai(config, "serve")
    assert (code, started) == (1, [])
    assert says in " ".join(out.split())
    assert "Traceback" not in out


@pytest.mark.parametrize(("added", "says"), [
    # before 2026-11-28 the last of each won without a word
    ("protection:\n  enabled: false\n", "key 'protection' is given twice"),
    ("terms:\n  - {app: a, version: '1'}\n  - {app: a, version: '2'}\n",
     "terms apps must be unique: 'a' is given twice"),
    ("knowledge:\n  bases: [{name: kb, index: kb}]\n"
     "  chat: [{model: demo-chat, base: kb}, {model: demo-chat, base: kb, k: 2}]\n",
     "knowledge.chat models must be unique: 'demo-chat'"),
])
def test_what_is_given_twice_is_refused(config: Path, added: str, says: str) -> None:
    text = config.read_text()
    if added.startswith("terms:"):
        text = text.replace("\nterms: []", "\n")
    config.write_text(text + "\n" + added)
    code, out = ztai(config, "keys", "list")
    assert code == 1
    assert says in " ".join(out.split())


def test_a_fingerprint_id_given_twice_is_refused(config: Path) -> None:
    text = config.read_text()
    assert "  fingerprints: []" in text
    config.write_text(text.replace("  fingerprints: []", "  fingerprints:\n"
                                   "    - {id: plan, file: a.txt}\n    - {id: plan, file: b.txt}"))
    code, out = ztai(config, "keys", "list")
    assert code == 1
    assert "protection.fingerprints ids must be unique: 'plan'" in " ".join(out.split())


def test_yaml_merge_keys_still_work(config: Path) -> None:
    text = config.read_text()
    first = "  - {name: demo-chat, upstream: simulator, tier: internal}"
    second = "  - {name: demo-consumer-chat, upstream: simulator, tier: consumer}"
    assert first in text
    assert second in text
    config.write_text(text.replace(first, first.replace("- {", "- &chat {")).replace(
        second, "  - {<<: *chat, name: demo-consumer-chat, tier: consumer}"))
    model = load_settings(config).models[1]
    assert (model.name, model.upstream, model.tier) == ("demo-consumer-chat", "simulator",
                                                        "consumer")


@pytest.mark.parametrize("command", [("serve",), ("keys", "create", "--principal", "a")])
def test_an_audit_signing_key_that_is_no_key_is_named(config: Path, command: tuple[str, ...],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Before 2026-11-28 both ended in a traceback from the PEM parser."""
    monkeypatch.setattr("ztai.cli.serve.uvicorn.run", lambda *a, **k: None)
    (config.parent / "audit-signing.key").write_text("not a key\n")
    code, out = ztai(config, *command)
    assert code == 1
    assert "audit.signing_key" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("value", ["''", "'../oauth2/token'"])
def test_the_token_endpoint_must_be_a_url(config: Path, value: str) -> None:
    """Before 2026-11-28 an empty one ended the start in a traceback, a path was taken."""
    config.write_text(config.read_text().replace(
        "endpoint: http://127.0.0.1:8080/oauth2/token", f"endpoint: {value}"))
    code, out = ztai(config, "keys", "list")
    assert code == 1
    assert "identity.tokens.endpoint: String should match pattern" in " ".join(out.split())


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "0.0.0.0", "localhost", "gw.corp.example",
                                  "gw.corp.example.", "xn--bcher-kva.example",
                                  "ztai_gateway"])
def test_addresses_and_host_names_are_bind_addresses(config: Path, host: str) -> None:
    assert check_host(host) == host
    config.write_text(config.read_text().replace("host: 127.0.0.1", f"host: '{host}'"))
    assert load_settings(config).server.host == host


def test_the_command_line_host_and_port_are_checked_as_the_file_is(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[str, int]] = []
    monkeypatch.setattr("ztai.cli.serve.uvicorn.run",
                        lambda app, host, port, **k: started.append((host, port)))
    try:
        assert ztai(config, "serve", "--port", "99999")[0] == 1
        code, out = ztai(config, "serve", "--host", "not a host")
        assert code == 1
        assert "command line: server.host: Value error, 'not a host'" in " ".join(out.split())
        assert started == []
        assert ztai(config, "serve", "--host", "::1", "--port", "0")[0] == 0
    finally:
        gc.unfreeze()
    assert started == [("::1", 0)]


def test_an_override_that_is_no_yaml_is_named_not_echoed(
        config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before 2026-11-28: a traceback holding the value (which may be a secret)."""
    monkeypatch.setenv("ZTAI_SERVER__HOST", "[s3cr3t")
    code, out = ztai(config, "keys", "list")
    assert code == 1
    assert "ZTAI_SERVER__HOST: not a YAML value" in " ".join(out.split())
    assert "s3cr3t" not in out
    assert "Traceback" not in out


def test_environment_overrides_config(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZTAI_SERVER__PORT", "9999")
    monkeypatch.setenv("ZTAI_AUDIT__RECORD_CONTENT", "true")
    settings = load_settings(config)
    assert settings.server.port == 9999
    assert settings.audit.record_content is True


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    code, out = ztai(tmp_path / "nope.yaml", "keys", "list")
    assert code == 1
    assert "ztai init" in out


def test_demo_runs_its_scenario(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "demo"), "--port", "0",
                                 "--no-serve"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in ("answer quotes: \"Summarise our zero trust rollout plan.",
                     "jane.doe@example.com about her refund", "aws_access_key_id=████",
                     "Confidential content may not go to consumer-tier models",
                     "contractors may not send data", "API key revoked", "API key expired",
                     "no policy permits", "hash chain verified", "OpenAI Python SDK",
                     # the agent-hijack story through /mcp/mail
                     "tainted", "no-outbound-after-attack",
                     # the oversharing story: the plan only for the project member
                     "answered from: Staff handbook [General]",
                     "answered from: Obsidian plan [Confidential]",
                     "sent to carol@corp.example"):
        assert expected in out, expected


def test_serve_freezes_what_start_up_built(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up's objects leave the cyclic collector's generations before serving begins."""
    seen: list[int] = []
    monkeypatch.setattr("ztai.cli.serve.uvicorn.run",
                        lambda *args, **kwargs: seen.append(gc.get_freeze_count()))
    try:
        code, out = ztai(config, "serve")
    finally:
        gc.unfreeze()
    assert code == 0, out
    assert len(seen) == 1
    assert seen[0] > 0


@pytest.mark.parametrize("command", [("keys", "list"), ("audit", "verify"), ("agents", "list"),
                                     ("approvals", "list"), ("mcp", "pins")])
def test_a_damaged_database_is_one_line_not_a_traceback(
        config: Path, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Through the console script (``run``), as a shell runs it; before 2026-11-28 every
    command but ``serve`` ended in a traceback."""
    (config.parent / "ztai.db").write_bytes(b"\x00not a database" * 64)
    monkeypatch.setattr("sys.argv", ["ztai", *command, "--config", str(config)])
    with pytest.raises(SystemExit) as exited:
        run()
    err = capsys.readouterr().err
    assert exited.value.code == 1
    assert "error: cannot open SQLite database" in " ".join(err.split())
    assert "Traceback" not in err
