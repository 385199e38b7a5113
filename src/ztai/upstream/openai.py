"""OpenAI-compatible providers over HTTP (OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio): one
pooled ``aiohttp.ClientSession`` per upstream, every failure mapped to an ``UpstreamError``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp

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
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall, UpstreamReply
from ztai.upstream.model import OpenAIOptions
from ztai.upstream.request import endpoint_url, request_body, request_headers
from ztai.upstream.session import new_session, send_timeout, stream_timeout
from ztai.upstream.sse import ServerSentEvent, SseDecoder

ERROR_BODY_BYTES = 64 * 1024


class OpenAIUpstream:
    """Forwards calls to one provider. The constructor does no I/O and needs no event loop: the
    session is opened on first use. ``send`` and ``stream`` raise ``UpstreamError`` only (or
    ``RuntimeError`` after ``aclose``); a stream's response is released however iteration ends (a
    consumer that stops early must ``aclose()`` the iterator, e.g. with ``contextlib.aclosing``)."""

    __slots__ = ("_closed", "_headers", "_options", "_session", "_timeouts", "_urls", "name")

    def __init__(self, options: OpenAIOptions) -> None:
        self.name = options.name
        self._options = options
        self._urls = {endpoint: endpoint_url(options, endpoint) for endpoint in Endpoint}
        self._headers = {stream: request_headers(options, stream) for stream in (False, True)}
        self._timeouts = {False: send_timeout(options.timeouts),
                          True: stream_timeout(options.timeouts)}
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def __repr__(self) -> str:
        return f"OpenAIUpstream(name={self.name!r}, flavour={self._options.flavour.value!r})"

    async def send(self, call: UpstreamCall) -> UpstreamReply:
        response = await self._post(call, stream=False)
        try:
            return await self._reply(response)
        except TRANSPORT_ERRORS as exc:
            raise error_for_transport(exc, self.name) from exc
        finally:
            response.release()

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        response = await self._post(call, stream=True)
        try:
            await self._check_stream(response)
            decoder = SseDecoder(self._options.max_body_bytes)
            async for chunk in response.content.iter_any():
                for event in self._events(decoder.feed(chunk)):
                    yield event
                    if event.data is None:
                        return
            for event in self._events(decoder.finish()):
                yield event
        except TRANSPORT_ERRORS as exc:
            raise error_for_transport(exc, self.name) from exc
        finally:  # unread bytes left: aiohttp closes the connection instead of pooling it
            response.release()

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()

    async def _post(self, call: UpstreamCall, stream: bool) -> aiohttp.ClientResponse:
        """Send the request and wait for the status line and headers."""
        try:
            return await self._client().post(
                self._urls[call.endpoint], data=request_body(call.body, stream),
                headers=self._headers[stream], timeout=self._timeouts[stream],
                allow_redirects=False)  # a redirect must not carry the key to another host
        except TRANSPORT_ERRORS as exc:
            raise error_for_transport(exc, self.name) from exc

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            if self._closed:
                raise RuntimeError(f"upstream {self.name} is closed")
            self._session = new_session(self._options.pool)
        return self._session

    async def _reply(self, response: aiohttp.ClientResponse) -> UpstreamReply:
        if not _is_success(response.status):
            raise self._failure(response.status, await _prefix(response, ERROR_BODY_BYTES))
        content = await _prefix(response, self._options.max_body_bytes)
        if len(content) > self._options.max_body_bytes:
            raise bad_response(self.name, "the body is too large")
        body = parse_object(content)
        if body is None:
            raise bad_response(self.name, "the body is not a JSON object")
        return UpstreamReply(status=response.status, body=body)

    async def _check_stream(self, response: aiohttp.ClientResponse) -> None:
        if not _is_success(response.status):
            raise self._failure(response.status, await _prefix(response, ERROR_BODY_BYTES))
        if response.headers.get("content-type", "").startswith("application/json"):
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
    return 200 <= status < 300  # not aiohttp's ``ok``, which lets a 3xx through


def _is_error_event(event: str | None, data: dict[str, Any]) -> bool:
    return event == "error" or data.get("type") == "error" or isinstance(data.get("error"), dict)


async def _prefix(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of the body: enough to tell it is too large."""
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)
