"""Random answers from the model provider — well-formed, odd and malformed, whole and streamed
— through the chat route with every control on: each request is answered within its time,
with 200 (the answer, checked), 403 (a DLP rule acted) or 502 (an answer of another shape,
not passed on unread), never an exception or a stall. Seeded, so a failure repeats. It found
the hold-back window's endless cut search and answers that stopped a stream mid-way."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.deadline import within
from tests.gateway.harness import Options, auth, chat, harness
from ztai.gateway.classify import Classifier
from ztai.policy.bundled import starter_policies
from ztai.protection.labels import LabelScheme
from ztai.protection.pii import structured_pii_detector
from ztai.threats.shield import Shield
from ztai.upstream.interface import StreamEvent, UpstreamCall, UpstreamReply

pytestmark = pytest.mark.anyio

REQUESTS = 400
# what a provider's JSON can carry (its parser turns integers past 64 bits into floats and
# refuses lone surrogates, so neither appears here)
_TEXTS = ["", "ok", "\u0301\uff46", "4111 1111 1111 1111", "![x](https://e.test/?q=1)",
          "AKIAIOSFODNN7EXAMPLE", "a" * 3000]
_KEYS = ["choices", "message", "delta", "content", "tool_calls", "function", "arguments",
         "role", "index", "usage", "total_tokens", "finish_reason", "refusal", "x"]


class RandomUpstream:
    name = "random"

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def value(self, depth: int = 0) -> Any:
        roll = self.rng.random()
        if depth > 3 or roll < 0.35:
            return self.rng.choice([None, True, 0, -1, 1.2e21, 1.5, self.rng.choice(_TEXTS)])
        if roll < 0.6:
            return [self.value(depth + 1) for _ in range(self.rng.randint(0, 3))]
        return {self.rng.choice(_KEYS): self.value(depth + 1)
                for _ in range(self.rng.randint(0, 4))}

    def choice(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.rng.choice(_TEXTS)}
        if self.rng.random() < 0.3:
            message["tool_calls"] = self.rng.choice([self.value(1), [{
                "id": "c", "type": "function", "function": {
                    "name": self.rng.choice(["send_email", "x", 5]),
                    "arguments": self.rng.choice([*_TEXTS, "{}", '{"to": "a@evil.test"}'])}}]])
        if self.rng.random() < 0.2:
            message["content"] = self.value(1)
        return {"index": 0, "message": message, "finish_reason": "stop"}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": "c1", "object": "chat.completion", "model": "m",
                                "choices": [self.choice() for _ in range(self.rng.randint(0, 2))]}
        if self.rng.random() < 0.3:
            body[self.rng.choice(["choices", "usage", "id", "model"])] = self.value()
        return body

    async def send(self, call: UpstreamCall) -> UpstreamReply:
        return UpstreamReply(self.rng.choice([200] * 8 + [400, 500, 429]), self.body())

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        for _ in range(self.rng.randint(0, 6)):
            if self.rng.random() < 0.7:
                delta = ({"content": self.rng.choice(_TEXTS)} if self.rng.random() < 0.8
                         else self.value(1))
                yield StreamEvent({"id": "c", "object": "chat.completion.chunk",
                                   "choices": [{"index": 0, "delta": delta}]})
            else:
                data = self.value()
                yield StreamEvent(data if isinstance(data, dict) else {"choices": data})
        yield StreamEvent(None)

    async def aclose(self) -> None:
        return None


_RESPONSE_KEYS = ["output", "content", "summary", "text", "arguments", "input", "output_text",
                  "logs", "outputs", "action", "command", "results", "delta", "item", "part",
                  "response", "logprobs", "obfuscation", "annotations", "x"]
_ITEM_TYPES = ["message", "function_call", "custom_tool_call", "reasoning", "mcp_call",
               "code_interpreter_call", "local_shell_call", "computer_call", "web_search_call",
               "image_generation_call", "future_call", 7]
_EVENT_TYPES = ["response.output_text.delta", "response.reasoning_summary_text.delta",
                "response.custom_tool_call_input.delta", "response.audio.delta",
                "response.function_call_arguments.delta", "response.output_item.added",
                "response.output_item.done", "response.completed", "response.future.delta",
                "error", None]


class RandomResponses(RandomUpstream):
    """Random Responses API answers and events, of every item kind and of none."""

    def value(self, depth: int = 0) -> Any:
        roll = self.rng.random()
        if depth > 3 or roll < 0.35:
            return self.rng.choice([None, True, 0, 1.5, self.rng.choice(_TEXTS)])
        if roll < 0.6:
            return [self.value(depth + 1) for _ in range(self.rng.randint(0, 3))]
        return {self.rng.choice(_RESPONSE_KEYS): self.value(depth + 1)
                for _ in range(self.rng.randint(0, 4))}

    def item(self) -> Any:
        if self.rng.random() < 0.1:
            return self.value(1)
        item = {"type": self.rng.choice(_ITEM_TYPES)}
        for _ in range(self.rng.randint(0, 3)):
            item[self.rng.choice(_RESPONSE_KEYS)] = self.rng.choice(
                [self.rng.choice(_TEXTS), self.value(1),
                 [{"type": "output_text", "text": self.rng.choice(_TEXTS)}]])
        return item

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": "r", "object": "response",
                                "output": [self.item() for _ in range(self.rng.randint(0, 3))]}
        if self.rng.random() < 0.2:
            body["output"] = self.value()
        return body

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        for _ in range(self.rng.randint(0, 6)):
            event: dict[str, Any] = {"type": self.rng.choice(_EVENT_TYPES),
                                     "output_index": self.rng.randint(0, 2)}
            field = self.rng.choice(["delta", "item", "part", "response", "text", "code"])
            event[field] = self.rng.choice([self.rng.choice(_TEXTS), self.item(),
                                            self.value(1), {"output": [self.item()]}])
            yield StreamEvent(event)
        yield StreamEvent(None)


def _every_control(upstream: RandomUpstream) -> Options:
    return Options(shield=Shield(), upstream=upstream,
                   dlp=Classifier((structured_pii_detector(),), LabelScheme()),
                   policy_texts=starter_policies(), tool_calls=True)


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_responses_answers_are_checked_or_refused(tmp_path: Path,
                                                               seed: int) -> None:
    """The same through the Responses route, whose readers read every text of every item and
    event kind (so a shape they do not expect must fail closed, never crash or stall)."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    statuses: set[int] = set()
    async with harness(tmp_path, _every_control(RandomResponses(rng))) as h:
        for _ in range(REQUESTS // 2):
            with within(20):
                response = await h.client.post(
                    "/v1/responses", headers=auth(h.keys["alice"]),
                    json={"model": "demo-chat", "input": "hello",
                          "stream": rng.random() < 0.4})
            statuses.add(response.status_code)
    assert statuses <= {200, 403, 502}, statuses
    assert {200, 502} <= statuses


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_answers_are_checked_or_refused(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    statuses: set[int] = set()
    async with harness(tmp_path, _every_control(RandomUpstream(rng))) as h:
        for _ in range(REQUESTS):
            with within(20):
                response = await h.client.post(
                    "/v1/chat/completions", headers=auth(h.keys["alice"]),
                    json=chat(text="hello", stream=rng.random() < 0.4))
            statuses.add(response.status_code)
    assert statuses <= {200, 403, 502}, statuses
    assert {200, 502} <= statuses
