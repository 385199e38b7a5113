"""The simulator's Responses API: a ``response`` with one assistant message, whole or as the
named events OpenAI streams (``response.created`` … ``response.completed``, no [DONE])."""

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
    text_of,
)

Body = Mapping[str, Any]


def responses_prompt(body: Body) -> str:
    """The last user input's text; raises ``SimulatedFailure(400)`` for a malformed input."""
    users = _user_items(body)
    return text_of(users[-1].get("content")) if users else ""


def response_object(body: Body, created: int) -> dict[str, Any]:
    text = reply_text(responses_prompt(body))
    return _response(body, created, [_message(body, text)], _usage(body, text))


def response_events(body: Body, created: int) -> list[StreamEvent]:
    text = reply_text(responses_prompt(body))
    message = _message(body, text)
    part = message["content"][0]
    at = {"item_id": message["id"], "output_index": 0, "content_index": 0}
    pending = {**_response(body, created, [], None), "status": "in_progress"}
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": pending}),
        ("response.in_progress", {"response": pending}),
        ("response.output_item.added",
         {"output_index": 0, "item": {**message, "status": "in_progress", "content": []}}),
        ("response.content_part.added", {**at, "part": {**part, "text": ""}}),
        *(("response.output_text.delta", {**at, "delta": piece, "logprobs": []})
          for piece in pieces(text)),
        ("response.output_text.done", {**at, "text": text, "logprobs": []}),
        ("response.content_part.done", {**at, "part": part}),
        ("response.output_item.done", {"output_index": 0, "item": message}),
        ("response.completed", {"response": response_object(body, created)}),
    ]
    return [StreamEvent(data={"type": name, "sequence_number": number, **data}, event=name)
            for number, (name, data) in enumerate(events)]


def _items(body: Body) -> list[dict[str, Any]]:
    value = body.get("input")
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    raise invalid("input must be a string or a list of input items")


def _user_items(body: Body) -> list[dict[str, Any]]:
    return [item for item in _items(body)
            if item.get("role") == "user" and item.get("type", "message") == "message"]


def _message(body: Body, text: str) -> dict[str, Any]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"type": "message", "id": id_for("msg_", body), "status": "completed",
            "role": "assistant", "content": [part]}


def _usage(body: Body, text: str) -> dict[str, Any]:
    instructions = body.get("instructions")
    prompt = count_tokens(instructions if isinstance(instructions, str) else "",
                          *(text_of(item.get("content")) for item in _items(body)))
    completion = count_tokens(text)
    return {"input_tokens": prompt, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion}


def _response(body: Body, created: int, output: list[dict[str, Any]],
              usage: dict[str, Any] | None) -> dict[str, Any]:
    instructions = body.get("instructions")
    return {"id": id_for("resp_", body), "object": "response", "created_at": created,
            "status": "completed", "model": model_of(body), "output": output, "usage": usage,
            "error": None, "incomplete_details": None,
            "instructions": instructions if isinstance(instructions, str) else None,
            "metadata": {}, "parallel_tool_calls": True, "temperature": 1.0, "top_p": 1.0,
            "tool_choice": "auto", "tools": [], "text": {"format": {"type": "text"}},
            "system_fingerprint": FINGERPRINT}
