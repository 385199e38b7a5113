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


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_answers_are_checked_or_refused(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)  # noqa: S311 -- reproducible test input
    options = Options(shield=Shield(), upstream=RandomUpstream(rng),
                      dlp=Classifier((structured_pii_detector(),), LabelScheme()),
                      policy_texts=starter_policies(), tool_calls=True)
    statuses: set[int] = set()
    async with harness(tmp_path, options) as h:
        for _ in range(REQUESTS):
            with within(20):
                response = await h.client.post(
                    "/v1/chat/completions", headers=auth(h.keys["alice"]),
                    json=chat(text="hello", stream=rng.random() < 0.4))
            statuses.add(response.status_code)
    assert statuses <= {200, 403, 502}, statuses
    assert {200, 502} <= statuses
