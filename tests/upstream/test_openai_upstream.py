"""OpenAIUpstream through ``httpx.MockTransport``: URLs, headers, error mapping, SSE streaming and
closing the response on every path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import aclosing
from typing import Any

import httpx
import orjson
import pytest

from ztai.core.errors import UpstreamError
from ztai.core.secret import Secret
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall
from ztai.upstream.model import Flavour, OpenAIOptions, Timeouts
from ztai.upstream.openai import OpenAIUpstream

pytestmark = pytest.mark.anyio

KEY = "sk-test-very-secret-key-123"
CHAT = UpstreamCall(Endpoint.CHAT, {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
Handler = Callable[[httpx.Request], httpx.Response]


class Chunks(httpx.AsyncByteStream):
    """A response body that yields chunks (or raises an exception) and records being closed."""

    def __init__(self, chunks: Iterable[bytes | Exception]) -> None:
        self.chunks = list(chunks)
        self.closed = False
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            if isinstance(chunk, Exception):
                raise chunk
            self.sent += 1
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def options(**changes: Any) -> OpenAIOptions:
    values: dict[str, Any] = {"name": "prov", "base_url": "https://llm.example/v1",
                              "api_key": Secret(KEY)}
    return OpenAIOptions(**(values | changes))


def upstream(handler: Handler, **changes: Any) -> OpenAIUpstream:
    return OpenAIUpstream(options(**changes), httpx.MockTransport(handler))


def json_reply(status: int, body: Any) -> Handler:
    return lambda request: httpx.Response(status, content=orjson.dumps(body))


def sse_reply(body: Chunks, status: int = 200,
              content_type: str = "text/event-stream") -> Handler:
    return lambda request: httpx.Response(status, headers={"content-type": content_type},
                                          stream=body)


def raising(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def openai_error(message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


async def collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in events]


def assert_error(error: UpstreamError, status: int, code: str) -> None:
    assert (error.status, error.code) == (status, code)
    assert KEY not in str(error)
    assert KEY not in repr(error)
    assert KEY not in error.message


# --- requests: URL, headers, body ---------------------------------------------------------

async def test_openai_flavour_posts_json_with_a_bearer_key() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    reply = await upstream(handler, extra_headers=(("x-org", "acme"),)).send(CHAT)
    (request,) = seen
    assert (reply.status, reply.body) == (200, {"ok": True})
    assert str(request.url) == "https://llm.example/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "api-key" not in request.headers
    assert request.headers["x-org"] == "acme"
    assert orjson.loads(request.content) == dict(CHAT.body)


@pytest.mark.parametrize(("endpoint", "path"), [
    (Endpoint.CHAT, "/openai/deployments/gpt%2F4o/chat/completions"),
    (Endpoint.EMBEDDINGS, "/openai/deployments/gpt%2F4o/embeddings"),
    (Endpoint.RESPONSES, "/openai/responses"),
])
async def test_azure_flavour_builds_deployment_urls_with_an_api_key_header(
        endpoint: Endpoint, path: str) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    azure = upstream(handler, base_url="https://res.openai.azure.com", flavour=Flavour.AZURE,
                     azure_deployment="gpt/4o", azure_api_version="2024-10-21")
    await azure.send(UpstreamCall(endpoint, {"model": "gpt/4o"}))
    (request,) = seen
    assert request.url.raw_path.decode() == f"{path}?api-version=2024-10-21"
    assert request.headers["api-key"] == KEY
    assert "authorization" not in request.headers


async def test_no_key_sends_no_credential_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    await upstream(handler, api_key=None).send(CHAT)
    assert "authorization" not in seen[0].headers


async def test_send_strips_streaming_fields_and_stream_forces_them() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(orjson.loads(request.content))
        if bodies[-1].get("stream"):
            return httpx.Response(200, headers={"content-type": "text/event-stream"},
                                  content=b"data: [DONE]\n\n")
        return httpx.Response(200, json={})

    body = {**CHAT.body, "stream": True, "stream_options": {"include_usage": True}}
    client = upstream(handler)
    await client.send(UpstreamCall(Endpoint.CHAT, body))
    await collect(client.stream(UpstreamCall(Endpoint.CHAT, CHAT.body, stream=True)))
    assert "stream" not in bodies[0]
    assert "stream_options" not in bodies[0]
    assert bodies[1]["stream"] is True


@pytest.mark.parametrize("changes", [
    {"flavour": Flavour.AZURE}, {"flavour": Flavour.AZURE, "azure_deployment": "d"},
    {"base_url": "ftp://x"}, {"base_url": "llm.example"},
])
def test_invalid_options_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="upstream prov"):
        options(**changes)


def test_the_key_is_in_no_repr() -> None:
    client = upstream(json_reply(200, {}), extra_headers=(("x-auth", KEY),))
    assert KEY not in repr(client)
    assert KEY not in repr(options(extra_headers=(("x-auth", KEY),)))


# --- error mapping ----------------------------------------------------------------------------

ERROR_ROWS: list[tuple[str, Handler, int, str]] = [
    ("refused", raising(httpx.ConnectError("refused")), 502, "upstream_unavailable"),
    ("reset", raising(httpx.ReadError("reset")), 502, "upstream_unavailable"),
    ("connect-timeout", raising(httpx.ConnectTimeout("slow")), 504, "upstream_timeout"),
    ("read-timeout", raising(httpx.ReadTimeout("slow")), 504, "upstream_timeout"),
    ("500", json_reply(500, openai_error(f"boom {KEY}")), 502, "upstream_error"),
    ("503-html", lambda r: httpx.Response(503, text="<html>down</html>"), 502, "upstream_error"),
    ("408", json_reply(408, {}), 504, "upstream_timeout"),
    ("429", json_reply(429, openai_error("slow down")), 429, "upstream_rate_limited"),
    ("401", json_reply(401, openai_error(f"Incorrect API key {KEY}")), 502,
     "upstream_auth_failed"),
    ("403", json_reply(403, {}), 502, "upstream_auth_failed"),
    ("400-no-shape", lambda r: httpx.Response(400, text="nope"), 400, "upstream_invalid_request"),
    ("404", json_reply(404, openai_error("no such model")), 400, "upstream_invalid_request"),
    ("422", json_reply(422, openai_error("bad field", "bad field!")), 400,
     "upstream_invalid_request"),
    ("200-not-json", lambda r: httpx.Response(200, text="hello"), 502, "upstream_bad_response"),
    ("200-list", json_reply(200, [1, 2]), 502, "upstream_bad_response"),
    ("200-too-large", json_reply(200, {"x": "y" * 2048}), 502, "upstream_bad_response"),
    ("undecodable", raising(httpx.DecodingError("bad gzip")), 502, "upstream_bad_response"),
]


@pytest.mark.parametrize(("handler", "status", "code"), [row[1:] for row in ERROR_ROWS],
                         ids=[row[0] for row in ERROR_ROWS])
async def test_send_maps_failures(handler: Handler, status: int, code: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        await upstream(handler, max_body_bytes=1024).send(CHAT)
    assert_error(caught.value, status, code)


@pytest.mark.parametrize(("handler", "status", "code"), [row[1:] for row in ERROR_ROWS[:13]],
                         ids=[row[0] for row in ERROR_ROWS[:13]])
async def test_stream_maps_failures_before_the_first_event(handler: Handler, status: int,
                                                           code: str) -> None:
    events = upstream(handler).stream(CHAT)
    with pytest.raises(UpstreamError) as caught:
        await anext(events)
    assert_error(caught.value, status, code)


async def test_a_rejected_request_passes_the_providers_message_and_code_on() -> None:
    body = openai_error(f"too long for {KEY}: " + "x" * 600, "context_length_exceeded")
    with pytest.raises(UpstreamError) as caught:
        await upstream(json_reply(400, body)).send(CHAT)
    assert_error(caught.value, 400, "context_length_exceeded")
    assert caught.value.message.startswith("too long for ***: xxx")
    assert len(caught.value.message) == 501


async def test_a_whole_call_past_the_total_timeout_is_504() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json={})

    client = OpenAIUpstream(options(timeouts=Timeouts(total=0.05)), httpx.MockTransport(handler))
    with pytest.raises(UpstreamError) as caught:
        await client.send(CHAT)
    assert_error(caught.value, 504, "upstream_timeout")


async def test_send_closes_the_response_after_a_reply() -> None:
    body = Chunks([b"{}"])
    await upstream(sse_reply(body, 200, "application/json")).send(CHAT)
    assert body.closed


async def test_send_closes_the_response_after_an_error() -> None:
    body = Chunks([b"{}"])
    with pytest.raises(UpstreamError):
        await upstream(sse_reply(body, 500, "application/json")).send(CHAT)
    assert body.closed


# --- streaming ----------------------------------------------------------------------------------

async def test_stream_parses_events_and_stops_at_done() -> None:
    wire = [b": comment\r\n", b"event: response.created\r\ndata: {\"a\":\r\n",
            b"data: 1}\r\n\r\ndata: {\"b\": 2}\n\n", b"data: [DONE]\n\ndata: {\"late\": 1}\n\n"]
    body = Chunks(wire)
    events = await collect(upstream(sse_reply(body)).stream(CHAT))
    assert events == [StreamEvent({"a": 1}, "response.created"), StreamEvent({"b": 2}),
                      StreamEvent(None)]
    assert body.closed


async def test_a_final_cr_terminated_event_is_delivered_at_the_end() -> None:
    body = Chunks([b"data: {\"c\": 3}\r", b"\r"])
    events = await collect(upstream(sse_reply(body)).stream(CHAT))
    assert events == [StreamEvent({"c": 3})]


async def test_a_stream_without_done_ends_at_the_end_of_the_body() -> None:
    body = Chunks([b"event: response.completed\ndata: {\"c\": 3}\n\n"])
    events = await collect(upstream(sse_reply(body)).stream(CHAT))
    assert events == [StreamEvent({"c": 3}, "response.completed")]


@pytest.mark.parametrize(("broken", "status", "code"), [
    (b"data: {not json\n\n", 502, "upstream_bad_response"),
    (b"data: [1, 2]\n\n", 502, "upstream_bad_response"),
    (b"data: {\"error\": {\"message\": \"overloaded %s\"}}\n\n" % KEY.encode(), 502,
     "upstream_error"),
    (b"event: error\ndata: {\"type\": \"error\", \"message\": \"failed\"}\n\n", 502,
     "upstream_error"),
    (httpx.ReadTimeout("stalled"), 504, "upstream_timeout"),
    (httpx.RemoteProtocolError("peer closed"), 502, "upstream_unavailable"),
])
async def test_a_broken_stream_raises_mid_way_and_closes(broken: bytes | Exception, status: int,
                                                         code: str) -> None:
    body = Chunks([b"data: {\"ok\": 1}\n\n", broken, b"data: {\"never\": 1}\n\n"])
    received: list[StreamEvent] = []
    with pytest.raises(UpstreamError) as caught:
        await drain(upstream(sse_reply(body)).stream(CHAT), received)
    assert received == [StreamEvent({"ok": 1})]
    assert_error(caught.value, status, code)
    assert body.closed


async def test_a_mid_stream_error_event_keeps_the_providers_message() -> None:
    body = Chunks([b"data: {\"error\": {\"message\": \"overloaded\"}}\n\n"])
    with pytest.raises(UpstreamError, match="overloaded"):
        await collect(upstream(sse_reply(body)).stream(CHAT))


async def test_json_instead_of_a_stream_is_a_bad_response() -> None:
    body = Chunks([b"{}"])
    with pytest.raises(UpstreamError) as caught:
        await collect(upstream(sse_reply(body, 200, "application/json")).stream(CHAT))
    assert_error(caught.value, 502, "upstream_bad_response")
    assert body.closed


async def test_an_error_status_closes_the_response_before_any_event() -> None:
    body = Chunks([orjson.dumps(openai_error("nope"))])
    with pytest.raises(UpstreamError):
        await collect(upstream(sse_reply(body, 500)).stream(CHAT))
    assert body.closed


async def test_a_consumer_that_stops_early_closes_the_response() -> None:
    body = Chunks([b"data: {\"n\": 1}\n\n", b"data: {\"n\": 2}\n\n", b"data: {\"n\": 3}\n\n"])
    async with aclosing(upstream(sse_reply(body)).stream(CHAT)) as events:
        async for event in events:
            assert event == StreamEvent({"n": 1})
            break
    assert body.closed
    assert body.sent == 1


async def test_aclose_closes_the_client() -> None:
    client = upstream(json_reply(200, {}))
    await client.aclose()
    with pytest.raises(RuntimeError):
        await client.send(CHAT)


async def drain(events: AsyncIterator[StreamEvent], into: list[StreamEvent]) -> None:
    async for event in events:
        into.append(event)
