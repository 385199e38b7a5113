"""A credential planted anywhere in a tool call's arguments — any value or key of random
nested JSON — never reaches the MCP server unmasked: with a rule masking secrets sent to
servers, the call is either refused (a key cannot be redacted) or what the server received
holds no trace of it. Seeded, so a failure repeats; more seeds:
``ZTAI_FUZZ_SEEDS=3,4,5 pytest tests/mcpgw/test_planted_arguments.py``."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from tests.gateway.test_planted_secrets import places, plant
from tests.mcpgw.servers import MailState, mail_server
from tests.mcpgw.test_mcp_gateway import AWS_KEY, masking_gateway

pytestmark = pytest.mark.anyio

CALLS = 40
SEEDS = [int(s) for s in os.environ.get("ZTAI_FUZZ_SEEDS", "1,2").split(",")]
_WORDS = ["hello", "eu-west-1", "42", "a b c", "日本語", "https://docs.example/a?b=c", ""]
_KEYS = ["name", "tags", "x", "id", "data", "to", "note", "items", "type"]


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        return rng.choice([*_WORDS, 0, 1.5, True, None])
    if roll < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randint(1, 3))]
    return {rng.choice(_KEYS) + str(i): _value(rng, depth + 1)
            for i in range(rng.randint(1, 3))}



@pytest.mark.parametrize("seed", SEEDS)
async def test_a_planted_key_in_any_argument_never_reaches_the_server(tmp_path: Path,
                                                                     seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    state, stored = MailState(), []
    server = mail_server(state)

    @server.tool()
    def store(data: dict[str, Any]) -> str:
        stored.append(json.dumps(data, ensure_ascii=False))
        return "stored"

    leaks, outcomes = [], {"taken": 0, "refused": 0}
    async with masking_gateway(tmp_path, state, server) as (_, client):
        for _ in range(CALLS):
            arguments = {"data": {"k0": _value(rng), "k1": _value(rng)}}
            path, steps, key = rng.choice([p for p in places(arguments) if len(p[1]) > 1])
            plant(arguments, steps, key, AWS_KEY)
            before = len(stored)
            result = await client.call_tool("store", arguments)
            outcomes["refused" if result.is_error else "taken"] += 1
            if AWS_KEY in "".join(stored[before:]):
                leaks.append((f"{path} (key)" if key else path, json.dumps(arguments)[:300]))
    assert not leaks, leaks
    assert outcomes["taken"], outcomes  # values are masked in place, not refused
