"""An upstream that answers with a scripted text (or by echoing the last user message), streamed
in chunks of a few characters so that findings and pseudonyms fall across chunk boundaries;
it keeps every body it received, to show what the model was actually sent."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import orjson

from ztai.upstream.interface import StreamEvent, UpstreamCall, UpstreamReply


def last_user_text(body: Mapping[str, Any]) -> str:
    users = [m for m in body["messages"] if m.get("role") == "user"]
    content = users[-1]["content"]
    return content if isinstance(content, str) else " ".join(p["text"] for p in content)


class ScriptedUpstream:
    name = "scripted"

    def __init__(self, answer: Callable[[Mapping[str, Any]], str] = last_user_text,
                 chunk_chars: int = 3) -> None:
        self.answer, self.chunk_chars = answer, chunk_chars
        self.received: list[Mapping[str, Any]] = []

    async def send(self, call: UpstreamCall) -> UpstreamReply:
        self.received.append(call.body)
        message = {"role": "assistant", "content": self.answer(call.body)}
        return UpstreamReply(200, {"id": "chatcmpl-1", "object": "chat.completion",
                                   "model": call.body["model"],
                                   "choices": [{"index": 0, "message": message,
                                                "finish_reason": "stop"}]})

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        self.received.append(call.body)
        text, size = self.answer(call.body), self.chunk_chars
        yield _chunk({"role": "assistant", "content": ""})
        for start in range(0, len(text), size):
            yield _chunk({"content": text[start:start + size]})
        yield _chunk({}, "stop")
        yield StreamEvent(None)

    async def aclose(self) -> None:
        return None


def _chunk(delta: dict[str, Any], finish: str | None = None) -> StreamEvent:
    return StreamEvent({"id": "chatcmpl-1", "object": "chat.completion.chunk",
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def streamed_text(body: bytes) -> tuple[str, list[dict[str, Any]]]:
    """The content a client assembles from an SSE body, and any error events in it."""
    text, errors = "", []
    for block in body.decode().split("\n\n"):
        if not block.startswith("data: ") or block == "data: [DONE]":
            continue
        data = orjson.loads(block[6:])
        if "error" in data:
            errors.append(data["error"])
            continue
        for choice in data.get("choices") or ():
            text += (choice.get("delta") or {}).get("content") or ""
    return text, errors


class ResponsesEvents:
    """A Responses API upstream answering with the given body, or streaming the given events."""

    name = "responses-events"

    def __init__(self, body: dict[str, Any] | None = None,
                 events: list[dict[str, Any]] | None = None) -> None:
        self.body, self.events = body or {}, events or []
        self.received: list[Mapping[str, Any]] = []

    async def send(self, call: UpstreamCall) -> UpstreamReply:
        self.received.append(call.body)
        return UpstreamReply(200, self.body)

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        for event in self.events:
            yield StreamEvent(event)
        yield StreamEvent(None)

    async def aclose(self) -> None:
        return None


def upstream_for(route: str) -> ScriptedUpstream | ResponsesEvents:
    """An upstream answering ``route``: an empty Responses answer, or a chat "ok"."""
    if route == "/v1/responses":
        return ResponsesEvents({"id": "r", "object": "response", "output": []})
    return ScriptedUpstream(lambda _: "ok")


def sent_at(upstream: ScriptedUpstream | ResponsesEvents, where: tuple[str | int, ...]) -> Any:
    """What the upstream last received at the path ``where``."""
    sent: Any = upstream.received[-1]
    for step in where:
        sent = sent[step]
    return sent
