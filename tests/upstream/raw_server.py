"""A raw HTTP/1.1 server on 127.0.0.1 for client tests (optionally over TLS): each request gets
the bytes a ``Script`` gives, written in pieces with pauses, so a test can send what the fake
upstream will not: chunk extensions, trailers, tiny writes, broken or oversized heads."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Script:
    """``pieces`` are written one by one, ``pause`` seconds apart; ``close`` closes the
    connection after the last; ``read_body`` False leaves the request body unread."""

    pieces: Sequence[bytes]
    pause: float = 0.0
    close: bool = False
    read_body: bool = True


@dataclass(slots=True)
class RawUpstream:
    """``url`` ends in ``/v1``; ``requests`` holds (connection number, request head) pairs;
    ``ended`` counts connections the server saw end."""

    url: str
    requests: list[tuple[int, bytes]] = field(default_factory=list)
    ended: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def until_ended(self, count: int) -> None:
        """Wait until the server has seen ``count`` connections end."""
        while self.ended < count:
            self.changed.clear()
            await self.changed.wait()

    @property
    def connections(self) -> list[int]:
        return [number for number, _ in self.requests]


def response(status: str = "200 OK", body: bytes = b"{}", *headers: str) -> bytes:
    """A whole response with a content-length."""
    lines = [f"HTTP/1.1 {status}", *headers, f"content-length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@contextlib.asynccontextmanager
async def raw_upstream(script: Script | Callable[[int], Script],
                       tls: ssl.SSLContext | None = None) -> AsyncIterator[RawUpstream]:
    """Serve ``script`` (or ``script(n)`` for the n-th request, from 0) until the block ends."""
    pick = script if callable(script) else (lambda _: script)
    numbers, count = itertools.count(1), itertools.count()
    tasks: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        number = next(numbers)
        try:
            while (head := await _read_head(reader)) is not None:
                raw.requests.append((number, head))
                if not await _play(pick(next(count)), head, reader, writer):
                    break
        except (ConnectionError, asyncio.CancelledError, ssl.SSLError):
            pass  # the client went away, or the server is stopping
        finally:
            raw.ended += 1
            raw.changed.set()
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)
    raw = RawUpstream(f"{'https' if tls else 'http'}://127.0.0.1:"
                      f"{server.sockets[0].getsockname()[1]}/v1")
    try:
        yield raw
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None


async def _play(script: Script, head: bytes, reader: asyncio.StreamReader,
                writer: asyncio.StreamWriter) -> bool:
    """Answer one request; False when the connection should end."""
    if script.read_body:
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")), 0)
        await reader.readexactly(length)
    for index, piece in enumerate(script.pieces):
        if index and script.pause:
            await asyncio.sleep(script.pause)
        if writer.is_closing():  # the client left (uvloop refuses writes to a closed transport)
            return False
        writer.write(piece)
        await writer.drain()
    return not script.close
