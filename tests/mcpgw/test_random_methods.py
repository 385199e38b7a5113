"""Random JSON-RPC requests of every MCP method through ztai's endpoint (sessionless, the
2026-07-28 protocol): lists, reads, prompts, completions, pings, notifications, unknown methods,
with params of any shape. Each is answered, never with a 5xx, and every request but an accepted
ping or notification leaves exactly one audit event (it went through the pipeline; before
2026-11-28 a request the SDK's server refused itself — malformed params, an unknown method —
left none). Seeded, so a failure repeats; more seeds:
``ZTAI_FUZZ_SEEDS=3,4,5 pytest tests/mcpgw/test_random_methods.py``."""

from __future__ import annotations

import collections
import os
import random
from pathlib import Path
from typing import Any

import pytest

from tests.deadline import within
from tests.mcpgw.test_hot_paths import META, gateway, headers

pytestmark = pytest.mark.anyio

CALLS = 120
SEEDS = [int(s) for s in os.environ.get("ZTAI_FUZZ_SEEDS", "1,2").split(",")]
_METHODS = ["tools/list", "tools/call", "resources/list", "resources/read",
            "resources/templates/list", "resources/subscribe", "prompts/list", "prompts/get",
            "completion/complete", "ping", "logging/setLevel", "initialize",
            "notifications/initialized", "notifications/cancelled", "sampling/createMessage",
            "x/unknown", ""]
_ODD = [None, True, 0, -1, 2**63, 1.5, "", "x", "mail://signature", "reply", "read_inbox",
        "file:///etc/passwd", "\u0301\uff46", [], {}]


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 2 or roll < 0.45:
        return rng.choice(_ODD)
    if roll < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 2))]
    keys = ["uri", "name", "arguments", "cursor", "ref", "argument", "level", "x"]
    return {rng.choice(keys): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _params(rng: random.Random, method: str) -> Any:
    params: dict[str, Any] = {
        "resources/read": {"uri": rng.choice(["mail://signature", "mail://nope", ""])},
        "prompts/get": {"name": rng.choice(["reply", "nope"]),
                        "arguments": {"tone": rng.choice(["warm", ""])}},
        "tools/call": {"name": rng.choice(["read_inbox", "nope"]), "arguments": {"limit": 1}},
        "completion/complete": {"ref": {"type": "ref/prompt", "name": "reply"},
                                "argument": {"name": "tone", "value": "w"}},
        "logging/setLevel": {"level": rng.choice(["info", "loud"])},
    }.get(method, {})
    for _ in range(rng.choice([0, 0, 1, 2])):
        params[rng.choice(["uri", "name", "arguments", "cursor", "x"])] = _value(rng)
    if rng.random() < 0.85:
        params["_meta"] = dict(META)
    return _value(rng) if rng.random() < 0.1 else params


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_methods_are_answered_and_each_is_audited(tmp_path: Path,
                                                              seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    failed: list[str] = []
    statuses: list[int] = []
    async with gateway(tmp_path) as (h, base):
        with within(120):
            for n in range(CALLS):
                method = rng.choice(_METHODS)
                body: dict[str, Any] = {"jsonrpc": "2.0", "method": method,
                                        "params": _params(rng, method)}
                if not method.startswith("notifications/") or rng.random() < 0.2:
                    body["id"] = n
                sent = headers(h.keys["alice"], "x", **{"mcp-method": method})
                name = body["params"].get("name") if isinstance(body["params"], dict) else None
                sent["mcp-name"] = name if isinstance(name, str) and name.isascii() else "x"
                events = len(h.events())
                response = await h.client.post(f"{base}/mcp/mail", json=body, headers=sent)
                statuses.append(response.status_code)
                new = len(h.events()) - events
                # a ping or a notification the SDK takes carries nothing to or from the server
                # and is not recorded; every other request is, refusals included
                silent = response.status_code < 400 and (
                    method == "ping" or method.startswith("notifications/"))
                if response.status_code >= 500 or new != (0 if silent else 1):
                    failed.append(f"{body!r:.300} -> {response.status_code} "
                                  f"{response.text[:200]!r} ({new} audit events)")
    assert not failed, "\n".join(failed[:8])
    assert sum(s == 200 for s in statuses) > CALLS // 8, collections.Counter(statuses)
