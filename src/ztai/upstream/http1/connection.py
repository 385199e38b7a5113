"""One HTTP/1.1 connection: an asyncio ``Protocol`` that writes a request, feeds the response to
a ``ResponseParser``, and lets the caller wait for its head and body. Waits are bounded by
timers on plain futures rather than ``asyncio.timeout``: no task cancellation on the hot path."""

from __future__ import annotations

import asyncio
import select
import ssl
import time
from typing import cast

from ztai.upstream.http1.errors import ConnectError, ConnectionClosed, HttpError, ProtocolError
from ztai.upstream.http1.model import Origin
from ztai.upstream.http1.parser import Headers, ResponseParser

MAX_BUFFERED_BYTES = 256 * 1024
"""Unread body held before reading pauses."""


async def open_connection(origin: Origin, seconds: float,
                          tls: ssl.SSLContext | None) -> Http1Connection:
    """A new connection (TLS when ``tls`` is given, checking the host's certificate)."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(seconds):
            _, connection = await loop.create_connection(
                lambda: Http1Connection(origin), origin.host, origin.port, ssl=tls,
                server_hostname=origin.host if tls is not None else None)
    except OSError as exc:  # refused, unreachable, DNS (gaierror), TLS (SSLError)
        raise ConnectError(f"could not connect to {origin}") from exc
    return connection


class Http1Connection(asyncio.Protocol):
    """Carries one exchange at a time: ``send`` a request, then ``head`` and ``receive`` until
    it returns ``b""``. Waits raise ``TimeoutError`` when their time is up and ``HttpError``
    when the exchange fails; body bytes that arrived before a failure are delivered first."""

    __slots__ = ("_eof", "_failure", "_loop", "_lost", "_poller", "_read_paused", "_response",
                 "_transport", "_waiter", "_write_paused", "idle_since", "origin")

    def __init__(self, origin: Origin) -> None:
        self.origin = origin
        self.idle_since = 0.0
        self._loop = asyncio.get_running_loop()
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._transport: asyncio.Transport | None = None
        self._response: ResponseParser | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._failure: HttpError | None = None
        self._poller: select.poll | None = None
        self._eof = self._write_paused = self._read_paused = False

    def send(self, data: bytes) -> None:
        """Start an exchange by writing the whole request."""
        if self._transport is None or self._transport.is_closing() or self._failure:
            raise ConnectionClosed("the connection is closed")
        self._response = ResponseParser()
        self._transport.write(data)

    async def drain(self, seconds: float) -> None:
        """Wait until the request is handed to the kernel (or the response has begun)."""
        while self._write_paused and self._failure is None and not self._parsed().head_done:
            await self._wait(seconds)

    async def head(self, seconds: float) -> tuple[int, Headers]:
        """The status and headers. ``seconds`` bounds the whole wait."""
        deadline = time.monotonic() + seconds
        response = self._parsed()
        while not response.head_done:
            if self._failure is not None:
                raise self._failure
            await self._wait(deadline - time.monotonic())
        return response.status, response.headers

    async def receive(self, seconds: float) -> bytes:
        """The body bytes that arrived since the last call; ``b""`` once the body is done."""
        response = self._parsed()
        while not response.buffered:
            if response.complete:
                return b""
            if self._failure is not None:
                raise self._failure
            await self._wait(seconds)
        if self._read_paused and self._transport is not None:
            self._read_paused = False
            self._transport.resume_reading()
        return response.take()

    def is_reusable(self) -> bool:
        """The response was read to its end, and neither side wants the connection closed."""
        response = self._response
        return (response is not None and response.complete and response.keep_alive and
                not response.trailing and self._failure is None and not self._eof and
                self._transport is not None and not self._transport.is_closing())

    def is_fresh(self) -> bool:
        """Still fit for a request after idling: nothing arrived since, not even an end of
        stream the loop has yet to see, so no byte of a request goes to a closed socket."""
        if not self.is_reusable() or self._transport is None:
            return False
        if self._poller is None:
            sock = self._transport.get_extra_info("socket")
            if sock is None:
                return False
            self._poller = select.poll()
            self._poller.register(sock.fileno(), select.POLLIN)
        return not self._poller.poll(0)

    def close(self) -> None:
        """Close politely after a complete response, abruptly otherwise."""
        if self._transport is not None:
            if self._response is not None and self._response.complete:
                self._transport.close()
            else:
                self._transport.abort()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    @property
    def lost(self) -> asyncio.Future[None]:
        """Done once the transport is gone."""
        return self._lost

    def _parsed(self) -> ResponseParser:
        if self._response is None:
            raise RuntimeError("no request was sent on this connection")
        return self._response

    async def _wait(self, seconds: float) -> None:
        if seconds <= 0:
            raise TimeoutError("timed out waiting for the upstream")
        waiter = self._waiter = self._loop.create_future()
        timer = self._loop.call_later(seconds, _expire, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _fail(self, failure: HttpError) -> None:
        if self._failure is None:
            self._failure = failure
        if self._transport is not None:
            self._transport.abort()
        self._wake()

    # --- asyncio's side ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # a stream transport, always

    def connection_lost(self, exc: Exception | None) -> None:
        self._peer_closed()
        if not self._lost.done():
            self._lost.set_result(None)

    def eof_received(self) -> bool | None:
        self._peer_closed()
        return None  # let the transport close itself

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake()

    def data_received(self, data: bytes) -> None:
        response = self._response
        if response is None:
            self._fail(ProtocolError("the upstream sent bytes before any request"))
            return
        try:
            response.feed(data)
        except ProtocolError as exc:
            self._fail(exc)
            return
        if response.buffered > MAX_BUFFERED_BYTES and not self._read_paused and \
                self._transport is not None:
            self._read_paused = True
            self._transport.pause_reading()
        self._wake()

    def _peer_closed(self) -> None:
        self._eof = True
        response = self._response
        if response is not None and not response.complete:
            response.end_of_stream()
            if not response.complete:
                self._fail(ConnectionClosed("the upstream closed the connection mid-response"))
        self._wake()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("timed out waiting for the upstream"))
