"""``POST /v1/responses`` (text input and output): instructions and input items become
segments; function-call outputs are untrusted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ztai.core.errors import BadRequest
from ztai.core.model import (
    Action,
    Exchange,
    ExchangeId,
    Provenance,
    Resource,
    ResourceKind,
    Role,
    Segment,
)
from ztai.gateway.catalog import Catalog
from ztai.gateway.openai.fields import as_object, opt_bool, opt_str, parse_object, req_str
from ztai.gateway.plan import Plan, usage_counts
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall

MAX_ITEMS = 4096
_ROLES = {"system": Role.SYSTEM, "developer": Role.DEVELOPER, "user": Role.USER,
          "assistant": Role.ASSISTANT}
_TEXT_PARTS = ("input_text", "output_text", "text")


class ResponsesReader:
    def texts(self, body: Mapping[str, Any]) -> list[str]:
        texts = []
        for item in body.get("output") or ():
            for part in (item.get("content") or ()) if isinstance(item, dict) else ():
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    texts.append(part["text"])
        return texts

    def event_text(self, event: StreamEvent) -> str:
        data = event.data or {}
        if data.get("type") == "response.output_text.delta" and isinstance(data.get("delta"), str):
            return str(data["delta"])
        return ""

    def usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        response = body.get("response")
        return usage_counts(response if isinstance(response, dict) else body)


def translate_responses(body: bytes, catalog: Catalog, exchange_id: ExchangeId) -> Plan:
    request = parse_object(body)
    model = req_str(request, "model")
    stream = opt_bool(request, "stream")
    segments: list[Segment] = []
    instructions = opt_str(request, "instructions")
    if instructions:
        segments.append(Segment(Role.SYSTEM, instructions, "instructions"))
    unscanned = _input_segments(request.get("input"), segments)
    target = catalog.route(model)
    exchange = Exchange(
        id=exchange_id,
        route="responses",
        action=Action.INVOKE_MODEL,
        resource=Resource(ResourceKind.MODEL, model),
        segments=tuple(segments),
        stream=stream,
        signals={"unscanned_parts": unscanned},
    )
    call = UpstreamCall(Endpoint.RESPONSES, {**request, "model": target.upstream_model}, stream)
    return Plan(exchange, ResponsesReader(), call, target)


def _input_segments(value: Any, segments: list[Segment]) -> int:
    if isinstance(value, str):
        segments.append(Segment(Role.USER, value, "input"))
        return 0
    if not isinstance(value, list) or not value or len(value) > MAX_ITEMS:
        raise BadRequest(f"'input' must be a string or an array of 1 to {MAX_ITEMS} items",
                         param="input")
    return sum(_item(as_object(raw, f"input[{i}]"), f"input[{i}]", segments)
               for i, raw in enumerate(value))


def _item(item: dict[str, Any], where: str, segments: list[Segment]) -> int:
    kind = item.get("type", "message")
    if kind == "function_call_output":
        output = opt_str(item, "output", where + ".") or ""
        segments.append(Segment(Role.TOOL, output, where, Provenance.UNTRUSTED))
        return 0
    if kind != "message":
        return 1  # other item kinds (function_call, reasoning, ...) are forwarded unscanned
    role = _ROLES.get(req_str(item, "role", where + "."))
    if role is None:
        raise BadRequest(f"'{where}.role' must be one of {sorted(_ROLES)}", param=where + ".role")
    content = item.get("content")
    if isinstance(content, str):
        segments.append(Segment(role, content, where))
        return 0
    if not isinstance(content, list):
        raise BadRequest(f"'{where}.content' must be a string or an array", param=where)
    return _parts(content, role, where, segments)


def _parts(content: list[Any], role: Role, where: str, segments: list[Segment]) -> int:
    unscanned = 0
    for j, raw in enumerate(content):
        part = as_object(raw, f"{where}.content[{j}]")
        kind = req_str(part, "type", f"{where}.content[{j}].")
        if kind in _TEXT_PARTS:
            text = req_str(part, "text", f"{where}.content[{j}].")
            segments.append(Segment(role, text, f"{where}.content[{j}]"))
        else:
            unscanned += 1
    return unscanned
