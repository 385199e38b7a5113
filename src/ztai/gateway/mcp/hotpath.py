"""The hot ``tools/call`` on ztai's own endpoint, answered without the SDK server's per-request
machinery (its request/connection/runner objects, middleware chain and response classes).

Only a request the SDK would take the same way qualifies: a 2026-07-28 POST (no session) with
a JSON body and ``Accept`` that passes the SDK's own checks, in order: the JSON-RPC envelope,
no duplicated routing header, the protocol ladder (``classify_inbound_request``), the
``Mcp-Param-*`` headers against the tool's last listed schema, and the ``tools/call`` params
for that protocol version. Anything else, every error of those checks included, is handed to
the SDK unchanged (:func:`read_call` returns None) and answered there. A qualifying call is
answered as the SDK answers it: the result shaped for the protocol version with the
``serverInfo`` stamp, or a JSON-RPC error with the SDK's status table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import mcp_types as types
import orjson
from mcp.server.runner import modern_error_data
from mcp.shared.inbound import (
    ERROR_CODE_HTTP_STATUS,
    MCP_PARAM_HEADER_PREFIX,
    InboundModernRoute,
    classify_inbound_request,
    find_duplicated_routing_header,
    validate_mcp_param_headers,
)
from mcp_types import SERVER_INFO_META_KEY
from mcp_types import methods as _methods
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from ztai.gateway.mcp.wire import ACCEPT

_PARAM_PREFIX = MCP_PARAM_HEADER_PREFIX.lower()
_HUGE = float(2**63)
_JSON = "application/json"
_HEADERS = [(b"content-type", b"application/json")]
InputSchema = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class HotCall:
    request_id: str | int
    version: str
    params: types.CallToolRequestParams


def candidate(scope: Scope, headers: Headers, max_body_bytes: int) -> bool:
    """Worth reading the body for: a sessionless POST at a 2026-07-28 version, a JSON body
    of a declared size within the limit, and an ``Accept`` naming JSON."""
    if scope["method"] != "POST" or "mcp-session-id" in headers:
        return False
    if headers.get("mcp-protocol-version") not in MODERN_PROTOCOL_VERSIONS:
        return False
    if not headers.get("content-type", "").lower().startswith(_JSON):
        return False
    declared = headers.get("content-length", "")
    if not (declared.isascii() and declared.isdigit()) or int(declared) > max_body_bytes:
        return False
    return _accepts_json(headers.get("accept", ""))


def _accepts_json(accept: str) -> bool:
    """The SDK's rule (``check_accept_headers``: JSON, ``application/*`` or ``*/*``)."""
    if accept == ACCEPT:
        return True
    kinds = [part.strip().split(";")[0].strip().lower() for part in accept.split(",")]
    return any(kind in (_JSON, "application/*", "*/*") for kind in kinds)


async def read_body(receive: Receive, limit: int) -> tuple[bytes | None, list[Message]]:
    """The whole body (None where it ended otherwise: a disconnect, more than ``limit``
    bytes) and the messages read for it, for the SDK to replay when it answers."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        size += len(message.get("body", b""))
        if size > limit:
            return None, messages
        if not message.get("more_body", False):
            break
    if len(messages) == 1:
        return messages[0].get("body", b""), messages
    return b"".join(m.get("body", b"") for m in messages), messages


def replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` as if nothing had been read yet."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def read_call(body: bytes, headers: Headers, input_schema: InputSchema) -> HotCall | None:
    """The ``tools/call`` the SDK would dispatch for this request, or None: the SDK answers."""
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not _request_envelope(decoded):
        return None
    if find_duplicated_routing_header(headers.items()) is not None:
        return None
    route = classify_inbound_request(decoded, headers=dict(headers))
    if not isinstance(route, InboundModernRoute):
        return None
    params: dict[str, Any] = decoded.get("params") or {}
    name, arguments = params.get("name"), params.get("arguments")
    if not isinstance(name, str) or (arguments is not None and not isinstance(arguments, dict)):
        return None
    if arguments and _holds_huge_number(arguments):
        return None  # orjson read an integer beyond 64 bits as a float: the SDK keeps it
    if arguments or any(key.startswith(_PARAM_PREFIX) for key in headers):
        schema = input_schema(name)
        if schema is not None and validate_mcp_param_headers(schema, arguments or {},
                                                             headers) is not None:
            return None
    try:
        _methods.validate_client_request("tools/call", route.protocol_version, params)
        typed = types.CallToolRequestParams.model_validate(params, by_name=False)
    except (ValidationError, KeyError, ValueError):
        return None
    return HotCall(decoded["id"], route.protocol_version, typed)


def _holds_huge_number(value: Any) -> bool:
    """Whether a float of 2**63 or more (in magnitude) is anywhere in ``value``: where orjson
    met an integer too large for 64 bits (it reads those as floats, and the SDK as integers),
    or a float written that large."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            if not abs(item) < _HUGE:  # NaN cannot come from JSON; inf can ("1e999")
                return True
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _request_envelope(decoded: Any) -> bool:
    """A ``tools/call`` the SDK's ``JSONRPCRequest`` accepts (checked strictly: an id of another
    type, which the SDK may accept or refuse, goes to the SDK)."""
    return isinstance(decoded, dict) and decoded.get("jsonrpc") == "2.0" \
        and decoded.get("method") == "tools/call" and type(decoded.get("id")) in (int, str) \
        and isinstance(decoded.get("params", {}), dict | None)


def result_message(call: HotCall, result: Mapping[str, Any],
                   server_info: Callable[[], dict[str, Any]]) -> tuple[int, bytes]:
    """The JSON-RPC response carrying ``result`` (a ``CallToolResult`` in wire form), shaped
    as the SDK's runner shapes it: validated against the version's result surface and dumped
    from it, ``resultType``, the ``serverInfo`` stamp."""
    try:
        # the result model's default, as the SDK path has it from ``CallToolResult``
        shaped = result if "resultType" in result else {**result, "resultType": "complete"}
        dumped = _methods.serialize_server_result("tools/call", call.version, shaped)
    except ValidationError:
        return error_message(call, types.ErrorData(code=types.INTERNAL_ERROR,
                                                   message="Handler returned an invalid result"))
    if dumped.get("resultType") is None:
        dumped["resultType"] = "complete"
    meta = dumped.get("_meta")
    if meta is None:
        dumped["_meta"] = {SERVER_INFO_META_KEY: server_info()}
    elif isinstance(meta, dict) and meta.get(SERVER_INFO_META_KEY) is None:
        dumped["_meta"] = {**meta, SERVER_INFO_META_KEY: server_info()}
    return 200, orjson.dumps({"jsonrpc": "2.0", "id": call.request_id, "result": dumped})


def exception_message(call: HotCall, exc: Exception) -> tuple[int, bytes]:
    """The JSON-RPC error for a handler's exception, mapped as the SDK maps it."""
    return error_message(call, modern_error_data(exc))


def error_message(call: HotCall, error: types.ErrorData) -> tuple[int, bytes]:
    body = {"jsonrpc": "2.0", "id": call.request_id,
            "error": error.model_dump(mode="json", by_alias=True, exclude_none=True)}
    return ERROR_CODE_HTTP_STATUS.get(error.code, 200), orjson.dumps(body)


async def send_message(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*_HEADERS, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
