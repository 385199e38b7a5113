"""The app as ``ztai serve`` builds it from a configuration directory: health, readiness,
metrics, and policies hot-reloaded from disk (an invalid edit keeps the last good set)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.e2e.server import make_keys
from ztai.cli.serve import init_dir
from ztai.config.settings import ConfigError, load_settings
from ztai.gateway.app import create_app
from ztai.gateway.build import build_parts
from ztai.gateway.metrics import Metrics

pytestmark = pytest.mark.anyio

DENY_CHAT = """
@id("no-chat-today")
@reason("chat is closed for maintenance")
forbid (principal, action == Action::"invoke_model", resource);
"""


async def test_health_metrics_and_hot_reload(tmp_path: Path) -> None:
    settings = load_settings(init_dir(tmp_path))
    keys, _ = make_keys(settings)
    parts = build_parts(settings)
    app = create_app(parts)
    headers = {"authorization": f"Bearer {keys['alice']}"}
    body = {"model": "demo-chat", "messages": [{"role": "user", "content": "hi"}]}
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(
            transport=transport, base_url="http://t") as client:
            assert (await client.get("/healthz")).status_code == 200
            assert (await client.get("/readyz")).json()["status"] == "ready"
            assert (await client.post("/v1/chat/completions", json=body,
                                      headers=headers)).status_code == 200

            policy = tmp_path / "policies" / "20-maintenance.cedar"
            policy.write_text(DENY_CHAT)
            assert parts.watcher is not None
            parts.watcher.poll(Metrics())
            denied = await client.post("/v1/chat/completions", json=body, headers=headers)
            assert denied.status_code == 403
            assert "closed for maintenance" in denied.json()["error"]["message"]

            policy.write_text("forbid (principal, action, resource")  # broken edit
            parts.watcher.poll(Metrics())
            still = await client.post("/v1/chat/completions", json=body, headers=headers)
            assert still.status_code == 403  # the last good set stays in force

            policy.unlink()
            parts.watcher.poll(Metrics())
            assert (await client.post("/v1/chat/completions", json=body,
                                      headers=headers)).status_code == 200

            metrics = (await client.get("/metrics")).text
    assert 'ztai_requests_total{route="chat.completions",status="200"} 2.0' in metrics
    assert 'ztai_decisions_total{effect="deny",reason="policy_deny"} 2.0' in metrics
    assert 'ztai_stage_seconds_count{stage="authorize"}' in metrics


def test_invalid_policies_stop_the_start(tmp_path: Path) -> None:
    settings = load_settings(init_dir(tmp_path))
    (tmp_path / "policies" / "99-bad.cedar").write_text("permit(principal, action, resource")
    with pytest.raises(ConfigError, match=r"99-bad\.cedar"):
        build_parts(settings)


def test_a_missing_upstream_key_stops_the_start(tmp_path: Path) -> None:
    config = init_dir(tmp_path)
    config.write_text(config.read_text().replace(
        "upstreams:\n", "upstreams:\n  - {name: real, kind: openai, "
        "base_url: 'http://127.0.0.1:9/v1', api_key_env: ZTAI_TEST_UNSET_KEY}\n"))
    with pytest.raises(ConfigError, match="ZTAI_TEST_UNSET_KEY"):
        build_parts(load_settings(config))


def test_start_up_warns_of_policies_it_does_not_read(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(init_dir(tmp_path))
    (tmp_path / "policies" / "team-a").mkdir()
    build_parts(settings)
    assert "team-a/: folders are not read" in caplog.text
