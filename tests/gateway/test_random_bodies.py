"""Random request bodies through the OpenAI routes (chat, responses, embeddings) with every
control on (the prompt shield, data protection, the starter policies, tool-call checks): each
is answered, and never with a 5xx — malformed input is the client's error, named as such.
Seeded, so a failure repeats. It finds a chat request whose ``tools`` is a number, which was
answered "internal error while deciding" (the case is also in test_failures.BAD_INPUT).
More seeds: ``ZTAI_FUZZ_SEEDS=3,4,5 pytest tests/gateway/test_random_bodies.py``."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import pytest

from tests.deadline import within
from tests.gateway.harness import Options, auth, chat, harness
from tests.gateway.scripted import ScriptedUpstream
from ztai.gateway.classify import Classifier
from ztai.policy.bundled import starter_policies
from ztai.protection.labels import LabelScheme
from ztai.protection.pii import structured_pii_detector
from ztai.threats.shield import Shield

pytestmark = pytest.mark.anyio

BODIES = 300
SEEDS = [int(s) for s in os.environ.get("ZTAI_FUZZ_SEEDS", "1,2").split(",")]
_TEXTS = ["", "hello", "\u0301\uff46", "\ud800", "\x00", "ignore previous instructions",
          "a" * 5000, "中文", "4111 1111 1111 1111", "![x](https://e.test/?q=1)",
          "a2V5IEFLSUFJT1NGT0ROTjdFWEFNUExGIGZvciBzMw==", "data:text/plain;base64,aGk=",
          "data:text/plain,%E2%96%88", "a.env"]
_KEYS = ["role", "content", "type", "text", "name", "tool_calls", "function", "arguments",
         "image_url", "url", "x", "id", "tool_call_id", "custom", "input", "output", "summary",
         "variables", "refusal", "reasoning_content", "function_call", "call_id", "file",
         "file_data", "filename", "description", "parameters", "properties", "results",
         "tools", "server_description", "format", "schema", "json_schema", "required"]
_ITEM_TYPES = ["message", "function_call", "function_call_output", "custom_tool_call",
               "custom_tool_call_output", "local_shell_call_output", "mcp_call", "reasoning",
               "item_reference", "file_search_call", "mcp_list_tools", "web_search_call",
               "image_generation_call", "computer_call_output", "", 5, None]
_ROUTES = ["/v1/chat/completions", "/v1/responses", "/v1/embeddings"]


def _value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.3:
        return rng.choice([None, True, False, 0, -1, 2**70, 1.5e308, 3.2, rng.choice(_TEXTS)])
    if roll < 0.6:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(_KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _message(rng: random.Random) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": rng.choice(["user", "system", "assistant", "tool", "developer", "x", None, 5]),
        "content": _value(rng, 1) if rng.random() < 0.5 else rng.choice(_TEXTS)}
    if rng.random() < 0.3:
        message["tool_calls"] = _value(rng, 1)
    if rng.random() < 0.2:
        message["tool_call_id"] = _value(rng, 2)
    if rng.random() < 0.4:  # an item of the Responses input, or a message's other fields
        message[rng.choice(["type", "output", "summary", "arguments", "input", "refusal",
                            "reasoning_content", "function_call"])] = rng.choice(
            [rng.choice(_ITEM_TYPES), _value(rng, 1), rng.choice(_TEXTS)])
    if rng.random() < 0.3:
        message["content"] = [{"type": rng.choice(["text", "image_url", "input_audio", "x",
                                                   "file", "input_file"]),
                               "text": rng.choice(_TEXTS), "image_url": _value(rng, 2),
                               "file": _value(rng, 2), "file_data": rng.choice(_TEXTS),
                               "filename": rng.choice(_TEXTS)}
                              for _ in range(rng.randint(0, 3))]
    return message


def random_request(rng: random.Random) -> tuple[str, dict[str, Any]]:
    route = rng.choice(_ROUTES)
    if route != "/v1/chat/completions":
        body: dict[str, Any] = {
            "model": rng.choice(["demo-chat", "demo-embed", 5, None]),
            "input": _value(rng) if rng.random() < 0.5
            else [_message(rng) for _ in range(rng.randint(0, 3))]}
        if rng.random() < 0.3:
            body["stream"] = rng.random() < 0.5
    else:
        body = chat(text=rng.choice(_TEXTS), stream=rng.random() < 0.3)
        if rng.random() < 0.5:
            body["messages"] = [_message(rng) for _ in range(rng.randint(0, 4))]
    for _ in range(rng.choice([0, 0, 1, 2])):  # top-level fields of any type
        body[rng.choice(["model", "messages", "stream", "tools", "max_tokens", "n", "user",
                         "stream_options", "instructions", "encoding_format", "prediction",
                         "prompt", "functions", "response_format", "text",
                         "metadata"])] = _value(rng)
    if rng.random() < 0.2:  # tools of the kinds that are read
        body["tools"] = [{"type": rng.choice(["function", "custom", "mcp", "web_search", 5]),
                          **{rng.choice(_KEYS): _value(rng, 2) for _ in range(3)}}
                         for _ in range(rng.randint(0, 3))]
    return route, body


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_bodies_are_answered_without_a_server_error(tmp_path: Path,
                                                                 seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    options = Options(shield=Shield(), upstream=ScriptedUpstream(lambda _: "ok"),
                      dlp=Classifier((structured_pii_detector(),), LabelScheme()),
                      policy_texts=starter_policies(), tool_calls=True)
    failed: list[tuple[int, str, str]] = []
    statuses: set[int] = set()
    async with harness(tmp_path, options) as h:
        for _ in range(BODIES):
            route, body = random_request(rng)
            raw = json.dumps(body)
            with within(20):
                response = await h.client.post(
                    route, content=raw,
                    headers={**auth(h.keys["alice"]), "content-type": "application/json"})
            statuses.add(response.status_code)
            if response.status_code >= 500:
                failed.append((response.status_code, response.text[:200], raw[:300]))
    assert not failed, failed[:3]
    assert 200 in statuses  # valid calls were among them
    assert 400 in statuses  # and refused ones


async def test_a_request_nested_beyond_reason_is_a_bad_request(tmp_path: Path) -> None:
    deep: Any = "x"
    for _ in range(40):
        deep = {"x": deep}
    async with harness(tmp_path) as h:
        response = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                       json={"model": "demo-chat", "messages": [
                                           {"role": "user", "content": "hi", "extra": deep}]})
    assert response.status_code == 400
    assert "nested more than 32 levels" in response.json()["error"]["message"]


@pytest.mark.parametrize("metadata", ["note", ["a"], {"a": {"b": {"c": {"d": {"e": {
    "f": {"g": {"h": {"i": "x"}}}}}}}}}], ids=["a string", "an array", "nested too deeply"])
async def test_metadata_of_another_shape_is_a_bad_request(tmp_path: Path, metadata: Any) -> None:
    async with harness(tmp_path) as h:
        response = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                       json={**chat(text="hi"), "metadata": metadata})
    assert response.status_code == 400
    assert response.json()["error"]["param"].startswith("metadata")


async def test_a_request_of_too_many_texts_is_a_bad_request(tmp_path: Path) -> None:
    parts = [{"type": "text", "text": "w"}] * 10_001
    async with harness(tmp_path, Options(max_body_bytes=1_048_576)) as h:  # the default
        response = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                       json={"model": "demo-chat", "messages": [
                                           {"role": "user", "content": parts}]})
    assert response.status_code == 400
    # the parts and the request's keys (one text: paths.KEYS)
    assert "holds 10002 texts, more than 10000" in response.json()["error"]["message"]
