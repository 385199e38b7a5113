"""OpenAI-compatible providers over HTTP (OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio): one
pooled ``httpx.AsyncClient`` per upstream, every failure mapped to an ``UpstreamError``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from ztai.core.errors import UpstreamError
from ztai.upstream.failure import (
    bad_response,
    error_for_status,
    error_for_transport,
    error_in_stream,
    parse_object,
    provider_error,
    timed_out,
)
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall, UpstreamReply
from ztai.upstream.model import Flavour, OpenAIOptions
from ztai.upstream.sse import ServerSentEvent, SseDecoder

ERROR_BODY_BYTES = 64 * 1024


class OpenAIUpstream:
    """Forwards calls to one provider. The constructor does no I/O. ``send`` and ``stream``
    raise ``UpstreamError`` only; a stream's response is closed however iteration ends (a
    consumer that stops early must ``aclose()`` the iterator, e.g. with ``contextlib.aclosing``)."""

    def __init__(self, options: OpenAIOptions,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.name = options.name
        self._options = options
        self._client = _client(options, transport)

    def __repr__(self) -> str:
        return f"OpenAIUpstream(name={self.name!r}, flavour={self._options.flavour.value!r})"

    async def send(self, call: UpstreamCall) -> UpstreamReply:
        request = self._request(call, stream=False)
        try:
            async with asyncio.timeout(self._options.timeouts.total):
                response = await self._client.send(request, stream=True)
                try:
                    return await self._reply(response)
                finally:
                    await response.aclose()
        except httpx.HTTPError as exc:
            raise error_for_transport(exc, self.name) from exc
        except TimeoutError:
            raise timed_out(self.name) from None

    async def stream(self, call: UpstreamCall) -> AsyncIterator[StreamEvent]:
        request = self._request(call, stream=True)
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise error_for_transport(exc, self.name) from exc
        try:
            await self._check_stream(response)
            decoder = SseDecoder(self._options.max_body_bytes)
            async for chunk in response.aiter_bytes():
                for event in self._events(decoder.feed(chunk)):
                    yield event
                    if event.data is None:
                        return
            for event in self._events(decoder.finish()):
                yield event
        except httpx.HTTPError as exc:
            raise error_for_transport(exc, self.name) from exc
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _request(self, call: UpstreamCall, stream: bool) -> httpx.Request:
        body = dict(call.body)
        if stream:
            body["stream"] = True
        else:  # a non-streamed call must not ask the provider to stream
            body.pop("stream", None)
            body.pop("stream_options", None)
        accept = "text/event-stream" if stream else "application/json"
        return self._client.build_request(
            "POST", self._path(call.endpoint), params=self._params(), content=orjson.dumps(body),
            headers={"content-type": "application/json", "accept": accept})

    def _path(self, endpoint: Endpoint) -> str:
        options = self._options
        if options.flavour is Flavour.OPENAI:
            return endpoint.value
        if endpoint is Endpoint.RESPONSES:  # Azure names the deployment in the body's model
            return "openai/responses"
        return f"openai/deployments/{quote(options.azure_deployment or '', safe='')}/{endpoint}"

    def _params(self) -> dict[str, str]:
        version = self._options.azure_api_version
        if self._options.flavour is Flavour.AZURE and version:
            return {"api-version": version}
        return {}

    async def _reply(self, response: httpx.Response) -> UpstreamReply:
        if not response.is_success:
            raise self._failure(response.status_code, await _prefix(response, ERROR_BODY_BYTES))
        content = await _prefix(response, self._options.max_body_bytes)
        if len(content) > self._options.max_body_bytes:
            raise bad_response(self.name, "the body is too large")
        body = parse_object(content)
        if body is None:
            raise bad_response(self.name, "the body is not a JSON object")
        return UpstreamReply(status=response.status_code, body=body)

    async def _check_stream(self, response: httpx.Response) -> None:
        if not response.is_success:
            raise self._failure(response.status_code, await _prefix(response, ERROR_BODY_BYTES))
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


def _client(options: OpenAIOptions,
            transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    t, p = options.timeouts, options.pool
    return httpx.AsyncClient(
        base_url=options.base_url, headers=_headers(options), transport=transport,
        timeout=httpx.Timeout(connect=t.connect, read=t.read, write=t.write, pool=t.pool),
        limits=httpx.Limits(max_connections=p.max_connections,
                            max_keepalive_connections=p.max_keepalive_connections,
                            keepalive_expiry=p.keepalive_expiry))


def _headers(options: OpenAIOptions) -> dict[str, str]:
    headers = dict(options.extra_headers)
    if options.api_key is not None and options.flavour is Flavour.AZURE:
        headers["api-key"] = options.api_key.reveal()
    elif options.api_key is not None:
        headers["authorization"] = f"Bearer {options.api_key.reveal()}"
    return headers


def _is_error_event(event: str | None, data: dict[str, Any]) -> bool:
    return event == "error" or data.get("type") == "error" or isinstance(data.get("error"), dict)


async def _prefix(response: httpx.Response, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of the body: enough to tell it is too large."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            break
    return bytes(body)
