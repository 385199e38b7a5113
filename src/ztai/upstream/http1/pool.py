"""Keep-alive connections shared by one client: at most ``Pool.max_connections`` open at once
(callers queue for a free one, up to the pool timeout), idle ones reused most recent first and
closed after ``Pool.keepalive_expiry``. Only a connection whose last response was read to its
end, that nobody asked to close and on which nothing arrived since is reused."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from ztai.upstream.http1.connection import Http1Connection
from ztai.upstream.http1.model import Budget, Origin
from ztai.upstream.model import Pool

CLOSE_SECONDS = 1.0
"""How long ``aclose`` waits for connections to close politely before aborting them."""

Opener = Callable[[Origin, float], Awaitable[Http1Connection]]


class ConnectionPool:
    __slots__ = ("_closed", "_connections", "_idle", "_opener", "_opening", "_settings",
                 "_sweeper", "_waiters")

    def __init__(self, settings: Pool, opener: Opener) -> None:
        """No I/O and no event loop needed: the first ``acquire`` binds to the running loop."""
        self._settings = settings
        self._opener = opener
        self._connections: set[Http1Connection] = set()
        self._idle: dict[Origin, list[Http1Connection]] = {}
        self._opening = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False

    async def acquire(self, origin: Origin, budget: Budget) -> Http1Connection:
        """A connection to ``origin``: idle, new, or the next one released. ``TimeoutError``
        past the pool or connect timeout, ``ConnectError`` when none can be opened, and
        ``RuntimeError`` once the pool is closed."""
        deadline = time.monotonic() + budget.left(budget.timeouts.pool)
        woken = False
        while True:
            if self._closed:
                raise RuntimeError("the connection pool is closed")
            connection = self._take_idle(origin)
            if connection is not None:
                return connection
            if self._has_room() or self._evict_idle():
                return await self._open(origin, budget.left(budget.timeouts.connect))
            await self._wait_for_room(deadline - time.monotonic(), first=woken)
            woken = True  # beaten to it by a newcomer: wait again, at the head of the queue

    def release(self, connection: Http1Connection) -> None:
        """Take a connection back after an exchange, keeping it if it can carry another."""
        if not self._closed and connection.is_reusable():
            connection.idle_since = time.monotonic()
            self._idle.setdefault(connection.origin, []).append(connection)
            self._schedule_sweep()
        else:
            self._drop(connection)
        self._wake_one()

    async def aclose(self) -> None:
        """Close every connection, idle or busy; waiters get ``RuntimeError``."""
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
        while self._waiters:
            self._wake_one()
        connections, self._connections = self._connections, set()
        self._idle.clear()
        for connection in connections:
            connection.close()
        if connections:  # TLS closes with a handshake: give it a moment, then cut it short
            await asyncio.wait([c.lost for c in connections], timeout=CLOSE_SECONDS)
        for connection in connections:
            if not connection.lost.done():
                connection.abort()

    def _has_room(self) -> bool:
        return len(self._connections) + self._opening < self._settings.max_connections

    def _take_idle(self, origin: Origin) -> Http1Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if now - connection.idle_since < self._settings.keepalive_expiry and \
                    connection.is_fresh():
                return connection
            self._drop(connection)
        return None

    def _evict_idle(self) -> bool:
        """Close one idle connection to another origin to make room; False if there is none."""
        for idle in self._idle.values():
            if idle:
                self._drop(idle.pop(0))
                return True
        return False

    async def _open(self, origin: Origin, seconds: float) -> Http1Connection:
        self._opening += 1
        connection = None
        try:
            connection = await self._opener(origin, seconds)
        finally:
            self._opening -= 1
            if connection is None:
                self._wake_one()  # the room this caller held is free again
        if self._closed:  # closed while this one was opening: it must not outlive the pool
            connection.abort()
            raise RuntimeError("the connection pool is closed")
        self._connections.add(connection)
        return connection

    async def _wait_for_room(self, seconds: float, first: bool) -> None:
        if seconds <= 0:
            raise TimeoutError("timed out waiting for a free connection")
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        if first:
            self._waiters.appendleft(waiter)
        else:
            self._waiters.append(waiter)
        timer = loop.call_later(seconds, _expire, waiter)
        woken = False
        try:
            await waiter
            woken = True
        finally:
            timer.cancel()
            if not woken:
                self._abandon(waiter)

    def _abandon(self, waiter: asyncio.Future[None]) -> None:
        if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
            self._wake_one()  # woken, then cancelled before it could look: pass the turn on
        elif waiter in self._waiters:
            self._waiters.remove(waiter)

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _drop(self, connection: Http1Connection) -> None:
        self._connections.discard(connection)
        connection.close()

    def _schedule_sweep(self) -> None:
        if self._sweeper is None:
            loop = asyncio.get_running_loop()
            self._sweeper = loop.call_later(self._settings.keepalive_expiry, self._sweep)

    def _sweep(self) -> None:
        """Close the connections idle for too long (the server may have forgotten them)."""
        self._sweeper = None
        cutoff = time.monotonic() - self._settings.keepalive_expiry
        for origin, idle in self._idle.items():
            expired = [c for c in idle if c.idle_since <= cutoff]
            self._idle[origin] = [c for c in idle if c.idle_since > cutoff]
            for connection in expired:
                self._drop(connection)
        if any(self._idle.values()):
            self._schedule_sweep()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("timed out waiting for a free connection"))
