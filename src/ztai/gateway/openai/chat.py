"""``POST /v1/chat/completions``: messages become segments; the body is forwarded as is, with
the model renamed to the upstream's."""

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
from ztai.gateway.attachments import ENCODED
from ztai.gateway.catalog import Catalog
from ztai.gateway.openai.fields import (
    LABEL_FIELD,
    REQUEST_SKIP,
    answer_text,
    as_object,
    attached_text,
    called_name,
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
    req_list,
    req_str,
    unknown_part_texts,
    unlabelled,
    unread_segments,
)
from ztai.gateway.plan import Piece, Plan, usage_counts
from ztai.upstream.interface import Endpoint, UpstreamCall

MAX_MESSAGES = 4096
_ROLES = {"system": Role.SYSTEM, "developer": Role.DEVELOPER, "user": Role.USER,
          "assistant": Role.ASSISTANT, "tool": Role.TOOL, "function": Role.TOOL}


class ChatReader:
    def pieces(self, body: Mapping[str, Any]) -> list[Piece]:
        return _choice_pieces(body, "message")

    def delta_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        return _choice_pieces(data, "delta")

    def whole_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        return []  # a chat stream's text comes in increments

    def extra_pieces(self, data: Mapping[str, Any]) -> list[Piece]:
        # whole in each answer or event (a provider may repeat its citations in every chunk)
        return _extra_pieces(data)

    def usage(self, body: Mapping[str, Any]) -> dict[str, int]:
        return usage_counts(body)


def _choice_pieces(body: Mapping[str, Any], field: str) -> list[Piece]:
    """The texts of each choice's ``message`` (or ``delta``): its content, refusal, tool-call
    and legacy function-call arguments. Fails closed (``malformed_answer``) where the answer has
    another shape than a chat completion's: what cannot be read cannot be scanned, and must
    not reach the client unscanned."""
    pieces: list[Piece] = []
    choices = body.get("choices")
    if choices is None:
        return pieces
    if not isinstance(choices, list):
        raise malformed_answer("choices")
    for i, choice in enumerate(choices):
        where = f"choices[{i}].{field}"
        if not isinstance(choice, dict):
            raise malformed_answer(f"choices[{i}]")
        message = choice.get(field)
        if message is None:
            continue
        if not isinstance(message, dict):
            raise malformed_answer(where)
        for name in ("content", "refusal"):
            answer_text(message, name, f"{where}.{name}", pieces)
        calls = message.get("tool_calls")
        if calls is not None and not isinstance(calls, list):
            raise malformed_answer(f"{where}.tool_calls")
        for j, call in enumerate(calls or ()):
            if not isinstance(call, dict):
                raise malformed_answer(f"{where}.tool_calls[{j}]")
            for kind, text in (("function", "arguments"), ("custom", "input")):
                if call.get(kind) is not None:
                    _member(call[kind], text, f"{where}.tool_calls[{j}].{kind}", pieces)
            other_texts(call, _CALL_READ, f"{where}.tool_calls[{j}]", pieces)
        if message.get("function_call") is not None:  # the legacy function call
            _member(message["function_call"], "arguments", f"{where}.function_call", pieces)
        # anything else a provider puts in the message: reasoning, an audio transcript,
        # citations' addresses and titles
        other_texts(message, _MESSAGE_READ, where, pieces)
    return pieces


def _extra_pieces(body: Mapping[str, Any]) -> list[Piece]:
    """The texts an answer (or a stream event) carries beside its choices' messages: a
    provider's own fields at the top (citations, search results, a debug note) and beside each
    choice's ``message`` (or ``delta``). Found 2026-11-28: they reached the client unread, so
    a key there passed the answer's DLP."""
    pieces: list[Piece] = []
    other_texts(body, _ANSWER_READ, "", pieces)
    choices = body.get("choices")
    for i, choice in enumerate(choices if isinstance(choices, list) else ()):
        if isinstance(choice, dict):  # (a choice of another shape failed in _choice_pieces)
            other_texts(choice, _CHOICE_READ, f"choices[{i}]", pieces)
    return pieces


# an answer's fields read by _choice_pieces or naming something (besides ``NOT_TEXT``)
_ANSWER_READ = frozenset({"choices", "system_fingerprint", "service_tier"})
_CHOICE_READ = frozenset({"message", "delta", "finish_reason"})
_MESSAGE_READ = frozenset({"content", "refusal", "tool_calls", "function_call"})
# a request's fields read by the readers above, and the settings and identifiers passed on
# unread (``user``, ``safety_identifier`` and ``prompt_cache_key`` are the provider's keys for
# abuse monitoring and caching; a pseudonym there would break both); anything else is read by
# ``other_fields``
_KNOWN = frozenset({
    "model", "messages", "tools", "functions", "response_format", "prediction", "metadata",
    "stream", "stream_options", "n", "max_tokens", "max_completion_tokens", "temperature",
    "top_p", "frequency_penalty", "presence_penalty", "logit_bias", "logprobs", "top_logprobs",
    "seed", "tool_choice", "function_call", "parallel_tool_calls", "user", "safety_identifier",
    "prompt_cache_key", "prompt_cache_retention", "service_tier", "store", "reasoning_effort",
    "modalities", "audio", "web_search_options", "verbosity"})
_CALL_READ = frozenset({"function", "custom"})


def _member(node: Any, name: str, where: str, pieces: list[Piece]) -> None:
    """A proposed call's ``name`` text (its arguments or input), its tool's name (the model
    writes it: found 2026-11-28 by tests/gateway/test_planted_answers.py, a credential there
    reached the client) and anything else in it."""
    if not isinstance(node, dict):
        raise malformed_answer(where)
    answer_text(node, name, f"{where}.{name}", pieces)
    answer_text(node, "name", f"{where}.name", pieces)
    other_texts(node, frozenset({name}), where, pieces)


def translate_chat(body: bytes, catalog: Catalog, exchange_id: ExchangeId) -> Plan:
    request = parse_object(body)
    model = req_str(request, "model")
    messages = req_list(request, "messages", MAX_MESSAGES)
    stream = opt_bool(request, "stream")
    stream_options = opt_object(request, "stream_options")
    asked_usage = opt_bool(stream_options, "include_usage", "stream_options.")
    tools = opt_list(request, "tools")
    segments, unscanned = _segments(messages)
    segments.extend(_prediction(request))
    segments.extend(Segment(Role.DEVELOPER, text, source, definition=True)
                    for source, text in definitions(request))
    segments.extend(Segment(Role.DEVELOPER, text, source, unread=True)
                    for source, text in metadata(request))
    segments.extend(unread_segments(request, _KNOWN, segments))
    target = catalog.route(model)
    exchange = Exchange(
        id=exchange_id,
        route="chat.completions",
        action=Action.INVOKE_MODEL,
        resource=Resource(ResourceKind.MODEL, model),
        segments=tuple(segments),
        stream=stream,
        signals={"unscanned_parts": unscanned, "tools": len(tools),
                 "messages": len(messages)},
    )
    forwarded = {**request, "model": target.upstream_model, "messages": unlabelled(messages)}
    if stream:  # every streamed token is counted (agent budgets), asked for or not
        forwarded["stream_options"] = {**stream_options, "include_usage": True}
    call = UpstreamCall(Endpoint.CHAT, forwarded, stream)
    return Plan(exchange, ChatReader(), call, target, context=hosted_tools(request),
                hidden_usage=stream and not asked_usage, choices=_choices(request))


def _segments(messages: list[Any]) -> tuple[list[Segment], int]:
    segments: list[Segment] = []
    unscanned = 0
    for i, raw in enumerate(messages):
        where = f"messages[{i}]."
        message = as_object(raw, f"messages[{i}]")
        role = _ROLES.get(req_str(message, "role", where))
        if role is None:
            raise BadRequest(f"'{where}role' must be one of {sorted(_ROLES)}", param=where + "role")
        name = opt_str(message, "name", where)
        provenance = Provenance.UNTRUSTED if role is Role.TOOL else Provenance.TRUSTED
        labels = label_of(message, where)
        if name:  # the participant's name: the model reads it with the message
            segments.append(Segment(role, name, where + "name", provenance, labels))
        for text, source in _content(message.get("content"), where):
            if text is None:
                unscanned += 1
            else:  # an attached file: someone else may have written it
                segments.append(Segment(role, text, source, Provenance.UNTRUSTED
                                        if source.endswith(ENCODED) else provenance, labels))
        # what its tool calls carry, and any other text the message carries (a refusal, the
        # legacy function call's arguments, reasoning sent back as history) go to the model too
        extra = _tool_calls(message, where)
        other_texts(message, _REQUEST_READ, f"messages[{i}]", extra, fail=nested_too_deeply,
                    skip=REQUEST_SKIP)
        segments.extend(Segment(role, text, source, provenance, labels)
                        for source, text in extra)
    return segments, unscanned


_REQUEST_READ = frozenset({"content", "tool_calls", LABEL_FIELD})


def _content(content: Any, where: str) -> list[tuple[str | None, str]]:
    """Text pieces of a message and its text file attachments; None for a part that cannot
    be scanned (an image, audio, a PDF)."""
    if content is None or isinstance(content, str):
        return [] if not content else [(content, where + "content")]
    if not isinstance(content, list):
        raise BadRequest(f"'{where}content' must be a string or an array of parts",
                         param=where + "content")
    pieces: list[tuple[str | None, str]] = []
    for j, raw in enumerate(content):
        at = f"{where}content[{j}]"
        part = as_object(raw, at)
        kind = req_str(part, "type", at + ".")
        if kind in ("text", "refusal"):
            pieces.append((req_str(part, kind, at + "."), f"{at}.{kind}"))
        elif kind == "file" and isinstance(part.get("file"), dict) and (
                attached := attached_text(part["file"], f"{at}.file")):
            pieces.append(attached)
        else:
            pieces.append((None, at))
        # the part's other strings: a file's name, the audio's format, a client's additions
        others = known_part_texts(part, at, f"{at}.{kind}") if kind in _KNOWN_PARTS \
            else unknown_part_texts(part, at)
        pieces += [(text, source) for source, text in others]
    return pieces


# the parts whose content the reader above knows (an image, audio and a file other than a text
# file are not read; an image's address is left as it is: a presigned one would break)
_KNOWN_PARTS = frozenset({"text", "refusal", "image_url", "input_audio", "file"})


def _tool_calls(message: Mapping[str, Any], where: str) -> list[Piece]:
    """What the message's tool calls carry, at their paths: each call's arguments (or a custom
    tool's input), the name of the tool it called (``fields.called_name``; the legacy
    ``function_call``'s too) and any field a client or provider added to a call (found
    2026-11-28 by tests/gateway/test_planted_injections.py: such a name or field went to the
    model judged by data protection only)."""
    pieces = called_name(message.get("function_call"), f"{where}function_call")
    calls = message.get("tool_calls")
    if calls is None:
        return pieces
    if not isinstance(calls, list):
        raise BadRequest(f"'{where}tool_calls' must be an array", param=where + "tool_calls")
    for j, raw in enumerate(calls):
        at = f"{where}tool_calls[{j}]"
        call = as_object(raw, at)
        for kind, read in (("function", "arguments"), ("custom", "input")):
            member = opt_object(call, kind, f"{at}.")
            text = opt_str(member, read, f"{at}.{kind}.")
            if text:
                pieces.append((f"{at}.{kind}.{read}", text))
            pieces += called_name(member, f"{at}.{kind}")
            other_texts(member, frozenset({read}), f"{at}.{kind}", pieces,
                        fail=nested_too_deeply, skip=REQUEST_SKIP)
        other_texts(call, _CALL_READ, at, pieces, fail=nested_too_deeply, skip=REQUEST_SKIP)
    return pieces


def _choices(request: Mapping[str, Any]) -> int:
    n = request.get("n")
    if n is None:
        return 1
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise BadRequest("'n' must be a positive integer", param="n")
    return n


def _prediction(request: Mapping[str, Any]) -> list[Segment]:
    """A predicted output's text (sent to the model like a prompt)."""
    prediction = opt_object(request, "prediction")
    if "content" not in prediction:
        return []
    segments = []
    for text, source in _content(prediction["content"], "prediction."):
        if text is None or source.endswith(ENCODED):
            raise BadRequest(f"'{source.removesuffix(ENCODED)}' must be a text part",
                             param=source.removesuffix(ENCODED))
        segments.append(Segment(Role.USER, text, source))
    return segments
