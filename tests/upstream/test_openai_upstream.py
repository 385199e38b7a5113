"""OpenAIUpstream against a fake server on 127.0.0.1: URLs, headers, error mapping, SSE streaming,
timeouts, and releasing the response on every path."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

import pytest

from tests.upstream.fake_server import (
    CUT,
    Chunk,
    Cut,
    FakeUpstream,
    Handler,
    Reply,
    Request,
    Stall,
    fake_upstream,
    refused_url,
)
from ztai.core.errors import UpstreamError
from ztai.core.secret import Secret
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall
from ztai.upstream.model import Flavour, OpenAIOptions, Pool, Timeouts
from ztai.upstream.openai import OpenAIUpstream

pytestmark = pytest.mark.anyio

KEY = "sk-test-very-secret-key-123"
CHAT = UpstreamCall(Endpoint.CHAT, {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
STREAM = UpstreamCall(Endpoint.CHAT, CHAT.body, stream=True)
SHORT = Timeouts(connect=2.0, read=0.2, write=2.0, pool=0.2, total=5.0)
ONE_CONNECTION = Pool(max_connections=1)


def options(base_url: str, **changes: Any) -> OpenAIOptions:
    values: dict[str, Any] = {"name": "prov", "base_url": base_url, "api_key": Secret(KEY),
                              "timeouts": SHORT}
    return OpenAIOptions(**(values | changes))


def replies(*answers: Reply | Cut) -> Handler:
    """Answer the n-th request with the n-th reply, and any later one with the last."""
    queue = list(answers)
    return lambda request: queue.pop(0) if len(queue) > 1 else queue[0]


@contextlib.asynccontextmanager
async def served(answer: Reply | Cut | Handler,
                 **changes: Any) -> AsyncIterator[tuple[OpenAIUpstream, FakeUpstream]]:
    """An upstream pointed at a fake server that gives ``answer`` (a reply, or a handler)."""
    handler = answer if callable(answer) else replies(answer)
    async with fake_upstream(handler) as server:
        client = OpenAIUpstream(options(server.url, **changes))
        try:
            yield client, server
        finally:
            await client.aclose()


async def sent(answer: Reply | Cut | Handler, call: UpstreamCall = CHAT,
               **changes: Any) -> Request:
    """The request the server saw for ``call``."""
    async with served(answer, **changes) as (client, server):
        if call.stream:
            await collect(client.stream(call))
        else:
            await client.send(call)
    (request,) = server.requests
    return request


def sse(*chunks: Chunk) -> Reply:
    return Reply.sse(chunks)


def openai_error(message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}


async def collect(events: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    return [event async for event in events]


async def drain(events: AsyncIterator[StreamEvent], into: list[StreamEvent]) -> None:
    async for event in events:
        into.append(event)


def assert_error(error: UpstreamError, status: int, code: str) -> None:
    assert (error.status, error.code) == (status, code)
    assert KEY not in str(error)
    assert KEY not in repr(error)
    assert KEY not in error.message


# --- requests: URL, headers, body ---------------------------------------------------------

async def test_openai_flavour_posts_json_with_a_bearer_key() -> None:
    async with served(Reply.json({"ok": True}), extra_headers=(("x-org", "acme"),)) as (
            client, server):
        reply = await client.send(CHAT)
    (request,) = server.requests
    assert (reply.status, reply.body) == (200, {"ok": True})
    assert (request.method, request.target) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "api-key" not in request.headers
    assert request.headers["x-org"] == "acme"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.json() == dict(CHAT.body)


@pytest.mark.parametrize(("endpoint", "path"), [
    (Endpoint.CHAT, "/openai/deployments/gpt%2F4o/chat/completions"),
    (Endpoint.EMBEDDINGS, "/openai/deployments/gpt%2F4o/embeddings"),
    (Endpoint.RESPONSES, "/openai/responses"),
])
async def test_azure_flavour_builds_deployment_urls_with_an_api_key_header(
        endpoint: Endpoint, path: str) -> None:
    async with fake_upstream(replies(Reply.json({}))) as server:
        azure = OpenAIUpstream(options(
            server.url.removesuffix("/v1") + "/", flavour=Flavour.AZURE,
            azure_deployment="gpt/4o", azure_api_version="2024-10-21"))
        await azure.send(UpstreamCall(endpoint, {"model": "gpt/4o"}))
        await azure.aclose()
    (request,) = server.requests
    assert request.target == f"{path}?api-version=2024-10-21"
    assert request.headers["api-key"] == KEY
    assert "authorization" not in request.headers


async def test_no_key_sends_no_credential_header() -> None:
    request = await sent(Reply.json({}), api_key=None)
    assert "authorization" not in request.headers
    assert "api-key" not in request.headers


async def test_send_strips_streaming_fields_and_stream_forces_them() -> None:
    body = {**CHAT.body, "stream": True, "stream_options": {"include_usage": True}}
    whole = await sent(Reply.json({}), UpstreamCall(Endpoint.CHAT, body))
    streamed = await sent(sse(b"data: [DONE]\n\n"), STREAM)
    assert "stream" not in whole.json()
    assert "stream_options" not in whole.json()
    assert streamed.json()["stream"] is True
    assert streamed.headers["accept"] == "text/event-stream"


async def test_a_compressed_reply_is_decompressed() -> None:
    reply = Reply(200, gzip.compress(b'{"zipped": true}'), {"content-encoding": "gzip"})
    async with served(reply) as (client, _):
        assert (await client.send(CHAT)).body == {"zipped": True}


@pytest.mark.parametrize("changes", [
    {"flavour": Flavour.AZURE}, {"flavour": Flavour.AZURE, "azure_deployment": "d"},
    {"base_url": "ftp://x"}, {"base_url": "llm.example"},
])
def test_invalid_options_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="upstream prov"):
        options(**({"base_url": "https://llm.example/v1"} | changes))


def test_the_constructor_needs_no_loop_and_the_key_is_in_no_repr() -> None:
    secret_options = options("https://llm.example/v1", extra_headers=(("x-auth", KEY),))
    client = OpenAIUpstream(secret_options)
    assert KEY not in repr(client)
    assert KEY not in repr(secret_options)


# --- error mapping ----------------------------------------------------------------------------

BEFORE_THE_BODY: list[tuple[str, Reply | Cut, int, str]] = [
    ("reset", CUT, 502, "upstream_unavailable"),
    ("read-timeout", Reply.json({}, delay=1.0), 504, "upstream_timeout"),  # read: 0.2 s
    ("500", Reply.json(openai_error(f"boom {KEY}"), 500), 502, "upstream_error"),
    ("503-html", Reply(503, b"<html>down</html>", {"content-type": "text/html"}), 502,
     "upstream_error"),
    ("408", Reply.json({}, 408), 504, "upstream_timeout"),
    ("429", Reply.json(openai_error("slow down"), 429), 429, "upstream_rate_limited"),
    ("401", Reply.json(openai_error(f"Incorrect API key {KEY}"), 401), 502,
     "upstream_auth_failed"),
    ("403", Reply.json({}, 403), 502, "upstream_auth_failed"),
    ("400-no-shape", Reply(400, b"nope"), 400, "upstream_invalid_request"),
    ("404", Reply.json(openai_error("no such model"), 404), 400, "upstream_invalid_request"),
    ("422", Reply.json(openai_error("bad field", "bad field!"), 422), 400,
     "upstream_invalid_request"),
    ("redirect", Reply(307, b"", {"location": "/v1/elsewhere"}), 502, "upstream_error"),
    ("undecodable", Reply(200, b"not gzip at all", {"content-encoding": "gzip"}), 502,
     "upstream_bad_response"),
]
BODY_SHAPE: list[tuple[str, Reply | Cut, int, str]] = [
    ("200-not-json", Reply(200, b"hello"), 502, "upstream_bad_response"),
    ("200-list", Reply.json([1, 2]), 502, "upstream_bad_response"),
    ("200-too-large", Reply.json({"x": "y" * 2048}), 502, "upstream_bad_response"),
]


def rows(table: Sequence[tuple[str, Reply | Cut, int, str]]) -> Any:
    return pytest.mark.parametrize(("answer", "status", "code"), [row[1:] for row in table],
                                   ids=[row[0] for row in table])


@rows(BEFORE_THE_BODY + BODY_SHAPE)
async def test_send_maps_failures(answer: Reply | Cut, status: int, code: str) -> None:
    async with served(answer, max_body_bytes=1024) as (client, server):
        with pytest.raises(UpstreamError) as caught:
            await client.send(CHAT)
    assert_error(caught.value, status, code)
    assert len(server.requests) == 1  # no retry, no redirect followed


@rows(BEFORE_THE_BODY)
async def test_stream_maps_failures_before_the_first_event(answer: Reply | Cut, status: int,
                                                           code: str) -> None:
    async with served(answer) as (client, _):
        with pytest.raises(UpstreamError) as caught:
            await anext(client.stream(STREAM))
    assert_error(caught.value, status, code)


@pytest.mark.parametrize("call", [CHAT, STREAM], ids=["send", "stream"])
async def test_a_refused_port_is_unavailable(call: UpstreamCall) -> None:
    with refused_url() as url:
        client = OpenAIUpstream(options(url))
        with pytest.raises(UpstreamError) as caught:
            await (client.send(call) if not call.stream else anext(client.stream(call)))
        await client.aclose()
    assert_error(caught.value, 502, "upstream_unavailable")


async def test_waiting_past_the_pool_timeout_for_a_connection_is_504() -> None:
    busy = sse(b'data: {"n": 1}\n\n', Stall(2.0))
    timeouts = Timeouts(connect=0.1, read=1.0, pool=0.1)
    async with (served(busy, pool=ONE_CONNECTION, timeouts=timeouts) as (client, _),
                aclosing(client.stream(STREAM)) as holding):
        await anext(holding)
        with pytest.raises(UpstreamError) as caught:
            await client.send(CHAT)
    assert_error(caught.value, 504, "upstream_timeout")


async def test_a_rejected_request_passes_the_providers_message_and_code_on() -> None:
    body = openai_error(f"too long for {KEY}: " + "x" * 600, "context_length_exceeded")
    async with served(Reply.json(body, 400)) as (client, _):
        with pytest.raises(UpstreamError) as caught:
            await client.send(CHAT)
    assert_error(caught.value, 400, "context_length_exceeded")
    assert caught.value.message.startswith("too long for ***: xxx")
    assert len(caught.value.message) == 501


async def test_a_whole_call_past_the_total_timeout_is_504_even_while_bytes_trickle() -> None:
    trickle = Reply(200, [b"{", Stall(0.15), b'"a"', Stall(0.15), b":", Stall(0.15), b"1}"])
    timeouts = Timeouts(connect=2.0, read=1.0, pool=1.0, total=0.3)
    async with served(trickle, timeouts=timeouts) as (client, _):
        with pytest.raises(UpstreamError) as caught:
            await client.send(CHAT)
    assert_error(caught.value, 504, "upstream_timeout")


@pytest.mark.parametrize("first", [
    Reply.json({"ok": 1}), Reply.json(openai_error("boom"), 500),
    Reply.json(openai_error("bad"), 400), Reply(200, b"[1]"),
], ids=["reply", "500", "400", "bad-body"])
async def test_send_returns_the_connection_to_the_pool_on_every_outcome(first: Reply) -> None:
    async with served(replies(first, Reply.json({})), pool=ONE_CONNECTION) as (client, server):
        with contextlib.suppress(UpstreamError):
            await client.send(CHAT)
        await client.send(CHAT)
    assert [request.connection for request in server.requests] == [1, 1]


async def test_aclose_closes_the_client() -> None:
    async with served(Reply.json({})) as (client, _):
        await client.send(CHAT)
        await client.aclose()
        with pytest.raises(RuntimeError):
            await client.send(CHAT)


async def test_aclose_before_any_call_leaves_nothing_open() -> None:
    client = OpenAIUpstream(options("http://127.0.0.1:9/v1"))
    await client.aclose()
    with pytest.raises(RuntimeError):
        await client.send(CHAT)


# --- streaming ----------------------------------------------------------------------------------

async def test_stream_parses_events_and_stops_at_done() -> None:
    wire = sse(b": comment\r\n", b"event: response.created\r\ndata: {\"a\":\r\n",
               b"data: 1}\r\n\r\ndata: {\"b\": 2}\n\n", b"data: [DONE]\n\ndata: {\"late\": 1}\n\n")
    async with served(wire) as (client, _):
        events = await collect(client.stream(STREAM))
    assert events == [StreamEvent({"a": 1}, "response.created"), StreamEvent({"b": 2}),
                      StreamEvent(None)]


async def test_a_final_cr_terminated_event_is_delivered_at_the_end() -> None:
    async with served(sse(b"data: {\"c\": 3}\r", Stall(0.05), b"\r")) as (client, _):
        events = await collect(client.stream(STREAM))
    assert events == [StreamEvent({"c": 3})]


async def test_a_stream_without_done_ends_at_the_end_of_the_body() -> None:
    async with served(sse(b"event: response.completed\ndata: {\"c\": 3}\n\n")) as (client, _):
        events = await collect(client.stream(STREAM))
    assert events == [StreamEvent({"c": 3}, "response.completed")]


async def test_an_event_over_max_body_bytes_is_a_bad_response() -> None:
    async with served(sse(b"data: {\"x\": \"" + b"y" * 2048), max_body_bytes=1024) as (client, _):
        with pytest.raises(UpstreamError) as caught:
            await collect(client.stream(STREAM))
    assert_error(caught.value, 502, "upstream_bad_response")


@pytest.mark.parametrize(("broken", "status", "code"), [
    (b"data: {not json\n\n", 502, "upstream_bad_response"),
    (b"data: [1, 2]\n\n", 502, "upstream_bad_response"),
    (b"data: {\"error\": {\"message\": \"overloaded %s\"}}\n\n" % KEY.encode(), 502,
     "upstream_error"),
    (b"event: error\ndata: {\"type\": \"error\", \"message\": \"failed\"}\n\n", 502,
     "upstream_error"),
    (Stall(0.5), 504, "upstream_timeout"),
], ids=["not-json", "not-an-object", "error-member", "error-event", "stalled"])
async def test_a_broken_stream_raises_mid_way_and_drops_the_connection(
        broken: Chunk, status: int, code: str) -> None:
    wire = sse(b"data: {\"ok\": 1}\n\n", Stall(0.05), broken, Stall(0.2), b"data: {}\n\n")
    received: list[StreamEvent] = []
    async with served(wire) as (client, server):
        with pytest.raises(UpstreamError) as caught:
            await drain(client.stream(STREAM), received)
        await asyncio.wait_for(server.abandoned.wait(), 5)
    assert received == [StreamEvent({"ok": 1})]
    assert_error(caught.value, status, code)


async def test_a_stream_the_provider_cuts_mid_way_is_unavailable() -> None:
    received: list[StreamEvent] = []
    async with served(sse(b"data: {\"ok\": 1}\n\n", Stall(0.05), CUT)) as (client, _):
        with pytest.raises(UpstreamError) as caught:
            await drain(client.stream(STREAM), received)
    assert received == [StreamEvent({"ok": 1})]
    assert_error(caught.value, 502, "upstream_unavailable")


async def test_a_mid_stream_error_event_keeps_the_providers_message() -> None:
    async with served(sse(b"data: {\"error\": {\"message\": \"overloaded\"}}\n\n")) as (client, _):
        with pytest.raises(UpstreamError, match="overloaded"):
            await collect(client.stream(STREAM))


@pytest.mark.parametrize("first", [
    Reply(200, [b"{", Stall(0.3), b"}"], {"content-type": "application/json"}),
    Reply.json(openai_error("nope"), 500),
], ids=["json-instead-of-a-stream", "500"])
async def test_a_stream_refused_before_any_event_releases_the_connection(first: Reply) -> None:
    async with served(replies(first, Reply.json({})), pool=ONE_CONNECTION) as (client, _):
        with pytest.raises(UpstreamError) as caught:
            await collect(client.stream(STREAM))
        await client.send(CHAT)  # one connection in the pool: it would wait were it still held
    assert caught.value.status == 502


async def test_a_consumer_that_stops_early_drops_the_connection() -> None:
    wire = sse(b"data: {\"n\": 1}\n\n", Stall(0.1), b"data: {\"n\": 2}\n\n", Stall(0.1),
               b"data: {\"n\": 3}\n\n")
    async with served(replies(wire, Reply.json({})), pool=ONE_CONNECTION) as (client, server):
        async with aclosing(client.stream(STREAM)) as events:
            async for event in events:
                assert event == StreamEvent({"n": 1})
                break
        await asyncio.wait_for(server.abandoned.wait(), 5)
        await client.send(CHAT)
    assert [request.connection for request in server.requests] == [1, 2]
