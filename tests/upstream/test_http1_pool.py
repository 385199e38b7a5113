"""The HTTP/1.1 client's connection pool: idle connections the server closed (even ones the loop
has not yet seen close) are replaced before a byte is sent, idle ones expire, the number open
is bounded and waiters time out or hand their turn on, and ``aclose`` closes everything."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.upstream.fake_server import Reply, fake_upstream
from tests.upstream.raw_server import Script, raw_upstream, response
from ztai.upstream.http1 import (
    ConnectError,
    ConnectionClosed,
    Http1Client,
    Response,
    prepare_post,
)
from ztai.upstream.model import Pool, Timeouts

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "uvloop"])
def anyio_backend(request: pytest.FixtureRequest) -> tuple[str, dict[str, bool]]:
    """Both loops the gateway may run on (uvicorn picks uvloop when it is installed)."""
    return "asyncio", {"use_uvloop": request.param == "uvloop"}

TIMEOUTS = Timeouts(connect=2.0, read=2.0, write=2.0, pool=2.0, total=5.0)


@contextlib.asynccontextmanager
async def http1(pool: Pool, timeouts: Timeouts = TIMEOUTS) -> AsyncIterator[Http1Client]:
    client = Http1Client(timeouts, pool)
    try:
        yield client
    finally:
        await client.aclose()


async def start(client: Http1Client, url: str) -> Response:
    return await client.request(prepare_post(f"{url}/chat/completions", {}), b"{}", total=5.0)


async def fetch(client: Http1Client, url: str) -> bytes:
    reply = await start(client, url)
    try:
        return await reply.read(1 << 20)
    finally:
        reply.release()


async def test_an_idle_connection_the_server_closed_is_replaced() -> None:
    async with raw_upstream(Script([response()], close=True)) as server, \
            http1(Pool()) as client:
        assert await fetch(client, server.url) == b"{}"
        await asyncio.wait_for(server.until_ended(1), 5)
        assert await fetch(client, server.url) == b"{}"
    assert server.connections == [1, 2]


@contextlib.contextmanager
def closing_server() -> Iterator[tuple[str, threading.Event]]:
    """A blocking server in a thread: answers one request per connection, then closes it and
    sets the event."""
    closed = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        for _ in range(2):
            connection, _ = listener.accept()
            with connection:
                received = b""
                while not received.endswith(b"{}"):
                    received += connection.recv(65536)
                connection.sendall(response())
            closed.set()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1", closed
    finally:
        thread.join(5)
        listener.close()


async def test_a_close_the_event_loop_has_not_seen_yet_is_detected_before_sending() -> None:
    with closing_server() as (url, closed):
        async with http1(Pool()) as client:
            assert await fetch(client, url) == b"{}"
            # Block the loop while the server closes: the FIN waits in the socket, unseen.
            assert closed.wait(5)
            assert await fetch(client, url) == b"{}"


async def test_idle_connections_expire() -> None:
    async with raw_upstream(Script([response()])) as server, \
            http1(Pool(keepalive_expiry=0.05)) as client:
        await fetch(client, server.url)
        await asyncio.wait_for(server.until_ended(1), 5)  # closed by the pool
        await fetch(client, server.url)
    assert server.connections == [1, 2]


async def test_an_idle_connection_to_another_origin_makes_room() -> None:
    async with raw_upstream(Script([response()])) as first, \
            raw_upstream(Script([response()])) as second, \
            http1(Pool(max_connections=1)) as client:
        await fetch(client, first.url)
        await fetch(client, second.url)
        await asyncio.wait_for(first.until_ended(1), 5)
    assert (first.connections, second.connections) == ([1], [1])


async def test_the_number_of_open_connections_is_bounded() -> None:
    async with fake_upstream(lambda request: Reply.json({}, delay=0.02)) as server, \
            http1(Pool(max_connections=2)) as client:
        bodies = await asyncio.gather(*(fetch(client, server.url) for _ in range(8)))
    assert bodies == [b"{}"] * 8
    assert {request.connection for request in server.requests} == {1, 2}


async def test_waiting_for_a_free_connection_times_out_and_a_released_one_is_reused() -> None:
    timeouts = Timeouts(connect=2.0, read=2.0, write=2.0, pool=0.1, total=5.0)
    async with fake_upstream(lambda request: Reply.json({})) as server, \
            http1(Pool(max_connections=1), timeouts) as client:
        held = await start(client, server.url)
        assert await held.read(100) == b"{}"
        with pytest.raises(TimeoutError):
            await fetch(client, server.url)
        held.release()
        assert await fetch(client, server.url) == b"{}"
    assert [request.connection for request in server.requests] == [1, 1]


async def test_a_waiter_cancelled_after_it_was_woken_hands_its_turn_on() -> None:
    async with fake_upstream(lambda request: Reply.json({})) as server, \
            http1(Pool(max_connections=1)) as client:
        held = await start(client, server.url)
        await held.read(100)
        first = asyncio.create_task(fetch(client, server.url))
        second = asyncio.create_task(fetch(client, server.url))
        await asyncio.sleep(0.01)  # both wait for the one connection
        held.release()  # wakes the first...
        first.cancel()  # ...which is cancelled before it can take the connection
        assert await asyncio.wait_for(second, 1) == b"{}"
        with pytest.raises(asyncio.CancelledError):
            await first


async def test_a_failed_connect_frees_its_place() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{unused.getsockname()[1]}/v1"
        async with fake_upstream(lambda request: Reply.json({})) as server, \
                http1(Pool(max_connections=1)) as client:
            with pytest.raises(ConnectError):
                await fetch(client, refused)
            assert await fetch(client, server.url) == b"{}"


async def test_aclose_closes_idle_and_busy_connections() -> None:
    streaming = Script([b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n",
                        b"0\r\n\r\n"], pause=5.0)
    async with raw_upstream(lambda n: streaming if n == 0 else Script([response()])) as server:
        client = Http1Client(TIMEOUTS, Pool())
        busy = await start(client, server.url)
        await fetch(client, server.url)
        await client.aclose()
        await asyncio.wait_for(server.until_ended(1), 5)  # the idle one
        assert await busy.receive() == b"{}"  # what had arrived, then the failure
        with pytest.raises(ConnectionClosed):
            await busy.receive()
        with pytest.raises(RuntimeError):
            await fetch(client, server.url)
    assert server.connections == [1, 2]
