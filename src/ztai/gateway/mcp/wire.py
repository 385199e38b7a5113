"""The hot ``tools/call`` to an HTTP upstream, sent without the SDK client's machinery.

On the 2026-07-28 streamable-HTTP wire a call is one self-contained POST: no session, no back
channel. The SDK client still opens the connection (``server/discover``), lists tools and
carries every other operation; this sender only writes the ``tools/call`` POST itself, stamped
by that same SDK session (its ``_meta`` envelope and ``Mcp-*`` headers, ``Mcp-Param-*``
included), over ztai's HTTP/1.1 client, and reads the one JSON-RPC reply. The result is
checked as the SDK checks it (the result model, the tool's output schema). What it does not
handle it refuses before sending (:func:`lean_sender`: another protocol version, a proxy in
the environment) or fails closed after (an input request, a reply it cannot read); a server
that rejects the call's headers (``HEADER_MISMATCH``, nothing was run) is asked again through
the SDK, which re-lists the tool first."""

from __future__ import annotations

import itertools
import json
import ssl
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import mcp_types as types
import orjson
from mcp.client.session import ClientSession
from mcp.shared.exceptions import MCPError
from mcp_types import HEADER_MISMATCH
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from ztai.core.errors import UpstreamError
from ztai.upstream.http1 import Http1Client, HttpError, prepare_post
from ztai.upstream.model import Pool, Timeouts

MAX_REPLY_BYTES = 64 * 1024 * 1024
ACCEPT = "application/json, text/event-stream"
Stamp = Callable[[dict[str, Any], dict[str, Any]], None]


class HeaderMismatch(Exception):
    """The server refused the call's ``Mcp-*`` headers before running it: ask the SDK."""


def lean_sender(session: ClientSession, url: str, headers: Mapping[str, str],
                timeout_s: float, tls: ssl.SSLContext | None) -> ToolCallSender | None:
    """A sender for ``session``'s upstream, or None where the SDK client must send the calls:
    a protocol version other than 2026-07-28 (sessions, server requests on the call's stream),
    a session without the stamp this relies on, or a proxy that the environment names for
    ``url``'s scheme (the SDK's HTTP client may use it)."""
    stamp = getattr(session, "_stamp", None)
    if session.protocol_version not in MODERN_PROTOCOL_VERSIONS or not callable(stamp):
        return None
    proxies = urllib.request.getproxies_environment()
    if urlsplit(url).scheme in proxies or "all" in proxies:  # NO_PROXY or not: the SDK's way
        return None
    return ToolCallSender(session, stamp, url, headers, timeout_s, tls)


class ToolCallSender:
    def __init__(self, session: ClientSession, stamp: Stamp, url: str,
                 headers: Mapping[str, str], timeout_s: float, tls: ssl.SSLContext | None,
                 ) -> None:
        self._session, self._stamp, self._url = session, stamp, url
        self._headers = {**headers, "accept": ACCEPT, "content-type": "application/json"}
        self._timeout_s = timeout_s
        self._http = Http1Client(Timeouts(connect=timeout_s, read=timeout_s, write=timeout_s,
                                          pool=timeout_s, total=timeout_s), Pool(), tls)
        self._ids = itertools.count(1)

    async def call_tool(self, name: str, arguments: dict[str, Any] | None
                        ) -> types.CallToolResult:
        """The tool's result; ``MCPError`` for a JSON-RPC error (as the SDK raises it),
        ``HeaderMismatch``, ``UpstreamError`` for a reply that is not one, ``HttpError`` or
        ``TimeoutError`` when the exchange fails."""
        request_id = next(self._ids)
        params: dict[str, Any] = {"name": name}
        if arguments is not None:
            params["arguments"] = arguments
        data: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                                "params": params}
        options: dict[str, Any] = {}
        self._stamp(data, options)  # the SDK's own envelope and headers for this version
        request = prepare_post(self._url, {**self._headers, **options.get("headers", {})})
        response = await self._http.request(request, _encoded(data), self._timeout_s)
        try:
            status, kind = response.status, (response.header("content-type") or "").lower()
            body = await response.read(MAX_REPLY_BYTES)
            if len(body) > MAX_REPLY_BYTES:
                raise UpstreamError(f"the MCP server's reply is larger than {MAX_REPLY_BYTES} "
                                    "bytes", code="upstream_answer_too_large")
        finally:
            response.release()
        reply = _reply(status, kind, body, request_id)
        error = reply.get("error")
        if error is not None:
            if not isinstance(error, dict) or not isinstance(error.get("code"), int):
                raise UpstreamError("the MCP server sent a malformed JSON-RPC error")
            if error["code"] == HEADER_MISMATCH:
                raise HeaderMismatch
            raise MCPError(error["code"], str(error.get("message", "")), error.get("data"))
        raw = reply.get("result")
        if not isinstance(raw, dict):
            raise UpstreamError("the MCP server's reply holds no result")
        if raw.get("resultType", "complete") != "complete":
            raise UpstreamError("the MCP server asked for input during a tool call; ztai does "
                                "not relay input requests")
        try:
            result = types.CallToolResult.model_validate(raw)
        except ValidationError:
            raise UpstreamError("the MCP server sent a malformed tool result") from None
        if not result.is_error:
            await self._session.validate_tool_result(name, result)
        return result

    async def aclose(self) -> None:
        await self._http.aclose()


def _reply(status: int, kind: str, body: bytes, request_id: int) -> dict[str, Any]:
    """The JSON-RPC reply to ``request_id`` in a JSON body or an SSE stream."""
    if kind.startswith("application/json"):
        candidates = [body]
    elif kind.startswith("text/event-stream") and status < 300:
        candidates = list(reversed(_sse_data(body)))
    else:
        raise UpstreamError(f"the MCP server answered the tool call with HTTP {status}")
    for candidate in candidates:
        try:
            message = orjson.loads(candidate)
        except orjson.JSONDecodeError:
            raise UpstreamError("the MCP server's reply is not JSON") from None
        if not isinstance(message, dict):
            break
        if "error" in message and message.get("id") in (request_id, None):
            return message
        if "result" in message and message.get("id") == request_id and status < 300:
            return message
    raise UpstreamError(f"the MCP server sent no reply to the tool call (HTTP {status})")


def _sse_data(body: bytes) -> list[bytes]:
    """Each event's data (its ``data:`` lines joined), in order."""
    events: list[bytes] = []
    lines: list[bytes] = []
    for line in body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n"):
        if not line:
            if lines:
                events.append(b"\n".join(lines))
                lines = []
        elif line.startswith(b"data:"):
            value = line[5:]
            lines.append(value[1:] if value.startswith(b" ") else value)
    if lines:
        events.append(b"\n".join(lines))
    return events


def _encoded(data: Mapping[str, Any]) -> bytes:
    """``data`` as JSON; an integer beyond 64 bits, which JSON allows and orjson does not
    write, is written by the standard library's encoder, unchanged."""
    try:
        return orjson.dumps(data)
    except TypeError:  # anything else that is not JSON fails here too
        return json.dumps(data, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode()


__all__ = ["HeaderMismatch", "HttpError", "ToolCallSender", "lean_sender"]

