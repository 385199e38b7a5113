"""``ztai agents``: registration with a given or generated key, bad keys refused, lifecycle
commands, each audited."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from joserfc.jwk import ECKey, OctKey
from typer.testing import CliRunner

from ztai.cli.main import app

runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    assert runner.invoke(app, ["init", str(tmp_path / "cfg")]).exit_code == 0
    return tmp_path / "cfg" / "ztai.yaml"


def ztai(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--config", str(config)])
    return result.exit_code, result.output


def test_register_with_a_public_key_and_manage(config: Path, tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256", private=True)
    (tmp_path / "pub.jwk").write_bytes(orjson.dumps(key.as_dict(private=False)))
    code, out = ztai(config, "agents", "create", "bot", "--sponsor", "alice", "--allow-model",
                     "demo-chat", "--allow-model", "demo-embed", "--public-key",
                     str(tmp_path / "pub.jwk"), "--json")
    assert code == 0, out
    assert orjson.loads(out)["allowed_models"] == ["demo-chat", "demo-embed"]
    assert ztai(config, "agents", "create", "bot", "--sponsor", "a", "--allow-model", "m",
                "--public-key", str(tmp_path / "pub.jwk"))[0] == 1  # exists
    assert ztai(config, "agents", "disable", "bot")[0] == 0
    listed = orjson.loads(ztai(config, "agents", "list", "--json")[1])
    assert listed["disabled"] is True
    assert ztai(config, "agents", "enable", "bot")[0] == 0
    assert ztai(config, "agents", "delete", "bot")[0] == 0
    assert ztai(config, "agents", "delete", "bot")[0] == 1
    events = [orjson.loads(line)["event"]["route"] for line in
              ztai(config, "audit", "tail", "--json")[1].splitlines()]
    assert events == ["agents.create", "agents.disable", "agents.enable", "agents.delete"]


@pytest.mark.parametrize("material", [
    ECKey.generate_key("P-256", private=True).as_dict(private=True),   # private
    OctKey.generate_key(256).as_dict(private=True),                    # symmetric
    {"kty": "EC", "crv": "P-256"},                                     # garbage
])
def test_bad_keys_are_refused(config: Path, tmp_path: Path, material: dict[str, object]
                              ) -> None:
    (tmp_path / "k.jwk").write_bytes(orjson.dumps(material))
    code, out = ztai(config, "agents", "create", "bot", "--sponsor", "alice", "--allow-model",
                     "m", "--public-key", str(tmp_path / "k.jwk"))
    assert code == 1
    assert "public_jwk" in out or "key" in out


def test_exactly_one_key_option(config: Path, tmp_path: Path) -> None:
    code, out = ztai(config, "agents", "create", "bot", "--sponsor", "alice", "--allow-model",
                     "m")
    assert code == 1
    assert "exactly one" in out
