"""Every route × every kind of caller → the right status and exactly one audit event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.gateway.harness import Harness, auth, chat, harness

pytestmark = pytest.mark.anyio

BAD_KEY = "ztai-sk-0123456789ab-" + "0" * 48


def _request(route: str, model: str) -> tuple[str, str, dict[str, Any] | None]:
    match route:
        case "chat":
            return "POST", "/v1/chat/completions", chat(model)
        case "chat-stream":
            return "POST", "/v1/chat/completions", chat(model, stream=True)
        case "responses":
            return "POST", "/v1/responses", {"model": model, "input": "hello"}
        case "responses-stream":
            return "POST", "/v1/responses", {"model": model, "input": "hello", "stream": True}
        case "embeddings":
            return "POST", "/v1/embeddings", {"model": model, "input": "hello"}
        case "models":
            return "GET", "/v1/models", None
    raise AssertionError(route)


ROUTES = ["chat", "chat-stream", "responses", "responses-stream", "embeddings", "models"]
CASES = [
    # caller, model, expected status, expected effect, expected error code
    ("none", "demo-chat", 401, "deny", "invalid_api_key"),
    ("bad", "demo-chat", 401, "deny", "invalid_api_key"),
    ("revoked", "demo-chat", 401, "deny", "revoked_api_key"),
    ("expired", "demo-chat", 401, "deny", "expired_api_key"),
    ("alice", "demo-chat", 200, "allow", None),
    ("nogrant", "demo-chat", 403, "deny", "policy_denied"),
]


async def _send(h: Harness, caller: str, route: str, model: str) -> Any:
    method, path, body = _request(route, model)
    key = {"none": None, "bad": BAD_KEY, "expired": h.keys["expiring"]}.get(
        caller, h.keys.get(caller))
    if caller == "expired":
        h.clock.advance(120)
    headers = auth(key) if key else {}
    return await h.client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(("caller", "model", "status", "effect", "code"), CASES)
async def test_route_by_caller(tmp_path: Path, route: str, caller: str, model: str,
                               status: int, effect: str, code: str | None) -> None:
    model = "demo-embed" if route == "embeddings" else model
    async with harness(tmp_path) as h:
        response = await _send(h, caller, route, model)
        assert response.status_code == status, response.text
        assert response.headers["x-ztai-exchange-id"].startswith("x-")
        if code is not None:
            assert response.json()["error"]["code"] == code
        if status == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")
        events = h.events()
        assert len(events) == 1
        event = events[0]
        assert event["id"] == response.headers["x-ztai-exchange-id"]
        assert event["status"] == status
        assert event["decision"]["effect"] == effect
        assert event["decision"]["reasons"]
        checks = {c["name"]: c["status"] for c in event["checks"]}
        if status == 401:
            assert event["principal"] is None
            assert checks["authenticate"] == "flagged"
            assert checks["authorize"] == "not_run"
            assert checks["forward"] == "not_run"
        elif status == 403:
            assert checks["authorize"] == "flagged"
            assert checks["forward"] == "not_run"
        else:
            assert checks == {"authenticate": "passed", "parse": "passed", "verify": "passed",
                              "authorize": "passed", "forward": "passed"}


async def test_forbid_names_the_deciding_policy(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        response = await h.client.post("/v1/chat/completions", headers=auth(h.keys["bob"]),
                                       json=chat("demo-consumer-chat"))
        assert response.status_code == 403
        message = response.json()["error"]["message"]
        assert "contractors may not send data to consumer-tier models" in message
        assert "contractors-no-consumer-models" in message
        event = h.last_event()
        assert event["decision"]["policy_ids"] == ["contractors-no-consumer-models"]
        assert event["principal"] == "bob"


async def test_models_lists_only_what_the_caller_may_use(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        alice = await h.client.get("/v1/models", headers=auth(h.keys["alice"]))
        bob = await h.client.get("/v1/models", headers=auth(h.keys["bob"]))
    assert [m["id"] for m in alice.json()["data"]] == [
        "demo-chat", "demo-consumer-chat", "demo-embed", "secret-chat"]
    assert [m["id"] for m in bob.json()["data"]] == ["demo-chat", "demo-embed", "secret-chat"]


async def test_revocation_applies_on_the_next_request(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        first = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                    json=chat())
        key_id = h.keys["alice"].split("-")[2]
        assert h.key_store.revoke_key(key_id, h.clock.now())
        second = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                     json=chat())
    assert (first.status_code, second.status_code) == (200, 401)
    assert second.json()["error"]["code"] == "revoked_api_key"
