"""An AI agent end to end against a running ``ztai serve``: registered with ``ztai agents
create``, it gets its own token and an on-behalf-of token for Alice (whose token comes from an
OIDC provider), calls the model through the unmodified OpenAI SDK, and is cut off at once by
``ztai agents disable``; the chain is in the audit log."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import orjson
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from typer.testing import CliRunner

from tests.e2e.server import Server, start_server
from ztai.cli.main import app

runner = CliRunner()
IDP = "https://idp.e2e.test/"
EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture(scope="module")
def idp_key() -> ECKey:
    return ECKey.generate_key("P-256", {"kid": "idp-e2e"}, private=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, idp_key: ECKey) -> Iterator[Server]:
    home = Path(tmp_path_factory.mktemp("agents"))
    jwks = home / "idp-jwks.json"
    jwks.write_bytes(orjson.dumps({"keys": [idp_key.as_dict(private=False)]}))
    issuers = orjson.dumps([{"issuer": IDP, "audiences": ["ztai"],
                             "jwks_file": str(jwks)}]).decode()
    running = start_server(home / "cfg", env={"ZTAI_IDENTITY__ISSUERS": issuers})
    yield running
    running.stop()


def _ztai(server: Server, *args: str) -> str:
    result = runner.invoke(app, [*args, "--config", str(server.settings.base_dir / "ztai.yaml")])
    assert result.exit_code == 0, result.output
    return result.output


def _assertion(server: Server, key: ECKey) -> str:
    now = int(time.time())
    claims = {"iss": "mailbot", "sub": "mailbot", "aud": server.settings.identity.tokens.endpoint,
              "iat": now, "exp": now + 60, "jti": f"j-{time.monotonic_ns()}"}
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


def _alice(idp_key: ECKey) -> str:
    now = int(time.time())
    claims = {"iss": IDP, "aud": "ztai", "sub": "alice", "groups": ["staff"], "iat": now,
              "exp": now + 600, "amr": ["pwd", "otp"]}
    return jwt.encode({"alg": "ES256", "kid": "idp-e2e"}, claims, idp_key)


def test_an_agent_end_to_end(server: Server, idp_key: ECKey, tmp_path: Path) -> None:
    key_file = tmp_path / "mailbot.jwk"
    _ztai(server, "agents", "create", "mailbot", "--sponsor", "alice", "--allow-model",
          "demo-chat", "--group", "staff", "--generate-key", str(key_file), "--expires", "30d")
    assert key_file.stat().st_mode & 0o077 == 0
    agent_key = ECKey.import_key(orjson.loads(key_file.read_bytes()))
    own = httpx.post(server.base_url + "/oauth2/token", data={
        "grant_type": "client_credentials", "client_assertion_type": ASSERTION,
        "client_assertion": _assertion(server, agent_key)})
    assert own.status_code == 200, own.text
    delegated = httpx.post(server.base_url + "/oauth2/token", data={
        "grant_type": EXCHANGE, "subject_token": _alice(idp_key),
        "actor_token": _assertion(server, agent_key),
        "actor_token_type": "urn:ietf:params:oauth:token-type:jwt"})
    assert delegated.status_code == 200, delegated.text
    token = delegated.json()["access_token"]
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key=token, max_retries=0)
    try:
        _use(client, server)
    finally:
        client.close()
    tail = _ztai(server, "audit", "tail", "-n", "50", "--json")
    events = [orjson.loads(line)["event"] for line in tail.splitlines()]
    chats = [e for e in events if e["route"] == "chat.completions" and e["status"] == 200]
    assert chats[-1]["delegation"] == ["user:alice", "agent:mailbot"]
    assert any(e["route"] == "agents.disable" for e in events)
    assert token not in tail


def _use(client: openai.OpenAI, server: Server) -> None:
    reply = client.chat.completions.create(model="demo-chat",
                                           messages=[{"role": "user", "content": "hi"}])
    assert "simulated reply" in (reply.choices[0].message.content or "")
    with pytest.raises(openai.PermissionDeniedError):  # outside the agent's models
        client.chat.completions.create(model="demo-consumer-chat",
                                       messages=[{"role": "user", "content": "hi"}])
    _ztai(server, "agents", "disable", "mailbot")
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="demo-chat",
                                       messages=[{"role": "user", "content": "hi"}])
