"""A credential planted anywhere in a well-formed request never reaches the provider unmasked:
random chat, Responses and embeddings requests of every shape the routes take (messages of every
role, content parts, tool calls and results, tool definitions, metadata, Responses items, fields
ztai does not know...), one string of each (a value or a key) given an AWS key, sent with a rule
that masks secrets in requests. Either the request is refused, or what the upstream received
holds no trace of the key.

The only places a planted key may pass are the ones ztai leaves as they are on purpose, each
named in ``PASSED_ON`` with the reason (README: "What data protection reads"). A new path that
leaks fails here with the request that showed it. Seeded, so a failure repeats; more seeds:
``ZTAI_FUZZ_SEEDS=3,4,5 pytest tests/gateway/test_planted_secrets.py``."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deadline import within
from tests.gateway.harness import Options, auth, harness
from tests.gateway.scripted import ResponsesEvents, ScriptedUpstream
from tests.gateway.test_random_bodies import random_request
from ztai.gateway.classify import Classifier
from ztai.policy.bundled import starter_policies
from ztai.protection.encoded import EncodedContent
from ztai.protection.labels import LabelScheme
from ztai.protection.secrets_detector import SecretDetector
from ztai.upstream.interface import StreamEvent, UpstreamCall

pytestmark = pytest.mark.anyio

AWS_KEY = "AKIAZ3MZQ7YWRT4XPLNV"
REQUESTS = 150
SEEDS = [int(s) for s in os.environ.get("ZTAI_FUZZ_SEEDS", "1,2,3,4,5,6").split(",")]
MASK_SECRETS = """
@id("mask-secrets-in-requests")
@dlp("redact") @kinds("secret.*") @method("mask")
permit (principal, action in [Action::"invoke_model", Action::"embed"], resource)
when { context has direction && context.direction == "request" };
"""

# Where a planted key passes by design, as regular expressions over the planted path (keys
# joined by "." and list indexes as "[i]"), with the reason.
PASSED_ON: dict[str, str] = {
    # identifiers the provider gave or matches on: masking one breaks the conversation, and
    # provider ids are random strings the entropy rules would flag
    r"(^|\.)(id|conversation|\w+_id)$": "an identifier",
    # the provider's keys for abuse monitoring and caching (a pseudonym there breaks both)
    r"^(user|safety_identifier|prompt_cache_key)$": "the provider's abuse and cache keys",
    # an image's address: a presigned one carries a credential by design
    r"\.image_url(\.url)?$": "an image's address",
    # content no detector reads (audio, an image, a PDF, an attachment that does not decode,
    # a reasoning item's encrypted content): passed on and counted in ``unscanned_parts``,
    # which the starter rules keep from consumer-tier models
    r"(\.input_audio\.data|\.file_data|\.encrypted_content)$":
        "binary content, counted as unscanned",
}


class Recording(ScriptedUpstream):
    """A chat upstream that answers "ok" and keeps every body it was sent."""

    def __init__(self) -> None:
        super().__init__(lambda _: "ok")


class RecordingResponses(ResponsesEvents):
    """A Responses upstream that keeps streamed requests' bodies too."""

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        self.received.append(call.body)
        async for event in super().stream(call):
            yield event


_WORDS = ["hello", "please summarise this", "what is the weather", "{\"q\": 1}",
          "SELECT 1", "meet at ten", "see https://docs.example/a?b=c", "日本語のテキスト"]


def _text(rng: random.Random) -> str:
    return rng.choice(_WORDS)


def _schema(rng: random.Random) -> dict[str, Any]:
    return {"type": "object", "description": _text(rng),
            "properties": {rng.choice(["city", "query", "to"]): {
                "type": "string", "description": _text(rng),
                **({"enum": [_text(rng)]} if rng.random() < 0.3 else {})}},
            "required": []}


def _chat_part(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["text", "text", "image_url", "file", "input_audio", "refusal"])
    if kind == "text":
        return {"type": "text", "text": _text(rng)}
    if kind == "refusal":
        return {"type": "refusal", "refusal": _text(rng)}
    if kind == "image_url":
        return {"type": "image_url", "image_url": {"url": "https://img.example/a.png",
                                                   "detail": "low"}}
    if kind == "input_audio":
        return {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}
    return {"type": "file", "file": {"filename": "notes.txt",
                                     "file_data": "data:text/plain;base64,aGVsbG8="}}


def _chat_message(rng: random.Random) -> dict[str, Any]:
    role = rng.choice(["system", "developer", "user", "user", "assistant", "tool"])
    message: dict[str, Any] = {"role": role}
    if role == "tool":
        message.update(tool_call_id="call_1", content=_text(rng))
    elif role == "assistant":
        message["content"] = _text(rng) if rng.random() < 0.7 else None
        if rng.random() < 0.5:
            message["tool_calls"] = [{"id": "call_1", "type": "function", "function": {
                "name": "get_weather", "arguments": json.dumps({"city": _text(rng)})}}]
    elif role == "user" and rng.random() < 0.5:
        message["content"] = [_chat_part(rng) for _ in range(rng.randint(1, 3))]
    else:
        message["content"] = _text(rng)
    if rng.random() < 0.2:
        message["name"] = "participant"
    return message


def _tools(rng: random.Random) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": "get_weather", "description": _text(rng),
                                              "parameters": _schema(rng)}}
            for _ in range(rng.randint(1, 2))]


def _chat(rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "demo-chat",
                            "messages": [_chat_message(rng) for _ in range(rng.randint(1, 4))]}
    if rng.random() < 0.4:
        body["tools"] = _tools(rng)
        if rng.random() < 0.5:
            body["tool_choice"] = {"type": "function", "function": {"name": "get_weather"}}
    if rng.random() < 0.3:
        body["metadata"] = {"team": _text(rng)}
    if rng.random() < 0.2:
        body["response_format"] = {"type": "json_schema", "json_schema": {
            "name": "answer", "description": _text(rng), "schema": _schema(rng)}}
    if rng.random() < 0.2:
        body["prediction"] = {"type": "content", "content": _text(rng)}
    if rng.random() < 0.2:
        body["stop"] = [_text(rng)]
    if rng.random() < 0.2:
        body["user"] = "user-1"
    if rng.random() < 0.2:
        body["x-notes"] = {"note": _text(rng)}
    if rng.random() < 0.3:
        body["stream"] = True
    return body


def _responses_item(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(["message", "message", "function_call", "function_call_output",
                       "reasoning", "custom_tool_call", "custom_tool_call_output"])
    if kind == "message":
        role = rng.choice(["user", "system", "developer", "assistant"])
        if role == "assistant":
            return {"type": "message", "role": role,
                    "content": [{"type": "output_text", "text": _text(rng)}]}
        part = rng.choice([{"type": "input_text", "text": _text(rng)},
                           {"type": "input_image", "image_url": "https://img.example/a.png"},
                           {"type": "input_file", "filename": "notes.txt",
                            "file_data": "data:text/plain;base64,aGVsbG8="}])
        return {"type": "message", "role": role,
                "content": _text(rng) if rng.random() < 0.5 else [part]}
    if kind == "function_call":
        return {"type": kind, "call_id": "call_1", "name": "get_weather",
                "arguments": json.dumps({"city": _text(rng)})}
    if kind == "custom_tool_call":
        return {"type": kind, "call_id": "call_2", "name": "run", "input": _text(rng)}
    if kind == "reasoning":
        return {"type": kind, "id": "rs_1",
                "summary": [{"type": "summary_text", "text": _text(rng)}]}
    return {"type": kind, "call_id": "call_1", "output": _text(rng)}


def _responses(rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "demo-chat"}
    body["input"] = _text(rng) if rng.random() < 0.3 else [
        _responses_item(rng) for _ in range(rng.randint(1, 4))]
    if rng.random() < 0.4:
        body["instructions"] = _text(rng)
    if rng.random() < 0.3:
        body["tools"] = [{"type": "function", "name": "get_weather", "description": _text(rng),
                          "parameters": _schema(rng)}]
    if rng.random() < 0.2:
        body["text"] = {"format": {"type": "json_schema", "name": "answer",
                                   "description": _text(rng), "schema": _schema(rng)}}
    if rng.random() < 0.3:
        body["metadata"] = {"team": _text(rng)}
    if rng.random() < 0.2:
        body["previous_response_id"] = "resp_1"
    if rng.random() < 0.2:
        body["x-notes"] = _text(rng)
    if rng.random() < 0.3:
        body["stream"] = True
    return body


def _embeddings(rng: random.Random) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "demo-embed",
                            "input": _text(rng) if rng.random() < 0.5
                            else [_text(rng) for _ in range(rng.randint(1, 3))]}
    if rng.random() < 0.3:
        body["x-notes"] = [_text(rng)]
    return body


ROUTES = {"/v1/chat/completions": _chat, "/v1/responses": _responses,
          "/v1/embeddings": _embeddings}


def _with_extras(rng: random.Random, node: Any) -> Any:
    """``node`` with a field of ztai's choosing added to some of its objects (a client's or
    provider's extension: ``cache_control``, ``x-trace``...)."""
    if isinstance(node, dict):
        for value in node.values():
            _with_extras(rng, value)
        if rng.random() < 0.15:
            node[rng.choice(["cache_control", "x-trace", "annotations", "label", "data",
                             "url"])] = rng.choice(
                [_text(rng), {"type": "ephemeral", "note": _text(rng)}, [_text(rng)]])
    elif isinstance(node, list):
        for value in node:
            _with_extras(rng, value)
    return node


def places(node: Any, at: str = "") -> Iterator[tuple[str, tuple[Any, ...], bool]]:
    """Every string of ``node`` (a value, or a key when the flag is set) with its path, as
    (path text, path steps, is a key)."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{at}.{key}" if at else key
            yield path, (*_steps(at), key), True
            yield from places(value, path)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from places(value, f"{at}[{i}]")
    elif isinstance(node, str):
        yield at, tuple(_steps(at)), False


def _steps(path: str) -> list[str | int]:
    return [int(s) if s.isdigit() else s for s in re.findall(r"[^.\[\]]+", path)]


def plant(body: Any, steps: tuple[Any, ...], key: bool, payload: str = AWS_KEY) -> None:
    """``payload`` added to the string at ``steps`` (to the key there, with ``key``)."""
    node: Any = body
    for step in steps[:-1]:
        node = node[step]
    last = steps[-1]
    if key:  # rename the key, keeping its value and the object's order
        items = list(node.items())
        node.clear()
        node.update((f"{k} {payload}" if k == last else k, v) for k, v in items)
    elif isinstance(node[last], str):
        node[last] = f"{node[last]} {payload} "  # apart from what a stream adds after it


def _passed_on(path: str) -> str | None:
    return next((why for pattern, why in PASSED_ON.items() if re.search(pattern, path)), None)


def _dlp() -> tuple[Classifier, dict[str, str]]:
    """Secrets found (encoded too) and masked in every request."""
    detectors = (SecretDetector.build(),)
    texts = {"00-baseline.cedar": starter_policies()["00-baseline.cedar"],
             "30-dlp.cedar": MASK_SECRETS}
    return Classifier((*detectors, EncodedContent(detectors)), LabelScheme()), texts


def _recording(route: str) -> Recording | RecordingResponses:
    return RecordingResponses({"id": "r", "object": "response", "output": []}) \
        if route == "/v1/responses" else Recording()


@pytest.mark.parametrize("seed", SEEDS)
async def test_a_planted_key_never_reaches_the_provider_unmasked(tmp_path: Path,
                                                                 seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    dlp, texts = _dlp()
    leaks: list[tuple[str, str, int, str]] = []
    outcomes: dict[str, set[int]] = {}
    for route, build in ROUTES.items():
        upstream = _recording(route)
        options = Options(upstream=upstream, dlp=dlp, policy_texts=texts)
        folder = tmp_path / route.rsplit("/", 1)[1]
        folder.mkdir()
        async with harness(folder, options) as h:
            for _ in range(REQUESTS // len(ROUTES)):
                body = _with_extras(rng, build(rng))
                spots = [p for p in places(body) if p[1]]
                path, steps, key = rng.choice(spots)
                if path == "model" or (not key and steps[-1] in ("type", "role")):
                    continue  # a value the route checks against a fixed set: a 400
                plant(body, steps, key)
                before = len(upstream.received)
                with within(20):
                    response = await h.client.post(route, json=body,
                                                    headers=auth(h.keys["alice"]))
                outcomes.setdefault(route, set()).add(response.status_code)
                sent = json.dumps(upstream.received[before:], ensure_ascii=False)
                label = f"{path} (key)" if key else path
                if AWS_KEY in sent and _passed_on(path) is None:
                    leaks.append((route, label, response.status_code, json.dumps(body)[:400]))
    assert not leaks, sorted({(route, label, status) for route, label, status, _ in leaks})
    for route, statuses in outcomes.items():  # the requests were taken, not all refused
        assert 200 in statuses, (route, statuses)


async def test_a_planted_key_in_a_request_of_any_shape_never_reaches_the_provider(
        tmp_path: Path) -> None:
    """The same with bodies of any shape (``test_random_bodies``): most are refused, and the
    ones a route takes hold values where the routes expect other types. Found 2026-11-28: a
    ``user`` or an ``id`` sent as an object (identifiers pass as they are) passed with a
    credential inside; only their strings pass now."""
    dlp, texts = _dlp()
    leaks: list[tuple[str, str, int]] = []
    taken = 0
    for seed, route in itertools.product(SEEDS, ROUTES):
        rng = random.Random(seed)  # noqa: S311 -- reproducible test input
        upstream = _recording(route)
        folder = tmp_path / f"{seed}-{route.rsplit('/', 1)[1]}"
        folder.mkdir()
        async with harness(folder, Options(upstream=upstream, dlp=dlp, policy_texts=texts)) as h:
            for _ in range(REQUESTS * 2):  # a third of them are for this route
                chosen, body = random_request(rng)
                spots = [p for p in places(body) if p[1]]
                if chosen != route or not spots:
                    continue
                path, steps, key = rng.choice(spots)
                plant(body, steps, key)
                before = len(upstream.received)
                with within(20):
                    response = await h.client.post(route, content=json.dumps(body), headers={
                        **auth(h.keys["alice"]), "content-type": "application/json"})
                taken += response.status_code == 200
                sent = json.dumps(upstream.received[before:], ensure_ascii=False)
                if AWS_KEY in sent and _passed_on(path) is None:
                    leaks.append((route, f"{path} (key)" if key else path, response.status_code))
    assert not leaks, sorted(set(leaks))
    assert taken  # some were taken (most are refused)
