"""Random JSON-RPC bodies and headers, each sent twice: answered by ztai's hot path and by the
SDK's server. The two answers must be the same (status, content type, body) and never a 5xx.
Seeded, so a failure repeats; the bodies are mostly valid calls with one part changed (the id,
the JSON-RPC version, the method, the params, the envelope, the arguments, a routing header).
More seeds: ``ZTAI_FUZZ_SEEDS=3,4,5 pytest tests/mcpgw/test_hot_path_random.py``."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.mcpgw.test_hot_paths import META, VERSION, comparable, gateway, headers

pytestmark = pytest.mark.anyio

BODIES = 150
SEEDS = [int(s) for s in os.environ.get("ZTAI_FUZZ_SEEDS", "1,2").split(",")]
_ODD = [None, True, 0, 7, -1, 2**63, 1.5, "", "x", "read_inbox", "\u0301\uff46", [], {}]


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 2 or roll < 0.4:
        return rng.choice(_ODD)
    if roll < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 2))]
    keys = ["limit", "name", "arguments", "_meta", "x", "to", *META]
    return {rng.choice(keys): _value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def _body(rng: random.Random) -> Any:
    params: Any = {"name": rng.choice(["read_inbox"] * 4 + ["send_email", "nope", "", 5, None])}
    if rng.random() < 0.8:
        params["arguments"] = rng.choice([
            {"limit": rng.choice([1, 2, "many", None, 10**30, -3])}, {}, _value(rng),
            {"to": "a@b.example", "subject": "s", "body": _value(rng)}])
    if rng.random() < 0.85:
        meta = dict(META)
        if rng.random() < 0.2:
            meta[rng.choice(list(META))] = _value(rng)
        params["_meta"] = meta
    if rng.random() < 0.1:
        params = _value(rng)
    body: Any = {"jsonrpc": rng.choice(["2.0"] * 8 + ["1.0", None]),
                 "id": rng.choice([7, "a-1"] * 10 + [True, None, 1.5, [1], 2**70, 0, ""]),
                 "method": rng.choice(["tools/call"] * 8 + ["tools/list", "x"]),
                 "params": params}
    if rng.random() < 0.1:
        body["extra"] = _value(rng)
    return _value(rng) if rng.random() < 0.05 else body


def _headers(rng: random.Random, key: str, body: Any) -> dict[str, str]:
    params = body.get("params") if isinstance(body, dict) else None
    name = params.get("name") if isinstance(params, dict) else None
    sent = headers(key, name if isinstance(name, str) and name and name.isascii() else "x")
    for header, choices, chance in (
            ("mcp-name", ["send_email", "nope", ""], 0.2),
            ("mcp-method", ["tools/list", "x"], 0.1),
            ("mcp-protocol-version", ["2025-06-18", "1999-01-01", VERSION], 0.1),
            ("accept", ["application/json", "text/html", "*/*"], 0.1),
            ("mcp-param-limit", ["1", "x", ""], 0.1)):
        if rng.random() < chance:
            sent[header] = rng.choice(choices)
    return sent


def _answer(response: httpx2.Response) -> Any:
    if response.headers.get("content-type", "").startswith("application/json"):
        return comparable(response)
    return response.status_code, response.headers.get("content-type"), response.text


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_calls_are_answered_as_the_sdk_server_answers_them(
        tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    differ: list[tuple[bytes, Any, Any]] = []
    answered_ok = 0
    async with gateway(tmp_path) as (h, base), httpx2.AsyncClient() as http:
        front = h.app.mcp[0]
        for _ in range(BODIES):
            body = _body(rng)
            raw = json.dumps(body).encode()  # integers past 64 bits too
            sent = _headers(rng, h.keys["alice"], body)
            front.hot_calls = True
            hot = await http.post(f"{base}/mcp/mail", content=raw, headers=sent)
            front.hot_calls = False
            sdk = await http.post(f"{base}/mcp/mail", content=raw, headers=sent)
            if hot.status_code >= 500 or _answer(hot) != _answer(sdk):
                differ.append((raw, _answer(hot), _answer(sdk)))
            answered_ok += hot.status_code == 200
    assert not differ, differ[:3]
    assert answered_ok >= 5  # the valid calls were among them
