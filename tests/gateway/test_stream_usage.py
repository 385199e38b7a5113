"""A streamed chat answer's token usage is always counted (agent budgets charge it): the
upstream is asked for it whether or not the client asked. Before 2026-11-27 a client that
streamed without ``stream_options.include_usage`` got answers no token budget ever saw. The
usage chunk the client did not ask for is kept from it (client code often reads
``chunk.choices[0]``, which that chunk does not have)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.gateway.harness import Options, auth, chat, harness
from ztai.upstream.interface import StreamEvent, UpstreamCall, UpstreamReply

pytestmark = pytest.mark.anyio


class CountingUpstream:
    """Streams "hello", then the usage chunk when asked for it, as OpenAI does."""

    name = "counting"

    def __init__(self) -> None:
        self.received: list[Mapping[str, Any]] = []

    async def send(self, call: UpstreamCall) -> UpstreamReply:
        raise AssertionError("only streams here")

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        self.received.append(call.body)
        yield StreamEvent({"object": "chat.completion.chunk", "choices": [
            {"index": 0, "delta": {"content": "hello"}, "finish_reason": "stop"}]})
        if (call.body.get("stream_options") or {}).get("include_usage"):
            yield StreamEvent({"object": "chat.completion.chunk", "choices": [],
                               "usage": {"prompt_tokens": 7, "completion_tokens": 1,
                                         "total_tokens": 8}})
        yield StreamEvent(None)

    async def aclose(self) -> None:
        return None


def _chunks(body: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(b[6:]) for b in body.split(b"\n\n") if b.startswith(b"data: {")]


@pytest.mark.parametrize("asked", [False, True])
async def test_every_streamed_answer_is_counted(tmp_path: Path, asked: bool) -> None:
    upstream = CountingUpstream()
    body = chat(stream=True)
    if asked:
        body["stream_options"] = {"include_usage": True}
    async with harness(tmp_path, Options(upstream=upstream)) as h:  # type: ignore[arg-type]
        response = await h.client.post("/v1/chat/completions", headers=auth(h.keys["alice"]),
                                       json=body)
        event = h.last_event()
    assert response.status_code == 200
    assert upstream.received[-1]["stream_options"] == {"include_usage": True}
    assert event["usage"]["total_tokens"] == 8  # what the budgets are charged
    chunks = _chunks(response.content)
    assert chunks[0]["choices"][0]["delta"]["content"] == "hello"
    assert any("usage" in c for c in chunks) is asked
    assert response.content.endswith(b"data: [DONE]\n\n")
