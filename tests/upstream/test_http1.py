"""The HTTP/1.1 client against raw and fake servers on 127.0.0.1: framing (length, chunked with
extensions and trailers, until close, tiny writes, informational responses), content codings,
broken and oversized responses, and how keep-alive connections are reused or dropped."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import zlib
from collections.abc import AsyncIterator

import pytest

from tests.upstream.fake_server import Reply, fake_upstream
from tests.upstream.raw_server import Script, raw_upstream, response
from ztai.core.errors import UpstreamError
from ztai.upstream.http1 import (
    ConnectionClosed,
    Http1Client,
    PreparedRequest,
    ProtocolError,
    prepare_post,
)
from ztai.upstream.interface import Endpoint, StreamEvent, UpstreamCall
from ztai.upstream.model import OpenAIOptions, Pool, Timeouts
from ztai.upstream.openai import OpenAIUpstream

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "uvloop"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, bool]]:
    """Both loops the gateway may run on (uvicorn picks uvloop when it is installed)."""
    return "asyncio", {"use_uvloop": request.param == "uvloop"}

TIMEOUTS = Timeouts(connect=2.0, read=1.0, write=1.0, pool=1.0, total=5.0)
CHAT = UpstreamCall(Endpoint.CHAT, {"model": "m", "messages": []})
CHUNKED = "transfer-encoding: chunked"


def post(url: str) -> PreparedRequest:
    return prepare_post(f"{url}/chat/completions", {"content-type": "application/json"})


@contextlib.asynccontextmanager
async def http1(pool: Pool | None = None,
                timeouts: Timeouts = TIMEOUTS) -> AsyncIterator[Http1Client]:
    client = Http1Client(timeouts, pool or Pool())
    try:
        yield client
    finally:
        await client.aclose()


async def fetch(client: Http1Client, url: str, limit: int = 1 << 20) -> tuple[int, bytes]:
    """POST ``{}``; the status and the body (or its first ``limit`` + bytes)."""
    reply = await client.request(post(url), b"{}", total=5.0)
    try:
        return reply.status, await reply.read(limit)
    finally:
        reply.release()


def chunk(data: bytes, extension: bytes = b"") -> bytes:
    return b"%x%s\r\n%s\r\n" % (len(data), extension, data)


def head(status: str = "200 OK", *headers: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers]) + "\r\n\r\n").encode()


# --- keep-alive ------------------------------------------------------------------------------

async def test_sequential_requests_share_one_connection() -> None:
    chunked = Reply(200, [b'{"a":', b" 1}"])
    answers = iter([Reply.json({"n": 1}), chunked, Reply.json({"n": 3})])
    async with fake_upstream(lambda request: next(answers)) as server, http1() as client:
        bodies = [await fetch(client, server.url) for _ in range(3)]
    assert bodies == [(200, b'{"n":1}'), (200, b'{"a": 1}'), (200, b'{"n":3}')]
    assert [request.connection for request in server.requests] == [1, 1, 1]
    assert server.requests[0].headers["accept-encoding"] == "identity"


@pytest.mark.parametrize("reply", [
    response("200 OK", b"{}", "connection: close"),
    b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}",
    response("200 OK", b"{}") + b"HTTP/1.1 200 OK\r\n",  # bytes after the response
], ids=["connection-close", "http-1.0", "bytes-after-the-response"])
async def test_a_connection_is_not_reused_when_it_cannot_be(reply: bytes) -> None:
    async with raw_upstream(Script([reply])) as server, http1() as client:
        assert await fetch(client, server.url) == (200, b"{}")
        assert await fetch(client, server.url) == (200, b"{}")
    assert server.connections == [1, 2]


async def test_bytes_arriving_on_an_idle_connection_retire_it() -> None:
    async with raw_upstream(Script([response(), b"HTTP/1.1 200 OK\r\n"], pause=0.02)) as server, \
            http1() as client:
        assert await fetch(client, server.url) == (200, b"{}")
        await asyncio.sleep(0.1)  # the stray bytes arrive while the connection idles
        assert await fetch(client, server.url) == (200, b"{}")
    assert server.connections == [1, 2]


async def test_a_large_body_read_slowly_pauses_reading_and_arrives_whole() -> None:
    body = bytes(range(256)) * (8 << 10)  # 2 MiB
    async with fake_upstream(lambda request: Reply(200, [body[:1 << 20], body[1 << 20:]])
                             ) as server, http1() as client:
        reply = await client.request(post(server.url), b"{}", total=5.0)
        await asyncio.sleep(0.1)  # the consumer lags: more than the buffer arrives
        received = await reply.read(4 << 20)
        reply.release()
        assert await fetch(client, server.url, limit=4 << 20) == (200, body)
    assert received == body
    assert [request.connection for request in server.requests] == [1, 1]


async def test_a_large_upload_is_sent_whole() -> None:
    upload = b'"' + b"u" * (8 << 20) + b'"'
    async with fake_upstream(lambda request: Reply.json(len(request.body))) as server, \
            http1() as client:
        reply = await client.request(post(server.url), upload, total=5.0)
        assert await reply.read(100) == str(len(upload)).encode()
        reply.release()


async def test_chunk_extensions_and_trailers_are_read_and_the_connection_kept() -> None:
    wire = (head("200 OK", CHUNKED, "trailer: x-checksum") + chunk(b'{"a":', b';ext=1;q="a b"') +
            chunk(b" 1}", b";last") + b"0\r\nx-checksum: abc\r\nx-more: 1\r\n\r\n")
    async with raw_upstream(Script([wire])) as server, http1() as client:
        assert await fetch(client, server.url) == (200, b'{"a": 1}')
        assert await fetch(client, server.url) == (200, b'{"a": 1}')
    assert server.connections == [1, 1]


async def test_a_response_in_tiny_writes_is_read_whole() -> None:
    wire = head("200 OK", "content-type: application/json", CHUNKED) + chunk(b'{"tiny": true}') + \
        b"0\r\n\r\n"
    pieces = [wire[i:i + 1] for i in range(len(wire))]
    async with raw_upstream(Script(pieces, pause=0.0005)) as server, http1() as client:
        assert await fetch(client, server.url) == (200, b'{"tiny": true}')
        assert await fetch(client, server.url) == (200, b'{"tiny": true}')
    assert server.connections == [1, 1]


async def test_a_stream_in_tiny_writes_and_one_read_to_its_end_keeps_its_connection() -> None:
    events = b'data: {"n": 1}\n\ndata: {"n": 2}\n\ndata: [DONE]\n\n'
    wire = head("200 OK", "content-type: text/event-stream", CHUNKED) + chunk(events) + b"0\r\n\r\n"
    tiny = Script([wire[i:i + 3] for i in range(0, len(wire), 3)], pause=0.0005)
    async with raw_upstream(lambda n: tiny if n == 0 else Script([wire])) as server:
        client = OpenAIUpstream(OpenAIOptions("p", server.url, timeouts=TIMEOUTS))
        streams = [[event async for event in client.stream(CHAT)] for _ in range(3)]
        await client.aclose()
    assert streams == [[StreamEvent({"n": 1}), StreamEvent({"n": 2}), StreamEvent(None)]] * 3
    assert server.connections[1] == server.connections[2]  # the body had ended with [DONE]


async def test_a_body_that_runs_until_the_connection_closes() -> None:
    async with raw_upstream(Script([head(), b'{"until":', b' "close"}'], pause=0.01,
                                   close=True)) as server, http1() as client:
        assert await fetch(client, server.url) == (200, b'{"until": "close"}')
        assert await fetch(client, server.url) == (200, b'{"until": "close"}')
    assert server.connections == [1, 2]


async def test_informational_responses_are_skipped() -> None:
    wire = head("100 Continue") + head("103 Early Hints", "link: </x>") + \
        response("200 OK", b"{}", "x-final: yes")
    async with raw_upstream(Script([wire])) as server, http1() as client:
        reply = await client.request(post(server.url), b"{}", total=5.0)
        reply.release()
    assert (reply.status, reply.header("x-final"), reply.header("link")) == (200, "yes", None)


# --- content codings ----------------------------------------------------------------------------

async def test_a_deflated_body_is_inflated() -> None:
    wire = response("200 OK", zlib.compress(b'{"deflated": 1}'), "content-encoding: deflate")
    async with raw_upstream(Script([wire])) as server, http1() as client:
        assert await fetch(client, server.url) == (200, b'{"deflated": 1}')


async def test_a_compressed_body_is_inflated_in_bounded_pieces() -> None:
    bomb = zlib.compress(b"0" * (8 << 20), 9)  # 8 MiB from about 8 KiB
    wire = response("200 OK", bomb, "content-encoding: deflate")
    async with raw_upstream(Script([wire])) as server, http1() as client:
        _, body = await fetch(client, server.url, limit=1024)
    assert 1024 < len(body) <= 256 * 1024


async def test_a_compressed_body_cut_short_is_a_protocol_error() -> None:
    wire = response("200 OK", gzip.compress(b'{"long": "' + b"x" * 4096 + b'"}')[:-12],
                    "content-encoding: gzip")
    async with raw_upstream(Script([wire])) as server, http1() as client:
        with pytest.raises(ProtocolError, match="cut short"):
            await fetch(client, server.url)


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip, gzip"])
async def test_an_unsupported_content_coding_is_a_protocol_error(coding: str) -> None:
    async with raw_upstream(Script([response("200 OK", b"xx", f"content-encoding: {coding}")])
                            ) as server, http1() as client:
        with pytest.raises(ProtocolError):
            await fetch(client, server.url)


# --- broken and oversized responses ---------------------------------------------------------

BROKEN = {
    "bad-status-line": b"HTTP/1.1 abc OK\r\n\r\n",
    "not-http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "length-and-chunked": head("200 OK", "content-length: 2", CHUNKED) + b"{}",
    "bad-chunk-size": head("200 OK", CHUNKED) + b"zz\r\n{}\r\n0\r\n\r\n",
    "switching-protocols": head("101 Switching Protocols", "upgrade: h2c", "connection: upgrade"),
    "head-too-large": head("200 OK", "x-big: " + "a" * (70 * 1024)),
    "too-many-headers": head("200 OK", *(f"x-h{i}: v" for i in range(101))),
    "trailers-too-large": head("200 OK", CHUNKED) + chunk(b"{}") + b"0\r\n" +
    b"".join(b"x-t%d: %s\r\n" % (i, b"v" * 1000) for i in range(200)) + b"\r\n",
}


@pytest.mark.parametrize("wire", BROKEN.values(), ids=BROKEN.keys())
async def test_a_broken_response_is_a_bad_response(wire: bytes) -> None:
    async with raw_upstream(Script([wire])) as server:
        client = OpenAIUpstream(OpenAIOptions("p", server.url, timeouts=TIMEOUTS))
        with pytest.raises(UpstreamError) as caught:
            await client.send(CHAT)
        await client.aclose()
    assert (caught.value.status, caught.value.code) == (502, "upstream_bad_response")


async def test_a_head_just_under_the_limit_in_pieces_is_read() -> None:
    wire = response("200 OK", b"{}", "x-pad: " + "p" * (63 * 1024))
    async with raw_upstream(Script([wire[:30000], wire[30000:]], pause=0.01)) as server, \
            http1() as client:
        assert await fetch(client, server.url) == (200, b"{}")


async def test_a_body_over_the_limit_is_refused_without_reading_it_all() -> None:
    wire = [head("200 OK", f"content-length: {64 << 20}"), b"x" * (1 << 20)]
    async with raw_upstream(Script(wire)) as server:
        client = OpenAIUpstream(OpenAIOptions("p", server.url, timeouts=TIMEOUTS,
                                              max_body_bytes=1024))
        with pytest.raises(UpstreamError) as caught:
            await client.send(CHAT)
        await asyncio.wait_for(server.until_ended(1), 5)  # dropped, not kept to read 64 MiB
        await client.aclose()
    assert (caught.value.status, caught.value.code) == (502, "upstream_bad_response")


@pytest.mark.parametrize("pieces", [
    [b"HTTP/1.1 200 OK\r\ncontent-"], [head("200 OK", "content-length: 10"), b"{}"],
    [head("200 OK", CHUNKED), chunk(b"{}")],
], ids=["mid-head", "short-body", "unfinished-chunks"])
async def test_a_connection_closed_mid_response_is_closed(pieces: list[bytes]) -> None:
    async with raw_upstream(Script(pieces, close=True)) as server, http1() as client:
        with pytest.raises(ConnectionClosed):
            await fetch(client, server.url)


async def test_an_upload_the_server_does_not_read_times_out() -> None:
    stalled = Script([b"", response()], pause=5.0, read_body=False)
    timeouts = Timeouts(connect=1.0, read=1.0, write=0.2, pool=1.0, total=5.0)
    async with raw_upstream(stalled) as server, http1(timeouts=timeouts) as client:
        with pytest.raises(TimeoutError):
            await client.request(post(server.url), b"x" * (32 << 20), total=5.0)
