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
        ("choices[0].message.tool_calls[0].function.name", "f"),
        ("choices[0].message.tool_calls[1].custom.input", "raw"),
        ("choices[0].message.tool_calls[1].custom.name", "g"),
        ("choices[0].message.function_call.arguments", "{}"),
        ("choices[0].message.function_call.name", "h"),
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
        ("output[1].arguments", "{}"), ("output[1].name", "f"),
        ("output[2].summary[0].text", "thinking")]
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


# --- what else answers carry: found unread on 2026-11-27 (a credential in a hosted tool's ----
# --- output, a custom tool's input or a reasoning delta reached the client unscanned) --------


@pytest.mark.parametrize(("item", "expected"), [
    ({"type": "custom_tool_call", "call_id": "c", "name": "f", "input": "raw"},
     [("output[0].name", "f"), ("output[0].input", "raw")]),
    ({"type": "code_interpreter_call", "id": "ci", "code": "print(1)",
      "outputs": [{"type": "logs", "logs": "1"}, {"type": "image", "url": "https://e.test/i"}]},
     [("output[0].code", "print(1)"), ("output[0].outputs[0].logs", "1"),
      ("output[0].outputs[1].url", "https://e.test/i")]),
    ({"type": "mcp_call", "server_label": "s", "name": "f", "arguments": "{}", "output": "out",
      "error": None}, [("output[0].arguments", "{}"), ("output[0].name", "f"),
                       ("output[0].output", "out")]),
    ({"type": "local_shell_call", "action": {"type": "exec", "command": ["echo", "hi"],
                                             "env": {"HOME": "/root"}}},
     [("output[0].action.command[0]", "echo"), ("output[0].action.command[1]", "hi"),
      ("output[0].action.env.HOME", "/root")]),
    ({"type": "computer_call", "action": {"type": "type", "text": "typed"}},
     [("output[0].action.text", "typed")]),
    ({"type": "file_search_call", "queries": ["q"], "results": [{"file_id": "f", "text": "t",
                                                                "score": 0.5}]},
     [("output[0].queries[0]", "q"), ("output[0].results[0].text", "t")]),
    ({"type": "web_search_call", "action": {"type": "search", "query": "q"}},
     [("output[0].action.query", "q")]),
    ({"type": "reasoning", "summary": [], "encrypted_content": "opaque",
      "content": [{"type": "reasoning_text", "text": "why"}]},
     [("output[0].content[0].text", "why")]),
    ({"type": "message", "content": [{"type": "output_text", "text": "see", "logprobs": [],
                                      "annotations": [{"type": "url_citation",
                                                       "url": "https://e.test/?q=1",
                                                       "title": "T", "start_index": 0}]}]},
     [("output[0].content[0].text", "see"),
      ("output[0].content[0].annotations[0].url", "https://e.test/?q=1"),
      ("output[0].content[0].annotations[0].title", "T")]),
    ({"type": "image_generation_call", "result": "iVBORw0KGgo=", "revised_prompt": "a cat"},
     [("output[0].revised_prompt", "a cat")]),
], ids=["custom tool", "code interpreter", "mcp call", "local shell", "computer", "file search",
        "web search", "reasoning text", "citations", "image"])
def test_every_text_of_any_output_item_is_read(item: dict[str, Any],
                                                expected: list[tuple[str, str]]) -> None:
    assert ResponsesReader().pieces({"output": [item]}) == expected


@pytest.mark.parametrize(("event", "expected"), [
    ({"type": "response.reasoning_summary_text.delta", "delta": "a"}, [("delta", "a")]),
    ({"type": "response.reasoning_text.delta", "delta": "a"}, [("delta", "a")]),
    ({"type": "response.custom_tool_call_input.delta", "delta": "a"}, [("delta", "a")]),
    ({"type": "response.code_interpreter_call_code.delta", "delta": "a"}, [("delta", "a")]),
    ({"type": "response.mcp_call_arguments.delta", "delta": "a"}, [("delta", "a")]),
    ({"type": "response.audio.transcript.delta", "delta": "a"}, [("delta", "a")]),
    ({"type": "response.some_future.delta", "delta": {"text": "a", "id": "x"}},
     [("delta.text", "a")]),
    ({"type": "response.output_text.delta", "delta": "a", "obfuscation": "Zx9q"},
     [("delta", "a")]),
    ({"type": "response.audio.delta", "delta": "UklGRg=="}, []),
], ids=["reasoning summary", "reasoning", "custom tool input", "code", "mcp arguments",
        "transcript", "unknown kind", "obfuscation padding", "audio"])
def test_every_delta_that_is_text_is_read(event: dict[str, Any],
                                          expected: list[tuple[str, str]]) -> None:
    assert ResponsesReader().delta_pieces(event) == expected
    assert ResponsesReader().whole_pieces(event) == []  # the increment is not read twice


def test_finished_copies_in_other_events_are_read() -> None:
    reader = ResponsesReader()
    assert reader.whole_pieces({"type": "response.code_interpreter_call_code.done",
                                "item_id": "x", "code": "print(1)"}) == [("code", "print(1)")]
    assert reader.whole_pieces({"type": "response.output_text.annotation.added",
                                "annotation": {"type": "url_citation", "url": "u"}}) == [
        ("annotation.url", "u")]
    assert reader.whole_pieces({"type": "response.reasoning_summary_part.done",
                                "part": {"type": "summary_text", "text": "t"}}) == [
        ("part.text", "t")]


def test_every_text_of_a_message_besides_content_is_read() -> None:
    message = {"role": "assistant", "content": "hi", "reasoning_content": "because",
               "audio": {"id": "a1", "data": "UklGRg==", "transcript": "hi there",
                         "expires_at": 1},
               "annotations": [{"type": "url_citation",
                                "url_citation": {"url": "https://e.test/", "title": "T"}}]}
    assert ChatReader().pieces(_answer(message)) == [
        ("choices[0].message.content", "hi"),
        ("choices[0].message.reasoning_content", "because"),
        ("choices[0].message.audio.transcript", "hi there"),
        ("choices[0].message.annotations[0].url_citation.url", "https://e.test/"),
        ("choices[0].message.annotations[0].url_citation.title", "T")]
    assert ChatReader().delta_pieces({"choices": [{"index": 0, "delta": {
        "reasoning": "so", "tool_calls": [{"index": 0, "id": "c", "function": {
            "name": "f", "arguments": "{"}}]}}]}) == [
        ("choices[0].delta.tool_calls[0].function.arguments", "{"),
        ("choices[0].delta.tool_calls[0].function.name", "f"),
        ("choices[0].delta.reasoning", "so")]


def test_an_answer_nested_beyond_reason_fails_closed() -> None:
    deep: Any = "secret"
    for _ in range(40):
        deep = {"x": deep}
    with pytest.raises(UpstreamError):
        ChatReader().pieces(_answer({"content": "hi", "extra": deep}))
    with pytest.raises(UpstreamError):
        ResponsesReader().pieces({"output": [{"type": "x", "extra": deep}]})


def test_an_empty_extra_text_is_no_piece() -> None:
    """Providers send ``"reasoning_content": ""`` beside the content of each chunk; a second
    piece would make every chunk unsplittable for the hold-back window."""
    assert ChatReader().delta_pieces({"choices": [{"index": 0, "delta": {
        "content": "4111", "reasoning_content": ""}}]}) == [
        ("choices[0].delta.content", "4111")]
