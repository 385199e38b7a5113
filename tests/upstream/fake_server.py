"""A fake HTTP/1.1 upstream on 127.0.0.1 for tests: every request goes to a handler that returns a
canned ``Reply`` (a status, headers, and a body sent whole or as chunks with stalls and cuts)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson


@dataclass(frozen=True, slots=True)
class Request:
    """What the server received. ``target`` is the raw path and query; header names are lower
    case; requests with the same ``connection`` number came over the same connection."""

    method: str
    target: str
    headers: Mapping[str, str]
    body: bytes
    connection: int

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass(frozen=True, slots=True)
class Stall:
    """Send nothing for this many seconds."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Cut:
    """Drop the connection here: as a handler's result, instead of any reply."""


CUT = Cut()
Chunk = bytes | Stall | Cut


@dataclass(frozen=True, slots=True)
class Reply:
    """``body`` as bytes goes out with a content-length; as a sequence, chunk by chunk (chunked
    transfer encoding, each flushed). ``delay`` stalls before the status line."""

    status: int = 200
    body: bytes | Sequence[Chunk] = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def json(cls, body: Any, status: int = 200, *, delay: float = 0.0) -> Reply:
        return cls(status, orjson.dumps(body), {"content-type": "application/json"}, delay)

    @classmethod
    def sse(cls, chunks: Sequence[Chunk], status: int = 200) -> Reply:
        return cls(status, chunks, {"content-type": "text/event-stream"})


Handler = Callable[[Request], Reply | Cut]


@dataclass(slots=True)
class FakeUpstream:
    """``url`` ends in ``/v1``. ``abandoned`` is set once a client closed a connection before
    the reply on it was complete."""

    url: str
    requests: list[Request] = field(default_factory=list)
    abandoned: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def fake_upstream(handler: Handler) -> AsyncIterator[FakeUpstream]:
    """Serve ``handler`` on 127.0.0.1 (a free port) until the block ends; then close every
    connection, whatever state it is in."""
    tasks: set[asyncio.Task[None]] = set()
    connections = itertools.count(1)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        try:
            await _connection(fake, handler, next(connections), reader, writer)
        except asyncio.CancelledError:
            pass  # the server is stopping; asyncio would log a cancelled connection as an error
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    fake = FakeUpstream(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1")
    try:
        yield fake
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


@contextlib.contextmanager
def refused_url() -> Iterator[str]:
    """A base URL on a port that is bound but not listening, so connections are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


async def _connection(fake: FakeUpstream, handler: Handler, number: int,
                      reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while (request := await _read_request(reader, number)) is not None:
            fake.requests.append(request)
            reply = handler(request)
            try:
                if isinstance(reply, Cut) or not await _write_reply(reply, reader, writer):
                    return
            except ConnectionError:
                fake.abandoned.set()
                return


async def _read_request(reader: asyncio.StreamReader, number: int) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None  # the client closed an idle connection
    first, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
    method, target, _version = first.split(" ", 2)
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, target, headers, body, number)


async def _write_reply(reply: Reply, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> bool:
    """True once the reply is complete, False if it was cut; ``ConnectionError`` if the client
    went away first."""
    await asyncio.sleep(reply.delay)
    _check_client(reader)
    if isinstance(reply.body, bytes):
        writer.write(_head(reply, len(reply.body)) + reply.body)
        await writer.drain()
        return True
    writer.write(_head(reply, None))
    for chunk in reply.body:
        await writer.drain()
        _check_client(reader)
        if isinstance(chunk, Stall):
            await asyncio.sleep(chunk.seconds)
        elif isinstance(chunk, Cut):
            writer.transport.abort()
            return False
        else:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    return True


def _check_client(reader: asyncio.StreamReader) -> None:
    if reader.at_eof() or reader.exception() is not None:
        raise ConnectionResetError("the client closed the connection")


def _head(reply: Reply, length: int | None) -> bytes:
    try:
        phrase = HTTPStatus(reply.status).phrase
    except ValueError:
        phrase = "Unknown"
    framing = {"content-length": str(length)} if length is not None else {
        "transfer-encoding": "chunked"}
    lines = [f"HTTP/1.1 {reply.status} {phrase}",
             *(f"{name}: {value}" for name, value in {**reply.headers, **framing}.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
