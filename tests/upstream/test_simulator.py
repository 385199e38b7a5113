"""SimulatorUpstream: deterministic replies for chat, Responses and embeddings, tool calls,
streamed shapes, trigger words and malformed requests."""

from __future__ import annotations

import base64
import math
import struct
from typing import Any

import anyio
import pytest

from ztai.core.clock import FixedClock
from ztai.core.errors import UpstreamError
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall
from ztai.upstream.model import SimulatorOptions
from ztai.upstream.simulation import pieces, reply_text
from ztai.upstream.simulator import SimulatorUpstream

pytestmark = pytest.mark.anyio

CREATED = 1_750_000_000
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}


def simulator(**changes: Any) -> SimulatorUpstream:
    return SimulatorUpstream(SimulatorOptions(**changes), FixedClock(CREATED))


def chat(text: str, **extra: Any) -> UpstreamCall:
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]
    return UpstreamCall(Endpoint.CHAT, {"model": "sim", "messages": messages, **extra})


async def events_of(call: UpstreamCall) -> list[StreamEvent]:
    return [event async for event in simulator().stream(call)]


async def test_chat_is_deterministic_and_says_it_is_simulated() -> None:
    first = (await simulator().send(chat("hello there world"))).body
    again = (await simulator().send(chat("hello there world"))).body
    other = (await simulator().send(chat("something else"))).body
    assert first == again
    assert first["id"] != other["id"]
    assert first["model"] == "sim"
    assert first["system_fingerprint"] == "ztai-simulator"
    assert first["created"] == CREATED
    assert first["object"] == "chat.completion"
    (choice,) = first["choices"]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["content"] == (
        '[ztai simulator] This is a simulated reply. You said 3 words: "hello there world"')


def test_the_reply_quotes_at_most_eight_words() -> None:
    assert reply_text("one").endswith('You said 1 word: "one"')
    assert reply_text(" ".join("abcdefghij")).endswith('10 words: "a b c d e f g h…"')


async def test_chat_usage_counts_whitespace_words() -> None:
    body = (await simulator().send(chat("a b c"))).body
    completion = len(body["choices"][0]["message"]["content"].split())
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": completion,
                             "total_tokens": 5 + completion}


async def test_chat_reads_the_last_user_message_in_text_parts() -> None:
    messages = [{"role": "user", "content": "old"}, {"role": "assistant", "content": "x"},
                {"role": "user", "content": [{"type": "text", "text": "new words"},
                                             {"type": "image_url", "image_url": {}}]}]
    body = (await simulator().send(UpstreamCall(Endpoint.CHAT,
                                                {"model": "m", "messages": messages}))).body
    assert body["choices"][0]["message"]["content"].endswith('2 words: "new words"')


async def test_a_declared_tool_is_called_when_asked() -> None:
    call = chat('please call tool get_weather with {"city": "Paris"}', tools=[WEATHER])
    (choice,) = (await simulator().send(call)).body["choices"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (tool_call,) = choice["message"]["tool_calls"]
    assert tool_call["type"] == "function"
    assert tool_call["id"].startswith("call_")
    assert tool_call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}


@pytest.mark.parametrize(("text", "tools"), [
    ("call tool get_weather", []), ("call tool send_email", [WEATHER]), ("weather?", [WEATHER]),
])
async def test_no_tool_call_unless_a_declared_tool_is_named(text: str,
                                                            tools: list[Any]) -> None:
    (choice,) = (await simulator().send(chat(text, tools=tools))).body["choices"]
    assert choice["finish_reason"] == "stop"


async def test_tool_arguments_default_to_an_empty_object() -> None:
    call = chat("call tool get_weather.", tools=[WEATHER])
    (choice,) = (await simulator().send(call)).body["choices"]
    assert choice["message"]["tool_calls"][0]["function"]["arguments"] == "{}"


@pytest.mark.parametrize("include_usage", [True, False])
async def test_chat_streams_role_content_finish_usage_done(include_usage: bool) -> None:
    call = chat("stream me some words please", stream_options={"include_usage": include_usage})
    whole = (await simulator().send(call)).body
    events = await events_of(call)
    chunks = [event.data for event in events[:-1] if event.data is not None]
    assert events[-1] == StreamEvent(None)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == whole["choices"][0]["message"]["content"]
    assert len(chunks) >= 5
    finish = [c for c in chunks if c["choices"] and c["choices"][0]["finish_reason"]]
    assert [c["choices"][0]["finish_reason"] for c in finish] == ["stop"]
    assert (chunks[-1].get("usage") == whole["usage"]) is include_usage
    assert {c["id"] for c in chunks} == {whole["id"]}


async def test_a_tool_call_streams_as_deltas() -> None:
    events = await events_of(chat("call tool get_weather with {}", tools=[WEATHER]))
    deltas = [e.data["choices"][0]["delta"] for e in events if e.data is not None]
    assert deltas[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": ""}
    assert deltas[2]["tool_calls"][0] == {"index": 0, "function": {"arguments": "{}"}}


def test_pieces_join_back_to_the_text() -> None:
    text = reply_text("a  b   c d e f g h i")
    assert "".join(pieces(text)) == text
    assert len(pieces(text)) > 3


def responses_call(value: Any, **extra: Any) -> UpstreamCall:
    return UpstreamCall(Endpoint.RESPONSES, {"model": "sim", "input": value, **extra})


async def test_responses_reply_with_one_output_text_message() -> None:
    body = (await simulator().send(responses_call("what is up", instructions="be nice"))).body
    assert body["object"] == "response"
    assert body["status"] == "completed"
    (message,) = body["output"]
    assert (message["type"], message["role"]) == ("message", "assistant")
    (part,) = message["content"]
    assert part["type"] == "output_text"
    assert part["text"].endswith('3 words: "what is up"')
    assert body["usage"]["input_tokens"] == 5
    assert body["usage"]["total_tokens"] == 5 + body["usage"]["output_tokens"]


async def test_responses_read_the_last_user_item() -> None:
    items = [{"role": "user", "content": "first"},
             {"type": "message", "role": "user",
              "content": [{"type": "input_text", "text": "second one"}]},
             {"type": "function_call_output", "call_id": "c", "output": "x"}]
    body = (await simulator().send(responses_call(items))).body
    assert body["output"][0]["content"][0]["text"].endswith('2 words: "second one"')


async def test_responses_stream_the_named_events() -> None:
    call = responses_call("stream this answer")
    events = await events_of(call)
    names = [event.event for event in events]
    assert names[:4] == ["response.created", "response.in_progress",
                         "response.output_item.added", "response.content_part.added"]
    assert names[-4:] == ["response.output_text.done", "response.content_part.done",
                          "response.output_item.done", "response.completed"]
    assert all(e.data is not None and e.data["type"] == e.event for e in events)
    assert [e.data["sequence_number"] for e in events if e.data] == list(range(len(events)))
    deltas = "".join(e.data["delta"] for e in events if e.data and "delta" in e.data)
    completed = events[-1].data["response"] if events[-1].data else {}
    assert completed == (await simulator().send(call)).body
    assert deltas == completed["output"][0]["content"][0]["text"]


@pytest.mark.parametrize("value", ["one text", ["a", "b c"]])
async def test_embeddings_are_deterministic_unit_vectors(value: Any) -> None:
    call = UpstreamCall(Endpoint.EMBEDDINGS, {"model": "e", "input": value})
    body = (await simulator().send(call)).body
    again = (await simulator().send(call)).body
    inputs = value if isinstance(value, list) else [value]
    assert body == again
    assert len(body["data"]) == len(inputs)
    for index, item in enumerate(body["data"]):
        assert item["index"] == index
        assert len(item["embedding"]) == 16
        assert math.isclose(math.fsum(x * x for x in item["embedding"]), 1.0)
    assert body["usage"]["prompt_tokens"] == sum(len(text.split()) for text in inputs)


async def test_embeddings_differ_by_input_and_encode_as_base64() -> None:
    floats = (await simulator().send(UpstreamCall(
        Endpoint.EMBEDDINGS, {"model": "e", "input": ["a", "b"]}))).body["data"]
    encoded = (await simulator().send(UpstreamCall(
        Endpoint.EMBEDDINGS, {"model": "e", "input": ["a", "b"], "encoding_format": "base64"}
    ))).body["data"]
    assert floats[0]["embedding"] != floats[1]["embedding"]
    for plain, packed in zip(floats, encoded, strict=True):
        decoded = struct.unpack("<16f", base64.b64decode(packed["embedding"]))
        assert all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(decoded, plain["embedding"],
                                                                    strict=True))


@pytest.mark.parametrize(("text", "status", "code"), [
    ("[simulate:error500] hi", 502, "upstream_error"),
    ("please [simulate:error429]", 429, "upstream_rate_limited"),
])
async def test_failure_triggers_fail_like_a_provider(text: str, status: int, code: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        await simulator().send(chat(text))
    assert (caught.value.status, caught.value.code) == (status, code)
    with pytest.raises(UpstreamError) as streamed:
        await anext(simulator().stream(chat(text)))
    assert streamed.value.status == status


async def test_the_slow_trigger_stalls_the_reply() -> None:
    with pytest.raises(TimeoutError), anyio.fail_after(0.05):
        await simulator(slow_seconds=30).send(chat("[simulate:slow]"))


async def test_the_slow_trigger_stalls_a_stream_after_its_first_event() -> None:
    events = simulator(slow_seconds=30).stream(chat("[simulate:slow]"))
    assert (await anext(events)).data is not None
    with pytest.raises(TimeoutError), anyio.fail_after(0.05):
        await anext(events)
    await events.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize("call", [
    UpstreamCall(Endpoint.CHAT, {"messages": [{"role": "user", "content": "x"}]}),
    UpstreamCall(Endpoint.CHAT, {"model": "m", "messages": []}),
    UpstreamCall(Endpoint.CHAT, {"model": "m", "messages": ["x"]}),
    UpstreamCall(Endpoint.RESPONSES, {"model": "m", "input": 3}),
    UpstreamCall(Endpoint.EMBEDDINGS, {"model": "m", "input": [1, 2]}),
    UpstreamCall(Endpoint.EMBEDDINGS, {"model": "m", "input": "x", "encoding_format": "int8"}),
], ids=["no-model", "no-messages", "bad-message", "bad-input", "token-input", "bad-encoding"])
async def test_malformed_requests_are_rejected_like_a_provider(call: UpstreamCall) -> None:
    with pytest.raises(UpstreamError) as caught:
        await simulator().send(call)
    assert caught.value.status == 400


async def test_embeddings_cannot_be_streamed() -> None:
    call = UpstreamCall(Endpoint.EMBEDDINGS, {"model": "m", "input": "x"}, stream=True)
    with pytest.raises(UpstreamError) as caught:
        await anext(simulator().stream(call))
    assert caught.value.status == 400


async def test_the_simulator_names_itself_and_closes_quietly() -> None:
    upstream = simulator(name="demo")
    assert upstream.name == "demo"
    assert repr(upstream) == "SimulatorUpstream(name='demo')"
    await upstream.aclose()
