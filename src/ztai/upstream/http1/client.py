"""The HTTP/1.1 client an upstream talks through: one request per connection at a time over a
keep-alive pool, no redirects, cookies, proxies or retries, and every wait bounded by its own
timeout and by the exchange's total."""

from __future__ import annotations

import asyncio
import ssl

from ztai.upstream.http1.connection import Http1Connection, open_connection
from ztai.upstream.http1.decoding import ContentDecoder
from ztai.upstream.http1.model import Budget, Origin, PreparedRequest
from ztai.upstream.http1.parser import Headers
from ztai.upstream.http1.pool import ConnectionPool
from ztai.upstream.model import Pool, Timeouts


class Http1Client:
    """Created without I/O or an event loop; closed with ``aclose``. ``tls`` replaces the
    system trust store (hostnames are checked either way) for https origins."""

    __slots__ = ("_pool", "_timeouts", "_tls")

    def __init__(self, timeouts: Timeouts, pool: Pool, tls: ssl.SSLContext | None = None) -> None:
        self._timeouts = timeouts
        self._tls = tls
        self._pool = ConnectionPool(pool, self._open)

    async def request(self, request: PreparedRequest, body: bytes,
                      total: float | None) -> Response:
        """Send ``request`` with ``body`` and wait for the response head; ``total`` bounds the
        whole exchange, reading the body included (None: only each wait is bounded). Raises
        ``HttpError`` or ``TimeoutError``, and ``RuntimeError`` once closed. The request is
        never sent twice. Read the body, then ``release()`` the response, whatever happens."""
        budget = Budget.start(self._timeouts, total)
        connection = await self._pool.acquire(request.origin, budget)
        response = None
        try:
            connection.send(b"%scontent-length: %d\r\n\r\n%s" % (request.head, len(body), body))
            await connection.drain(budget.left(self._timeouts.write))
            status, headers = await connection.head(budget.left(self._timeouts.read))
            response = Response(self._pool, connection, status, headers, budget)
        finally:
            if response is None:  # failed or cancelled: the connection is in an unknown state
                self._pool.release(connection)
        return response

    async def aclose(self) -> None:
        await self._pool.aclose()

    async def _open(self, origin: Origin, seconds: float) -> Http1Connection:
        tls = None
        if origin.scheme == "https":
            if self._tls is None:  # reading the trust store is file I/O: not on the loop
                self._tls = await asyncio.to_thread(_default_tls)
            tls = self._tls
        return await open_connection(origin, seconds, tls)


class Response:
    """A response whose head has arrived. ``receive`` (or ``async for``) yields the body in
    pieces as they arrive, without content coding; ``release`` hands the connection back (kept
    only if the body was read to its end) and may be called any number of times."""

    __slots__ = ("_budget", "_coding", "_connection", "_decoder", "_headers", "_pool",
                 "_released", "status")

    def __init__(self, pool: ConnectionPool, connection: Http1Connection, status: int,
                 headers: Headers, budget: Budget) -> None:
        self.status = status
        self._pool = pool
        self._connection = connection
        self._headers = headers
        self._budget = budget
        self._released = False
        coding = self.header("content-encoding")
        self._coding = None if coding is None or coding.lower() == "identity" else coding
        self._decoder: ContentDecoder | None = None

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower case), or None."""
        key = name.encode("latin-1")
        for found, value in self._headers:
            if found == key:
                return value.decode("latin-1").strip()
        return None

    async def receive(self) -> bytes:
        """The next piece of the body; ``b""`` at its end."""
        if self._released:  # the connection may carry another exchange by now
            raise RuntimeError("the response was released")
        if self._coding is None:
            return await self._connection.receive(self._read_timeout())
        return await self._decoded(self._coding)

    async def read(self, limit: int) -> bytes:
        """The whole body, or a prefix longer than ``limit`` as soon as it is longer."""
        first = await self.receive()
        if not first or len(first) > limit:
            return first
        pieces, size = [first], len(first)
        while size <= limit and (piece := await self.receive()):
            pieces.append(piece)
            size += len(piece)
        return first if len(pieces) == 1 else b"".join(pieces)

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._pool.release(self._connection)

    def __aiter__(self) -> Response:
        return self

    async def __anext__(self) -> bytes:
        piece = await self.receive()
        if not piece:
            raise StopAsyncIteration
        return piece

    def _read_timeout(self) -> float:
        return self._budget.left(self._budget.timeouts.read)

    async def _decoded(self, coding: str) -> bytes:
        if self._decoder is None:
            self._decoder = ContentDecoder(coding)
        decoder = self._decoder
        while True:
            if decoder.pending:
                piece = decoder.decode(b"")
            else:
                raw = await self._connection.receive(self._read_timeout())
                if not raw:
                    return decoder.finish()
                piece = decoder.decode(raw)
            if piece:
                return piece


def _default_tls() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.set_alpn_protocols(["http/1.1"])
    return context
