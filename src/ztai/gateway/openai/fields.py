"""Typed reads of untrusted JSON. Each failure is a ``BadRequest`` naming the field."""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

from ztai.core.errors import BadRequest, UpstreamError
from ztai.core.model import Role, Segment
from ztai.gateway.attachments import ENCODED, decoded_text, is_binary_data_url
from ztai.gateway.openai.paths import KEYS, NAMES, step


def parse_object(body: bytes) -> dict[str, Any]:
    """Parse a request body that must be one JSON object (UTF-8)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"request body is not valid UTF-8 JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise BadRequest("request body must be a JSON object")
    return value


def req_str(obj: Mapping[str, Any], name: str, where: str = "") -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"'{where}{name}' is required and must be a non-empty string",
                         param=f"{where}{name}")
    return value


def opt_str(obj: Mapping[str, Any], name: str, where: str = "") -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"'{where}{name}' must be a string", param=f"{where}{name}")
    return value


def opt_bool(obj: Mapping[str, Any], name: str, where: str = "") -> bool:
    value = obj.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest(f"'{where}{name}' must be a boolean", param=f"{where}{name}")
    return value


def opt_object(obj: Mapping[str, Any], name: str, where: str = "") -> dict[str, Any]:
    value = obj.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(f"'{where}{name}' must be an object", param=f"{where}{name}")
    return value


def req_list(obj: Mapping[str, Any], name: str, limit: int, where: str = "") -> list[Any]:
    value = obj.get(name)
    if not isinstance(value, list) or not value:
        raise BadRequest(f"'{where}{name}' is required and must be a non-empty array",
                         param=f"{where}{name}")
    if len(value) > limit:
        raise BadRequest(f"'{where}{name}' has more than {limit} items", param=f"{where}{name}")
    return value


def opt_list(obj: Mapping[str, Any], name: str, where: str = "") -> list[Any]:
    value = obj.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"'{where}{name}' must be an array", param=f"{where}{name}")
    return value


def malformed_answer(where: str) -> UpstreamError:
    """The model's answer has another shape than its API's at ``where``: what cannot be read
    cannot be scanned, and is not passed on (502)."""
    return UpstreamError(f"the model's answer has an unexpected shape at {where!r}; not passed "
                         "on unscanned", code="upstream_bad_response")


def answer_text(node: Mapping[str, Any], name: str, where: str,
                pieces: list[tuple[str, str]]) -> None:
    """Add ``node[name]`` to ``pieces`` at ``where`` when it is a text; absent or null is no
    text; anything else is a malformed answer."""
    value = node.get(name)
    if isinstance(value, str):
        pieces.append((where, value))
    elif value is not None:
        raise malformed_answer(where)


# Keys whose values in a model's answer are identifiers (these and every ``*_id``),
# enumerations, tool names, positions or opaque data (base64 audio and images, encrypted
# reasoning, a stream's random padding): not text a reader sees or a tool acts on, and not
# scanned as such.
NOT_TEXT = frozenset({
    "id", "type", "object", "status", "role", "name", "index", "server_label", "model",
    "sequence_number", "output_index", "content_index", "summary_index", "created",
    "created_at", "expires_at", "encrypted_content", "signature", "obfuscation", "data",
    "b64_json", "partial_image_b64", "logprobs"})


@dataclass(frozen=True, slots=True)
class Skip:
    """The keys ``other_texts`` passes over; with ``scalars_only``, only where they hold no
    object or array (a request's ``type`` or ``id`` that is an object carries text)."""

    keys: frozenset[str]
    scalars_only: bool = False


ANSWER_SKIP = Skip(NOT_TEXT)
# In a request's message or item, ``data`` is no base64 (parts hold that, read apart): a field
# a client or provider added, which the model reads with the message; and a kind or an
# identifier sent as an object or array holds text too. Found 2026-11-28 by
# tests/gateway/test_planted_injections.py: an injection in a Responses item's ``data`` field,
# or in an object under a chat message's ``type``, reached the model unjudged.
REQUEST_SKIP = Skip(NOT_TEXT - {"data"}, scalars_only=True)
MAX_ANSWER_DEPTH = 32


def other_texts(node: Mapping[str, Any], read: frozenset[str], where: str,
                pieces: list[tuple[str, str]], depth: int = 0,
                fail: Callable[[str], Exception] = malformed_answer,
                skip: Skip = ANSWER_SKIP) -> None:
    """Every string under ``node`` outside the keys already ``read`` and those ``skip`` names
    (and every ``*_id``), at its path: what an answer carries besides the fields its reader
    knows (a reasoning text, an audio transcript, a hosted tool's code, logs or output, a
    citation's address) is scanned too, never passed on unread."""
    if depth >= MAX_ANSWER_DEPTH:
        raise fail(where)
    for key, value in node.items():
        if key in read or ((key in skip.keys or key.endswith("_id")) and not (
                skip.scalars_only and isinstance(value, dict | list))):
            continue
        _texts(value, (where + step(key)).removeprefix("."), pieces, depth + 1, fail, skip)


def texts_in(value: Any, where: str, pieces: list[tuple[str, str]]) -> None:
    """Every string in ``value`` (itself, or under it outside ``NOT_TEXT``), at its path."""
    _texts(value, where, pieces, 0, malformed_answer, ANSWER_SKIP)


def _texts(value: Any, where: str, pieces: list[tuple[str, str]], depth: int,
           fail: Callable[[str], Exception], skip: Skip) -> None:
    if isinstance(value, str):
        if value:  # an empty one carries nothing, and would make a stream event unsplittable
            pieces.append((where, value))
    elif isinstance(value, dict):
        other_texts(value, frozenset(), where, pieces, depth, fail, skip)
    elif isinstance(value, list):
        if depth >= MAX_ANSWER_DEPTH:
            raise fail(where)
        for i, item in enumerate(value):
            _texts(item, f"{where}[{i}]", pieces, depth + 1, fail, skip)


def called_name(call: Any, where: str) -> list[tuple[str, str]]:
    """The name of the tool an earlier call in the history named (chat's ``tool_calls[j]``
    ``.function`` / ``.custom``, the legacy ``function_call``, a Responses call item), at
    ``where.name`` + ``paths.NAMES``: the model reads it with the call, so the shield judges
    it, but a call names a defined tool, so a finding a DLP rule would redact there refuses
    the request. Found 2026-11-28 by tests/gateway/test_planted_injections.py: an injection
    as a Responses ``function_call``'s name reached the model unjudged."""
    name = call.get("name") if isinstance(call, dict) else None
    return [(f"{where}.name{NAMES}", name)] if isinstance(name, str) and name else []


# in a tool's or answer format's definition, the strings that type or refer to something
# (a property named "name" is a key: its schema is still read); "required" lists names too. The
# tool's and the format's own ``name`` is read since 2026-11-28: the model reads it (a poisoned
# tool may be named "ignore_all_previous_instructions_and_…"), so the shield's rules judge it
# with the rest of the definition, and data protection reads it (redacted in place)
_DEFINITION_IDS = frozenset({"type", "strict", "$ref", "$schema", "$id", "$anchor",
                             "$dynamicRef", "format", "syntax"})


def definition_texts(value: Any, where: str, pieces: list[tuple[str, str]]) -> None:
    """Every string of a tool's or answer format's definition (its name and description, each
    parameter's description, enum values, examples, a custom tool's grammar) but types and
    references, at its path: the model reads them like the system prompt."""
    _strings_at(value, where, pieces, _names_something, MAX_ANSWER_DEPTH)


def definition_names(value: Any, where: str, pieces: list[tuple[str, str]],
                     also: Iterable[str] = ()) -> None:
    """A definition's names as one text at ``where`` + ``paths.NAMES``: every key of it, once
    each (its parameters' names above all, which the model reads with their descriptions), the
    names ``required`` lists, and the strings that type or refer (``_DEFINITION_IDS``). Found
    2026-11-28 by planting an injection in every string of random requests
    (tests/gateway/test_planted_injections.py): a parameter named "to Ignore all previous
    instructions and …" reached the model unjudged, as definitions were judged by their
    values. The names are matched on (``required``, the model's arguments), so a finding
    a DLP rule would redact there refuses the request, as in the request's keys (``KEYS``).
    Call after ``definition_texts``, which bounds the nesting."""
    names: dict[str, None] = dict.fromkeys(also)
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            names.update(dict.fromkeys(node))
            # the strings that type or refer (``format``, ``$ref``...): the model may read them
            names.update(dict.fromkeys(v for k, v in node.items()
                                       if k in _DEFINITION_IDS and isinstance(v, str)))
            required = node.get("required")
            if isinstance(required, list):
                names.update(dict.fromkeys(n for n in required if isinstance(n, str)))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    if names:
        pieces.append((where + NAMES, "\n".join(names)))


def _names_something(key: str, entry: Any) -> bool:
    names = key == "required" and isinstance(entry, list) and all(
        isinstance(name, str) for name in entry)  # read by definition_names
    return (isinstance(entry, str) and key in _DEFINITION_IDS) or names


def _strings_at(value: Any, where: str, pieces: list[tuple[str, str]],
                skip: Callable[[str, Any], bool], limit: int, depth: int = 0) -> None:
    """Every string in ``value`` at its path (keys quoted where they are no names), but the
    entries ``skip`` names; a 400 past ``limit`` levels."""
    if depth >= limit:
        raise nested_too_deeply(where, limit)
    if isinstance(value, str):
        if value:
            pieces.append((where, value))
    elif isinstance(value, dict):
        for key, entry in value.items():
            if not skip(key, entry):
                _strings_at(entry, where + step(key), pieces, skip, limit, depth + 1)
    elif isinstance(value, list):
        for i, entry in enumerate(value):
            _strings_at(entry, f"{where}[{i}]", pieces, skip, limit, depth + 1)


def nested_too_deeply(where: str, limit: int = MAX_ANSWER_DEPTH) -> BadRequest:
    return BadRequest(f"'{where}' is nested more than {limit} levels deep", param=where)


def as_object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"'{where}' must be an object", param=where)
    return value


def attached_text(file: Mapping[str, Any], where: str) -> tuple[str, str] | None:
    """A file part's text (``file_data``, base64, named by ``filename``) at the path its
    redaction is written back to, where it is a UTF-8 text file; None otherwise (a PDF, an
    image, a file given by id or address: counted unscanned)."""
    data, name = file.get("file_data"), file.get("filename")
    if not isinstance(data, str):
        return None
    text = decoded_text(data, None, name if isinstance(name, str) else None)
    return None if text is None else (text, f"{where}.file_data{ENCODED}")


LABEL_FIELD = "ztai_label"  # a message's (or input item's) sensitivity label, e.g. on tool results


def label_of(item: Mapping[str, Any], where: str) -> frozenset[str]:
    """The label a message carries in ``ztai_label`` (a label name or an external label id,
    checked against the configured scheme by the classify stage)."""
    value = item.get(LABEL_FIELD)
    if value is None:
        return frozenset()
    if not isinstance(value, str) or not value or len(value) > 128:
        raise BadRequest(f"'{where}{LABEL_FIELD}' must be a label name of 1 to 128 characters",
                         param=where + LABEL_FIELD)
    return frozenset({value})


def unlabelled(items: list[Any]) -> list[Any]:
    """``items`` without ztai's own ``ztai_label`` fields, which upstreams do not know."""
    if not any(isinstance(i, dict) and LABEL_FIELD in i for i in items):
        return items
    return [{k: v for k, v in i.items() if k != LABEL_FIELD} if isinstance(i, dict) else i
            for i in items]


def definitions(request: Mapping[str, Any],
                hosted: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """What the model is told about its tools and the answer's format, at their paths: the
    client's function and custom tools (chat's ``tools[i].function`` / ``.custom``, the
    Responses tool itself), chat's legacy ``functions``, a remote MCP server's description,
    a tool of a kind the route does not know (every kind but ``hosted``, the provider's own
    tools), and the answer's schema (chat ``response_format``, Responses ``text.format``)."""
    pieces: list[tuple[str, str]] = []
    for i, raw in enumerate(opt_list(request, "tools")):
        tool = as_object(raw, f"tools[{i}]")
        kind = tool.get("type")
        kind = kind if isinstance(kind, str) else None  # (another type's strings are read)
        if kind == "mcp" and kind in hosted:
            description = tool.get("server_description")
            definition_texts(description, f"tools[{i}].server_description", pieces)
            definition_names(description, f"tools[{i}].server_description", pieces)
        elif kind in ("function", "custom") or kind not in hosted:
            # a tool of a kind ztai does not know may be shown to the model: judged whole, its
            # kind with its names (found 2026-11-28 by test_planted_injections.py)
            definition_texts(tool, f"tools[{i}]", pieces)
            definition_names(tool, f"tools[{i}]", pieces,
                             () if kind in (None, "function", "custom") else (kind,))
    for i, raw in enumerate(opt_list(request, "functions")):
        definition_texts(raw, f"functions[{i}]", pieces)
        definition_names(raw, f"functions[{i}]", pieces)
    definition_texts(request.get("response_format"), "response_format", pieces)
    definition_names(request.get("response_format"), "response_format", pieces)
    text = request.get("text")
    if isinstance(text, dict):
        definition_texts(text.get("format"), "text.format", pieces)
        definition_names(text.get("format"), "text.format", pieces)
    return pieces


# the Responses API's tools the provider runs itself, configured by settings the model does
# not read (a remote MCP server's description excepted); chat has none (its web search is
# ``web_search_options``)
HOSTED_KINDS = frozenset({
    "web_search", "web_search_preview", "web_search_preview_2025_03_11", "file_search",
    "code_interpreter", "computer_use_preview", "computer_use", "image_generation",
    "local_shell", "shell", "apply_patch", "mcp"})
MAX_METADATA_DEPTH = 9  # levels below ``metadata`` itself (its values are at level 1)


def metadata(request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The strings of the request's ``metadata``, at their paths. The model does not read
    them, but the provider keeps them with the request (and shows them in its dashboard), so
    data protection reads them like the prompt: a key put there must not reach the provider
    unmasked. Keys are names the client chose; values of any JSON shape are read."""
    value = request.get("metadata")
    if value is None:
        return []
    pieces: list[tuple[str, str]] = []
    _strings_at(as_object(value, "metadata"), "metadata", pieces, _nothing, MAX_METADATA_DEPTH)
    return pieces


def unread_segments(request: Mapping[str, Any], known: frozenset[str],
                    read: Iterable[Segment] = ()) -> list[Segment]:
    """What a request sends the provider besides what its route reads (``read``: the segments
    it made), for data protection only (the model may not read it; the shield does not judge
    it): the strings of the fields ``known`` does not name (``other_fields``), and the
    request's keys with the strings no segment holds as one text (``unread_text``)."""
    others = [Segment(Role.DEVELOPER, text, source, unread=True)
              for source, text in (*other_fields(request, known), *user_location(request))]
    sources = {segment.source.removesuffix(NAMES) for segment in (*read, *others)}
    return [*others, Segment(Role.DEVELOPER, unread_text(request, sources), KEYS, unread=True)]


def user_location(request: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The strings of the user's location given to the provider's web search (chat's
    ``web_search_options.user_location``, a Responses ``web_search`` tool's), at their paths:
    personal data, read by data protection and redacted in place like ``metadata`` (a city
    pseudonymised for a consumer-tier model still reads as a place to the search)."""
    pieces: list[tuple[str, str]] = []
    places = [("web_search_options", request.get("web_search_options"))]
    tools = request.get("tools")
    if isinstance(tools, list):
        places += [(f"tools[{i}]", tool) for i, tool in enumerate(tools)]
    for where, holder in places:
        if isinstance(holder, dict) and isinstance(holder.get("user_location"), dict):
            _strings_at(holder["user_location"], f"{where}.user_location", pieces, _is_type,
                        MAX_METADATA_DEPTH)
    return pieces


def other_fields(request: Mapping[str, Any], known: frozenset[str]) -> list[tuple[str, str]]:
    """The strings under the request's top-level fields that ``known`` does not name (those
    read elsewhere, and the settings and identifiers passed on as they are), at their paths.
    Found 2026-11-28: a field ztai does not know (``"x-notes": "key AKIA…"``, a provider's
    own extension) went to the provider unread; data protection reads it now like
    ``metadata``."""
    pieces: list[tuple[str, str]] = []
    for key, value in request.items():
        if key not in known:
            _strings_at(value, step(key).removeprefix("."), pieces, _nothing, MAX_ANSWER_DEPTH)
    return pieces


def unknown_part_texts(part: Mapping[str, Any], where: str) -> list[tuple[str, str]]:
    """The strings of a content part of a type ztai does not know, at their paths, but its
    ``type`` and binary ``data:`` URLs (``is_binary_data_url``). Found 2026-11-28: such a
    part (``{"type": "input_text", "text": …}`` sent to chat, a provider's own part type)
    counted as unscanned and went to the provider unread, so a key in it reached a model that
    takes such parts unmasked. The part still counts as unscanned: what the provider makes of
    it is unknown."""
    pieces: list[tuple[str, str]] = []
    _strings_at(part, where, pieces, _is_type, MAX_ANSWER_DEPTH)
    return [(path, text) for path, text in pieces if not is_binary_data_url(text)]


def known_part_texts(part: Mapping[str, Any], where: str,
                     read: str | None = None) -> list[tuple[str, str]]:
    """The strings of a content part of a known type besides its text (at ``read``, which its
    route reads) and its content and address (``is_content``: an image's URL, audio data, a
    file's data and id): a file's name, the audio's format, an image's detail, an answer's
    annotations, anything a client adds. The model may read them (a file's name) and the
    provider receives them; found 2026-11-28 by tests/gateway/test_planted_secrets.py, a
    credential in a file's name, an audio part's format or a field added to an image's
    ``image_url`` reached the provider unmasked."""
    pieces: list[tuple[str, str]] = []
    _strings_at(part, where, pieces, _is_type, MAX_ANSWER_DEPTH)
    return [(path, text) for path, text in pieces if path != read and not is_content(path)]


# where a part or item holds content or an address no detector reads (an image's address is
# left as it is: a presigned one carries a credential by design; audio and file data; a file's
# id; a reasoning item's encrypted content); a Responses ``image_url`` is the address itself
_CONTENT_AT = (".image_url.url", ".input_audio.data", ".audio.data", ".file_data", ".file_url",
               ".file_id", ".encrypted_content", ".image_url")


def is_content(path: str) -> bool:
    """Whether the string at ``path`` is content or an address no detector reads, by where it
    is (a field of the same name elsewhere, a message's own ``data``, is read)."""
    return path.endswith(_CONTENT_AT)


def _is_type(key: str, entry: Any) -> bool:
    """A part's kind, as the string it is: an object or array under ``type`` holds text
    (found 2026-11-28 by tests/gateway/test_planted_injections.py, unjudged in an image's
    ``image_url``)."""
    return key == "type" and isinstance(entry, str)


def unread_text(request: Mapping[str, Any], read: Container[str]) -> str:
    """What data protection reads of a request as one text (``paths.KEYS``), a line each:
    every key of every object, once each, then every string no segment holds (its path is not
    in ``read``) but identifiers, content (``is_content``) and what is passed on by design
    (``_passed_on``).

    Keys: the provider receives them as it receives values, and a client may use any string as
    a key (in ``metadata``, a tool's parameters, a field the gateway does not know): found
    2026-11-28, ``"metadata": {"AKIA…": "v"}`` reached the provider unmasked with data
    protection on. Strings: a tool's name where it is defined, chosen or called, an answer
    schema's name, a field a client or provider adds to a message, an item or a part
    (``cache_control``...), a setting; found 2026-11-28 by
    tests/gateway/test_planted_secrets.py, a credential in a tool's name, a reasoning
    summary's extra field or a predicted output's reached the provider unmasked, as each route
    read the fields it knew and passed the rest on. Both are matched on (a call names a defined
    tool) or mean what ztai cannot tell, so they are read but never rewritten: what a rule
    would redact there refuses the request."""
    keys: dict[str, None] = {}
    strings: list[str] = []
    # (node, its path, whether its strings are passed on): no recursion, the parser's nesting
    # limit is the only bound
    stack: list[tuple[Any, str, bool]] = [(request, "", False)]
    while stack:
        node, at, passed = stack.pop()
        if isinstance(node, dict):
            keys.update(dict.fromkeys(node))
            entries: Iterable[tuple[str | int, Any]] = node.items()
        else:
            entries = enumerate(node)
        for key, value in entries:
            if isinstance(key, int):
                path, skip = f"{at}[{key}]", passed
            else:
                path = f"{at}{step(key)}" if at else step(key).removeprefix(".")
                skip = passed or _passed_on(key, at, value)
            if isinstance(value, str):
                # a data: URL too, whatever it holds: here it is no part counted unscanned
                if value and not skip and path not in read and not is_content(path):
                    strings.append(value)
            elif isinstance(value, dict | list):
                stack.append((value, path, skip))
    return "\n".join((*keys, *strings))


# what unread_text passes on besides content (``is_content``): identifiers (the provider's, or
# matched on: masking one breaks the conversation), and at the top the
# provider's keys for abuse monitoring and caching (a pseudonym there would break both) and
# the model's name
_IDENTIFIERS = frozenset({"id", "conversation"})
_TOP_PASSED_ON = frozenset({"model", "user", "safety_identifier", "prompt_cache_key"})


def _passed_on(key: str, at: str, value: Any) -> bool:
    """Identifiers, and the top's keys for abuse monitoring and caching, as the strings they
    are: an object or array there is read (found 2026-11-28 by sending random bodies, a
    ``user`` or an ``id`` sent as an object passed with a credential inside)."""
    return isinstance(value, str) and (
        key in _IDENTIFIERS or key.endswith("_id") or (not at and key in _TOP_PASSED_ON))


def _nothing(key: str, entry: Any) -> bool:
    return False


def hosted_tools(request: Mapping[str, Any]) -> dict[str, object]:
    """What a request lets the provider do by itself with the conversation: the kinds of hosted
    tools it enables (``mcp``, ``web_search``, ``code_interpreter``...; the client's own
    ``function`` and ``custom`` tools are judged when proposed) and the hosts of the remote MCP
    servers it names, for policies (``hosted_tools``, ``hosted_servers``); and
    ``untrusted_content`` where one of them reads outside content (web search, file search, a
    remote MCP server, code interpreter)."""
    kinds: set[str] = set()
    servers: set[str] = set()
    for i, raw in enumerate(opt_list(request, "tools")):
        tool = as_object(raw, f"tools[{i}]")
        kind = req_str(tool, "type", f"tools[{i}].")
        if kind in ("function", "custom"):
            continue
        kinds.add(kind)
        url = opt_str(tool, "server_url", f"tools[{i}].")
        if url is not None:
            host = urlsplit(url).hostname
            if not host:
                raise BadRequest(f"'tools[{i}].server_url' must be a URL with a host",
                                 param=f"tools[{i}].server_url")
            servers.add(host.lower().rstrip("."))
    if request.get("web_search_options") is not None:  # chat's hosted search
        kinds.add("web_search")
    found: dict[str, object] = {"hosted_tools": tuple(sorted(kinds)),
                                "hosted_servers": tuple(sorted(servers))}
    if kinds - _NO_OUTSIDE_CONTENT:
        # the provider may put web pages, files or a remote server's output before the model
        # within this answer, unseen by ztai: what the model proposes next is judged as after
        # untrusted content (the rule of two)
        found["untrusted_content"] = True
    return found


# hosted tools that bring no outside content into the answer: an image generator, and the
# tools the client runs itself (their outputs come back later, read as untrusted then). Any
# other kind, a future one included, counts as reading outside content.
_NO_OUTSIDE_CONTENT = frozenset({"image_generation", "local_shell", "shell", "apply_patch",
                                 "computer_use_preview", "computer_use"})
