"""What the answer checks read of a chat completion and of a Responses API answer: every
text the client will show or act on (content, refusal, tool-call and legacy function-call
arguments, custom tool input, reasoning summaries); and an answer of another shape fails closed
instead of passing unread (found by random upstream answers through the gateway: a
``choices`` that was a number stopped a stream mid-way)."""

from __future__ import annotations

from typing import Any

import pytest

from ztai.core.errors import UpstreamError
from ztai.gateway.openai.chat import ChatReader
from ztai.gateway.openai.responses import ResponsesReader


def _answer(message: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": message}]}


def test_every_text_of_a_message_is_read() -> None:
    message = {"role": "assistant", "content": "hello", "refusal": "no",
               "tool_calls": [{"id": "1", "type": "function",
                               "function": {"name": "f", "arguments": "{\"a\": 1}"}},
                              {"id": "2", "type": "custom", "custom": {"name": "g",
                                                                       "input": "raw"}}],
               "function_call": {"name": "h", "arguments": "{}"}}
    assert ChatReader().pieces(_answer(message)) == [
        ("choices[0].message.content", "hello"),
        ("choices[0].message.refusal", "no"),
        ("choices[0].message.tool_calls[0].function.arguments", "{\"a\": 1}"),
        ("choices[0].message.tool_calls[1].custom.input", "raw"),
        ("choices[0].message.function_call.arguments", "{}"),
    ]


def test_absent_and_null_parts_are_nothing_to_read() -> None:
    reader = ChatReader()
    assert reader.pieces({}) == []
    assert reader.pieces({"choices": []}) == []
    assert reader.pieces(_answer({"role": "assistant", "content": None, "tool_calls": None})) == []
    assert reader.delta_pieces({"choices": [{"index": 0, "delta": {}}]}) == []
    assert reader.delta_pieces({"choices": [{"index": 0}], "usage": {"total_tokens": 3}}) == []


@pytest.mark.parametrize("body", [
    {"choices": 5},
    {"choices": {"0": {"message": {"content": "secret"}}}},
    {"choices": ["secret"]},
    _answer("secret"),
    _answer({"content": [{"type": "text", "text": "secret"}]}),
    _answer({"content": 7}),
    _answer({"tool_calls": {"0": {}}}),
    _answer({"tool_calls": ["secret"]}),
    _answer({"tool_calls": [{"function": "secret"}]}),
    _answer({"tool_calls": [{"function": {"arguments": {"a": "secret"}}}]}),
    _answer({"function_call": "secret"}),
], ids=["choices a number", "choices an object", "a choice a string", "message a string",
        "content parts", "content a number", "tool calls an object", "a tool call a string",
        "function a string", "arguments an object", "function call a string"])
def test_an_answer_of_another_shape_fails_closed(body: dict[str, Any]) -> None:
    with pytest.raises(UpstreamError) as raised:
        ChatReader().pieces(body)
    assert raised.value.code == "upstream_bad_response"
    assert raised.value.status == 502


# --- the Responses API's answers -------------------------------------------------------------


def test_every_text_of_a_response_is_read() -> None:
    body = {"output": [
        {"type": "message", "content": [{"type": "output_text", "text": "hello"},
                                        {"type": "refusal", "refusal": "no"}]},
        {"type": "function_call", "name": "f", "arguments": "{}"},
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thinking"}]},
    ]}
    assert ResponsesReader().pieces(body) == [
        ("output[0].content[0].text", "hello"), ("output[0].content[1].refusal", "no"),
        ("output[1].arguments", "{}"), ("output[2].summary[0].text", "thinking")]
    assert ResponsesReader().delta_pieces(
        {"type": "response.output_text.delta", "delta": "he"}) == [("delta", "he")]


@pytest.mark.parametrize("body", [
    {"output": 5},
    {"output": {"0": {"content": "secret"}}},
    {"output": ["secret"]},
    {"output": [{"content": "secret"}]},
    {"output": [{"content": ["secret"]}]},
    {"output": [{"content": [{"text": ["secret"]}]}]},
    {"output": [{"arguments": {"a": "secret"}}]},
    {"output": [{"summary": "secret"}]},
], ids=["output a number", "output an object", "an item a string", "content a string",
        "a part a string", "text a list", "arguments an object", "summary a string"])
def test_a_response_of_another_shape_fails_closed(body: dict[str, Any]) -> None:
    with pytest.raises(UpstreamError):
        ResponsesReader().pieces(body)


def test_a_text_delta_that_is_no_text_fails_closed() -> None:
    with pytest.raises(UpstreamError):
        ResponsesReader().delta_pieces({"type": "response.output_text.delta",
                                        "delta": ["secret"]})
