"""OpenAI-compatible providers over HTTP (OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio): one
pooled HTTP/1.1 client per upstream, every failure mapped to an ``UpstreamError``."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from typing import Any

from ztai.core.errors import UpstreamError
from ztai.upstream.failure import (
    TRANSPORT_ERRORS,
    bad_response,
    error_for_status,
    error_for_transport,
    error_in_stream,
    parse_object,
    provider_error,
)
from ztai.upstream.http1 import Http1Client, PreparedRequest, Response, prepare_post
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall, UpstreamReply
from ztai.upstream.model import OpenAIOptions
from ztai.upstream.request import endpoint_url, request_body, request_headers
from ztai.upstream.sse import ServerSentEvent, SseDecoder

ERROR_BODY_BYTES = 64 * 1024


class OpenAIUpstream:
    """Forwards calls to one provider. The constructor does no I/O and needs no event loop:
    connections are opened on first use. ``tls`` replaces the system trust store for an https
    provider (hostnames are checked either way). ``send`` and ``stream`` raise ``UpstreamError``
    only (or ``RuntimeError`` after ``aclose``); a stream's connection is released however
    iteration ends (a consumer that stops early must ``aclose()`` the iterator, e.g. with
    ``contextlib.aclosing``), and kept for reuse only if its body was read to the end."""

    __slots__ = ("_client", "_options", "_requests", "name")

    def __init__(self, options: OpenAIOptions, *, tls: ssl.SSLContext | None = None) -> None:
        self.name = options.name
        self._options = options
        self._requests = {
            (endpoint, stream): prepare_post(str(endpoint_url(options, endpoint)),
                                             request_headers(options, stream))
            for endpoint in Endpoint for stream in (False, True)}
        self._client = Http1Client(options.timeouts, options.pool, tls)

    def __repr__(self) -> str:
        return f"OpenAIUpstream(name={self.name!r}, flavour={self._options.flavour.value!r})"

    async def send(self, call: UpstreamCall) -> UpstreamReply:
        response = await self._post(call, stream=False)
        try:
            if not _is_success(response.status):
                raise self._failure(response.status, await response.read(ERROR_BODY_BYTES))
            content = await response.read(self._options.max_body_bytes)
        except TRANSPORT_ERRORS as exc:
            raise error_for_transport(exc, self.name) from exc
        finally:
            response.release()
        return self._reply(response.status, content)

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        response = await self._post(call, stream=True)
        try:
            await self._check_stream(response)
            decoder = SseDecoder(self._options.max_body_bytes)
            async for chunk in response:
                for event in self._events(decoder.feed(chunk)):
                    yield event
                    if event.data is None:
                        return
            for event in self._events(decoder.finish()):
                yield event
        except TRANSPORT_ERRORS as exc:
            raise error_for_transport(exc, self.name) from exc
        finally:  # a body not read to its end closes the connection instead of pooling it
            response.release()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, call: UpstreamCall, stream: bool) -> Response:
        """Send the request and wait for the status line and headers. No redirect is followed:
        it must not carry the key to another host."""
        request: PreparedRequest = self._requests[call.endpoint, stream]
        total = None if stream else self._options.timeouts.total
        try:
            return await self._client.request(request, request_body(call.body, stream), total)
        except TRANSPORT_ERRORS as exc:
            raise error_for_transport(exc, self.name) from exc

    def _reply(self, status: int, content: bytes) -> UpstreamReply:
        if len(content) > self._options.max_body_bytes:
            raise bad_response(self.name, "the body is too large")
        body = parse_object(content)
        if body is None:
            raise bad_response(self.name, "the body is not a JSON object")
        return UpstreamReply(status=status, body=body)

    async def _check_stream(self, response: Response) -> None:
        if not _is_success(response.status):
            raise self._failure(response.status, await response.read(ERROR_BODY_BYTES))
        if (response.header("content-type") or "").startswith("application/json"):
            raise bad_response(self.name, "expected an event stream, got JSON")

    def _events(self, events: list[ServerSentEvent]) -> list[StreamEvent]:
        return [self._event(sse) for sse in events]

    def _event(self, sse: ServerSentEvent) -> StreamEvent:
        if sse.data.strip() == "[DONE]":
            return StreamEvent(data=None, event=sse.event)
        data = parse_object(sse.data)
        if data is None:
            raise bad_response(self.name, "an event is not a JSON object")
        if _is_error_event(sse.event, data):
            error = data if data.get("type") == "error" else provider_error(data)
            raise error_in_stream(error, self.name, self._options.api_key)
        return StreamEvent(data=data, event=sse.event)

    def _failure(self, status: int, body: bytes) -> UpstreamError:
        return error_for_status(status, body, self.name, self._options.api_key)


def _is_success(status: int) -> bool:
    return 200 <= status < 300  # a 3xx is a failure: redirects are not followed


def _is_error_event(event: str | None, data: dict[str, Any]) -> bool:
    return event == "error" or data.get("type") == "error" or isinstance(data.get("error"), dict)
