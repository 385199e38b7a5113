"""``POST /v1/responses`` (text input and output): instructions and input items become
segments; function-call outputs are untrusted."""

from __future__ import annotations

import dataclasses
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
from ztai.gateway.attachments import is_binary_data_url
from ztai.gateway.catalog import Catalog
from ztai.gateway.openai.fields import (
    HOSTED_KINDS,
    LABEL_FIELD,
    REQUEST_SKIP,
    answer_text,
    as_object,
    attached_text,
    called_name,
    definition_texts,
    definitions,
    hosted_tools,
    known_part_texts,
    label_of,
    malformed_answer,
    metadata,
    nested_too_deeply,
    opt_bool,
    opt_list,
    opt_object,
    opt_str,
    other_texts,
    parse_object,
    req_str,
    texts_in,
    unknown_part_texts,
    unlabelled,
    unread_segments,
)
from ztai.gateway.plan import Piece, Plan, usage_counts
from ztai.upstream.interface import Endpoint, UpstreamCall

MAX_ITEMS = 4096
_ROLES = {"system": Role.SYSTEM, "developer": Role.DEVELOPER, "user": Role.USER,
          "assistant": Role.ASSISTANT}
_TEXT_PARTS = ("input_text", "output_text", "text")


class ResponsesReader:
    def pieces(self, body: Mapping[str, Any]) -> list[Piece]:
        return _output_pieces(body, "")

    def delta_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        """The increment of a text, arguments, reasoning, a tool's input or code, a
        transcript: every event's ``delta`` but audio's (base64 sound)."""
        pieces: list[Piece] = []
        kind = data.get("type")
        if kind in _DELTAS:
            answer_text(data, "delta", "delta", pieces)
        elif kind not in _SOUND and data.get("delta") is not None:
            texts_in(data["delta"], "delta", pieces)
        return pieces

    def whole_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        """The complete copies a stream repeats: the finished text, part, item and response."""
        pieces: list[Piece] = []
        if isinstance(data.get("text"), str):
            pieces.append(("text", data["text"]))
        if isinstance(data.get("arguments"), str):
            pieces.append(("arguments", data["arguments"]))
        part = data.get("part")
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            pieces.append(("part.text", part["text"]))
        item = data.get("item")
        if isinstance(item, dict):
            pieces.extend(_item_pieces(item, "item"))
        response = data.get("response")
        if isinstance(response, dict):
            pieces.extend(_output_pieces(response, "response."))
        # the other finished copies (a hosted tool's code, a tool's input, a refusal, a
        # citation) and an error's message
        other_texts(data, _EVENT_READ, "", pieces)
        if isinstance(part, dict):
            other_texts(part, _TEXT, "part", pieces)
        return pieces

    def extra_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        """Beside a response's output: in a whole answer, or in an event's copy of the
        response (a stream's other events are read whole by ``whole_pieces``)."""
        response = data.get("response")
        if isinstance(response, dict):
            return _response_extras(response, "response")
        if data.get("object") == "response" or "output" in data:
            return _response_extras(data, "")
        return []

    def usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        response = body.get("response")
        return usage_counts(response if isinstance(response, dict) else body)


_DELTAS = frozenset({"response.output_text.delta", "response.function_call_arguments.delta",
                     "response.refusal.delta"})
_SOUND = frozenset({"response.audio.delta"})
_EVENT_READ = frozenset({"text", "arguments", "part", "item", "response", "delta"})
_TEXT = frozenset({"text"})
_ITEM_READ = frozenset({"arguments", "content", "summary"})
# an image a hosted tool generated (base64): not text; images are not scanned anywhere
_IMAGE_READ = _ITEM_READ | {"result"}


def _response_extras(body: Mapping[str, Any], where: str) -> list[Piece]:
    """The texts a response carries beside its output and the request's settings it echoes
    (``_KNOWN``: its instructions, tools, metadata... which the client sent and was judged
    on): a provider's own fields, an error's message. Found 2026-11-28: they reached the
    client unread."""
    pieces: list[Piece] = []
    other_texts(body, _RESPONSE_READ, where, pieces)
    return pieces


def _output_pieces(body: Mapping[str, Any], prefix: str) -> list[Piece]:
    """The texts of each output item; an output of another shape fails closed."""
    pieces: list[Piece] = []
    output = body.get("output")
    if output is None:
        return pieces
    if not isinstance(output, list):
        raise malformed_answer(f"{prefix}output")
    for i, item in enumerate(output):
        if not isinstance(item, dict):
            raise malformed_answer(f"{prefix}output[{i}]")
        pieces.extend(_item_pieces(item, f"{prefix}output[{i}]"))
    return pieces


def _item_pieces(item: Mapping[str, Any], where: str) -> list[Piece]:
    """A function call's arguments and name (the model proposes it), the text and refusal of each
    content part, the text of each reasoning summary part, and every other text the item
    carries (``other_texts``); a content or summary of another shape fails closed."""
    pieces: list[Piece] = []
    answer_text(item, "arguments", f"{where}.arguments", pieces)
    # the name of the tool a call proposes: the model writes it (as for chat's tool calls)
    answer_text(item, "name", f"{where}.name", pieces)
    for name, keys in (("content", ("text", "refusal")), ("summary", ("text",))):
        parts = item.get(name)
        if parts is None:
            continue
        if not isinstance(parts, list):
            raise malformed_answer(f"{where}.{name}")
        for j, part in enumerate(parts):
            if not isinstance(part, dict):
                raise malformed_answer(f"{where}.{name}[{j}]")
            for key in keys:
                answer_text(part, key, f"{where}.{name}[{j}].{key}", pieces)
            other_texts(part, frozenset(keys), f"{where}.{name}[{j}]", pieces)
    # what other items carry: a custom tool's input, a hosted tool's code, logs, output,
    # queries, results, actions (typed text, a shell command), an error
    image = item.get("type") == "image_generation_call"
    other_texts(item, _IMAGE_READ if image else _ITEM_READ, where, pieces)
    return pieces


# a request's fields read by the readers here, and the settings and identifiers passed on
# unread (as for chat: ``ztai.gateway.openai.chat``); anything else is read by
# ``other_fields``
_KNOWN = frozenset({
    "model", "input", "instructions", "prompt", "tools", "text", "metadata", "stream",
    "stream_options", "background", "include", "max_output_tokens", "max_tool_calls",
    "parallel_tool_calls", "previous_response_id", "conversation", "reasoning", "service_tier",
    "store", "temperature", "top_p", "top_logprobs", "tool_choice", "truncation", "user",
    "safety_identifier", "prompt_cache_key", "prompt_cache_retention"})
_RESPONSE_READ = _KNOWN | {"output"}


def translate_responses(body: bytes, catalog: Catalog, exchange_id: ExchangeId) -> Plan:
    request = parse_object(body)
    model = req_str(request, "model")
    stream = opt_bool(request, "stream")
    segments: list[Segment] = []
    instructions = opt_str(request, "instructions")
    if instructions:
        segments.append(Segment(Role.SYSTEM, instructions, "instructions"))
    unscanned = _prompt_variables(request, segments)
    if request.get("input") is not None or request.get("prompt") is None:  # a stored
        unscanned += _input_segments(request.get("input"), segments)  # prompt may stand alone
    segments.extend(Segment(Role.DEVELOPER, text, source, definition=True)
                    for source, text in definitions(request, HOSTED_KINDS))
    segments.extend(Segment(Role.DEVELOPER, text, source, unread=True)
                    for source, text in metadata(request))
    segments.extend(unread_segments(request, _KNOWN, segments))
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
    forwarded = {**request, "model": target.upstream_model}
    if isinstance(request.get("input"), list):
        forwarded["input"] = unlabelled(request["input"])
    call = UpstreamCall(Endpoint.RESPONSES, forwarded, stream)
    return Plan(exchange, ResponsesReader(), call, target, context=hosted_tools(request))


def _prompt_variables(request: Mapping[str, Any], segments: list[Segment]) -> int:
    """A stored prompt's variables: texts the model reads like the input (an image or a file
    given as a variable is counted unscanned)."""
    variables = opt_object(opt_object(request, "prompt"), "variables", "prompt.")
    unscanned = 0
    for name, value in variables.items():
        where = f"prompt.variables.{name}"
        if isinstance(value, str):
            segments.append(Segment(Role.USER, value, where))
        elif isinstance(value, dict) and value.get("type") in _TEXT_PARTS:
            segments.append(Segment(Role.USER, req_str(value, "text", where + "."),
                                    where + ".text"))
        elif isinstance(value, dict) and value.get("type") == "input_file" and (
                attached := attached_text(value, where)):
            segments.append(Segment(Role.USER, *attached, Provenance.UNTRUSTED))
        else:
            unscanned += 1
    return unscanned


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
    kind = opt_str(item, "type", where + ".") or "message"
    labels = label_of(item, where + ".")
    if kind in _TOOL_OUTPUTS or kind == "mcp_call":
        # what a tool returned, the model will read: untrusted (the shield's document role)
        unscanned = _tool_output(item, where, segments, labels)
        if kind == "mcp_call":
            _said(item, "arguments", where, segments, labels)
        _item_extras(item, where, Role.TOOL, Provenance.UNTRUSTED, segments, labels,
                     frozenset({"output", "arguments"} if kind == "mcp_call" else {"output"}))
        return unscanned
    if kind in _PROPOSALS:  # the model's earlier words, sent back as history
        _said(item, _PROPOSALS[kind], where, segments, labels)
        _item_extras(item, where, Role.ASSISTANT, Provenance.TRUSTED, segments, labels,
                     frozenset({_PROPOSALS[kind]}))
        return 0
    if kind == "reasoning":
        for j, raw in enumerate(opt_list(item, "summary", where + ".")):
            part = as_object(raw, f"{where}.summary[{j}]")
            _said(part, "text", f"{where}.summary[{j}]", segments, labels)
            _item_extras(part, f"{where}.summary[{j}]", Role.ASSISTANT, Provenance.TRUSTED,
                         segments, labels, frozenset({"text"}))
        _item_extras(item, where, Role.ASSISTANT, Provenance.TRUSTED, segments, labels,
                     frozenset({"summary"}))
        return 0
    if kind != "message":
        return _other_item(item, kind, where, segments, labels)
    role = _ROLES.get(req_str(item, "role", where + "."))
    if role is None:
        raise BadRequest(f"'{where}.role' must be one of {sorted(_ROLES)}", param=where + ".role")
    _item_extras(item, where, role, Provenance.TRUSTED, segments, labels, frozenset({"content"}))
    content = item.get("content")
    if isinstance(content, str):
        segments.append(Segment(role, content, where + ".content", labels=labels))
        return 0
    if not isinstance(content, list):
        raise BadRequest(f"'{where}.content' must be a string or an array", param=where)
    return _parts(content, role, where, segments, labels)


def _item_extras(item: Mapping[str, Any], where: str, role: Role, provenance: Provenance,
                 segments: list[Segment], labels: frozenset[str], read: frozenset[str]) -> None:
    """The strings an item (or a reasoning summary's part) carries besides the fields its
    reader took (``read``): a provider's or a client's own field, an MCP call's error, read as
    the item's (a tool's output fields untrusted, as chat reads a message's other fields).
    Found 2026-11-28: such a field of a ``function_call_output`` went to the model judged by
    data protection only, not by the shield; and (tests/gateway/test_planted_injections.py)
    a reasoning summary part's own field, and a field one kind of item reads but another does
    not (a message's ``summary``)."""
    pieces: list[Piece] = called_name(item, where) if item.get("type") in _CALLS else []
    other_texts(item, read | {LABEL_FIELD}, where, pieces, fail=nested_too_deeply,
                skip=REQUEST_SKIP)
    segments.extend(Segment(role, text, source, provenance, labels) for source, text in pieces)


def _other_item(item: dict[str, Any], kind: str, where: str, segments: list[Segment],
                labels: frozenset[str]) -> int:
    """Any other item sent back as history (a hosted tool's call with its results: web or file
    search, code interpreter, a remote MCP server's tool list; a shell or computer action):
    every string but identifiers and images is read, untrusted (a tool's doing, not the
    user's words). What cannot be read counts unscanned: a reference to an item the provider
    keeps, a screenshot, a generated image."""
    if kind in _REFERENCES:
        return 1
    pieces: list[Piece] = []
    if kind == "mcp_list_tools":  # tool definitions: a parameter may be called "name"
        definition_texts(item.get("tools"), f"{where}.tools", pieces)
        other_texts(item, frozenset({LABEL_FIELD, "tools"}), where, pieces,
                    fail=nested_too_deeply)
    else:
        other_texts(item, frozenset({LABEL_FIELD}), where, pieces, fail=nested_too_deeply)
    unscanned = 0
    for source, text in pieces:
        if is_binary_data_url(text) or (kind in _IMAGES and source == f"{where}.result"):
            unscanned += 1
        else:
            segments.append(Segment(Role.TOOL, text, source, Provenance.UNTRUSTED, labels))
    return unscanned


_REFERENCES = frozenset({"item_reference"})
_IMAGES = frozenset({"image_generation_call"})  # its result: a base64 image
_TOOL_OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output",
                           "local_shell_call_output"})
_PROPOSALS = {"function_call": "arguments", "custom_tool_call": "input"}
_CALLS = frozenset({*_PROPOSALS, "mcp_call"})  # items that name the tool they called


def _tool_output(item: dict[str, Any], where: str, segments: list[Segment],
                 labels: frozenset[str]) -> int:
    """A tool's output, a text or an array of input parts; untrusted."""
    output = item.get("output")
    if output is None or isinstance(output, str):
        segments.append(Segment(Role.TOOL, output or "", where + ".output",
                                Provenance.UNTRUSTED, labels))
        return 0
    if not isinstance(output, list):
        raise BadRequest(f"'{where}.output' must be a string or an array of parts",
                         param=where + ".output")
    found: list[Segment] = []
    unscanned = _parts(output, Role.TOOL, where, found, labels, "output")
    segments.extend(dataclasses.replace(s, provenance=Provenance.UNTRUSTED) for s in found)
    return unscanned


def _said(item: Mapping[str, Any], name: str, where: str, segments: list[Segment],
          labels: frozenset[str]) -> None:
    text = opt_str(item, name, where + ".")
    if text:
        segments.append(Segment(Role.ASSISTANT, text, f"{where}.{name}", labels=labels))


def _parts(content: list[Any], role: Role, where: str, segments: list[Segment],
           labels: frozenset[str], field: str = "content") -> int:
    unscanned = 0
    for j, raw in enumerate(content):
        at = f"{where}.{field}[{j}]"
        part = as_object(raw, at)
        kind = req_str(part, "type", at + ".")
        if kind in _TEXT_PARTS:
            text = req_str(part, "text", at + ".")
            segments.append(Segment(role, text, at + ".text", labels=labels))
        elif kind == "input_file" and (attached := attached_text(part, at)):
            # an attached text file: someone else may have written it
            segments.append(Segment(role, *attached, Provenance.UNTRUSTED, labels))
        else:
            unscanned += 1
        # the part's other strings (as for chat: ``ztai.gateway.openai.chat``)
        # (a file's or an image's own ``text`` field is one: found 2026-11-28 by
        # tests/gateway/test_planted_injections.py, it was taken for the part's text, read)
        others = known_part_texts(part, at, at + ".text" if kind in _TEXT_PARTS else None) \
            if kind in _KNOWN_PARTS else unknown_part_texts(part, at)
        segments.extend(Segment(role, text, source, labels=labels) for source, text in others)
    return unscanned


# the parts whose content the reader above knows (an image, audio and a file other than a text
# file are not read, as for chat)
_KNOWN_PARTS = frozenset({*_TEXT_PARTS, "input_image", "input_file", "input_audio"})
