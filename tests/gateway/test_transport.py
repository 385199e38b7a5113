"""The coalescing transport: what one turn of the loop writes reaches the socket as one write,
nothing is held past the turn, and responses of every shape arrive whole through uvicorn."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from ztai.gateway.transport import FLUSH_AT, CoalescingTransport, http_protocol


class Inner(asyncio.Transport):
    """A transport that records what reaches it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closing = self.closed = self.aborted = self.eof = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = self.closed = True

    def abort(self) -> None:
        self.closing = self.aborted = True

    def write_eof(self) -> None:
        self.eof = True

    def can_write_eof(self) -> bool:
        return True

    def get_write_buffer_size(self) -> int:
        return 7

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5)}.get(name, default)


async def turn() -> None:
    """Let the loop run what was scheduled with ``call_soon``."""
    await asyncio.sleep(0)


@pytest.mark.anyio
async def test_writes_of_one_turn_reach_the_socket_as_one() -> None:
    inner = Inner()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    transport.write(b"")
    transport.writelines([b"body", bytearray(b"!")])
    assert inner.writes == []
    assert transport.get_write_buffer_size() == 7 + 24
    await turn()
    assert inner.writes == [b"HTTP/1.1 200 OK\r\n\r\nbody!"]
    transport.write(b"next turn")
    await turn()
    assert inner.writes[1:] == [b"next turn"]


@pytest.mark.anyio
async def test_a_reused_buffer_is_copied() -> None:
    inner = Inner()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    buffer = bytearray(b"first")
    transport.write(buffer)
    buffer[:] = b"later"
    await turn()
    assert inner.writes == [b"first"]


@pytest.mark.anyio
async def test_a_large_burst_goes_out_at_once_so_flow_control_sees_it() -> None:
    inner = Inner()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    chunk = b"x" * (FLUSH_AT // 4)
    for _ in range(4):
        transport.write(chunk)
    assert inner.writes == [chunk * 4]  # without waiting for the turn
    transport.write(b"tail")
    await turn()
    assert inner.writes == [chunk * 4, b"tail"]


@pytest.mark.anyio
async def test_close_and_eof_send_what_waits_first_abort_drops_it() -> None:
    loop = asyncio.get_running_loop()
    inner = Inner()
    transport = CoalescingTransport(inner, loop)
    transport.write(b"last words")
    transport.close()
    assert inner.writes == [b"last words"]
    assert inner.closed

    inner = Inner()
    transport = CoalescingTransport(inner, loop)
    transport.write(b"before eof")
    transport.write_eof()
    assert inner.writes == [b"before eof"]
    assert inner.eof

    inner = Inner()
    transport = CoalescingTransport(inner, loop)
    transport.write(b"never sent")
    transport.abort()
    await turn()
    assert inner.writes == []
    assert inner.aborted


@pytest.mark.anyio
async def test_nothing_is_written_to_a_transport_that_is_closing() -> None:
    inner = Inner()
    transport = CoalescingTransport(inner, asyncio.get_running_loop())
    transport.write(b"for a peer that left")
    inner.closing = True
    await turn()
    assert inner.writes == []
    assert transport.is_closing()
    assert transport.get_extra_info("peername") == ("127.0.0.1", 5)
    assert transport.can_write_eof()


# ---------------------------------------------------------------- through uvicorn

BIG = bytes(range(256)) * 4096  # 1 MiB, more than the socket takes at once
FIRST_READ = threading.Event()  # set by the client once it holds the first streamed event


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/small":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"5")]})
        await send({"type": "http.response.body", "body": b"hello"})
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        for i in range(3):
            await send({"type": "http.response.body", "body": b"data: %d\n\n" % i,
                        "more_body": True})
            await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b""})
    elif path == "/wait":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        await send({"type": "http.response.body", "body": b"data: 0\n\n", "more_body": True})
        await asyncio.to_thread(FIRST_READ.wait, 10)
        await send({"type": "http.response.body", "body": b"data: 1\n\n"})
    else:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(BIG)).encode())]})
        for start in range(0, len(BIG), 16 * 1024):
            await send({"type": "http.response.body", "body": BIG[start:start + 16 * 1024],
                        "more_body": start + 16 * 1024 < len(BIG)})


@pytest.fixture(params=["asyncio", "auto"])
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none",
                            loop=request.param, http=http_protocol(),
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_answers_of_every_shape_arrive_whole(served: str) -> None:
    with httpx.Client(base_url=served, timeout=10) as client:
        for _ in range(3):  # one kept-alive connection, several exchanges
            small = client.get("/small")
            assert (small.status_code, small.content) == (200, b"hello")
        with client.stream("GET", "/stream") as streamed:
            body = b"".join(streamed.iter_bytes())
        assert body == b"".join(b"data: %d\n\n" % i for i in range(3))
        big = client.get("/big")
        assert big.content == BIG


def test_a_streamed_chunk_is_not_held_for_the_next(served: str) -> None:
    """The handler sends its second event only once the client holds the first: a transport
    that kept the first back (for the next write) would stall until the deadline."""
    FIRST_READ.clear()
    with httpx.Client(base_url=served, timeout=5) as client, \
            client.stream("GET", "/wait") as streamed:
        pieces = streamed.iter_raw()
        started = time.monotonic()
        assert next(pieces) == b"data: 0\n\n"
        assert time.monotonic() - started < 5
        FIRST_READ.set()
        assert b"".join(pieces) == b"data: 1\n\n"
