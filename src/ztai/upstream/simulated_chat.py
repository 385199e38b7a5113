"""The simulator's chat completions: a reply (or a tool call) to the last user message, whole or
as the chunks OpenAI streams: role first, content deltas, finish reason, optional usage, [DONE]."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ztai.upstream.interface import StreamEvent
from ztai.upstream.simulation import (
    FINGERPRINT,
    count_tokens,
    id_for,
    invalid,
    model_of,
    pieces,
    reply_text,
    requested_tool,
    text_of,
)

Body = Mapping[str, Any]


def chat_prompt(body: Body) -> str:
    """The last user message's text; raises ``SimulatedFailure(400)`` for malformed messages."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages \
            or not all(isinstance(message, dict) for message in messages):
        raise invalid("messages must be a non-empty list of objects")
    users = [message for message in messages if message.get("role") == "user"]
    return text_of(users[-1].get("content")) if users else ""


def chat_completion(body: Body, created: int) -> dict[str, Any]:
    message, finish = _message(body)
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
    return {**_envelope(body, created, "chat.completion"), "choices": [choice],
            "usage": _usage(body, message)}


def chat_chunks(body: Body, created: int) -> list[StreamEvent]:
    message, finish = _message(body)
    envelope = _envelope(body, created, "chat.completion.chunk")
    deltas = [{"role": "assistant", "content": ""}, *_deltas(message)]
    chunks = [_chunk(envelope, delta, None) for delta in deltas]
    chunks.append(_chunk(envelope, {}, finish))
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        chunks = [{**chunk, "usage": None} for chunk in chunks]
        chunks.append({**envelope, "choices": [], "usage": _usage(body, message)})
    return [*(StreamEvent(data=chunk) for chunk in chunks), StreamEvent(data=None)]


def _message(body: Body) -> tuple[dict[str, Any], str]:
    prompt = chat_prompt(body)
    tool = requested_tool(prompt, _declared_tools(body))
    if tool is None:
        return {"role": "assistant", "content": reply_text(prompt), "refusal": None}, "stop"
    name, arguments = tool
    call = {"id": id_for("call_", body), "type": "function",
            "function": {"name": name, "arguments": arguments}}
    return {"role": "assistant", "content": None, "refusal": None,
            "tool_calls": [call]}, "tool_calls"


def _deltas(message: dict[str, Any]) -> list[dict[str, Any]]:
    if message["content"] is not None:
        return [{"content": piece} for piece in pieces(message["content"])]
    call = message["tool_calls"][0]
    head = {**call, "function": {"name": call["function"]["name"], "arguments": ""}}
    tail = {"function": {"arguments": call["function"]["arguments"]}}
    return [{"tool_calls": [{"index": 0, **head}]}, {"tool_calls": [{"index": 0, **tail}]}]


def _declared_tools(body: Body) -> list[str]:
    tools = body.get("tools")
    functions = [tool.get("function") for tool in tools if isinstance(tool, dict)] \
        if isinstance(tools, list) else []
    return [function["name"] for function in functions
            if isinstance(function, dict) and isinstance(function.get("name"), str)]


def _usage(body: Body, message: dict[str, Any]) -> dict[str, int]:
    prompt = count_tokens(*(text_of(m.get("content")) for m in body["messages"]))
    calls = message.get("tool_calls") or []
    completion = count_tokens(message["content"] or "", *(
        f"{c['function']['name']} {c['function']['arguments']}" for c in calls))
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _chunk(envelope: dict[str, Any], delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {**envelope, "choices": [choice]}


def _envelope(body: Body, created: int, kind: str) -> dict[str, Any]:
    return {"id": id_for("chatcmpl-", body), "object": kind, "created": created,
            "model": model_of(body), "system_fingerprint": FINGERPRINT}
