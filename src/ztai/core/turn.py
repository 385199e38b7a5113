"""A value read once per turn of the event loop. Requests that are handled in the same turn
share one read of a store's version counter instead of one read each: under load a turn serves
many, and each read of SQLite releases the GIL, which in a busy server can hand the interpreter
to another thread (the audit writer) in the middle of a request.

The value is forgotten by a callback queued when it was read, so it never outlives the turn
that follows; anything that happens after a request's bytes were received (a revocation
committed by another process, say) is read afresh for that request. Off an event loop (the
CLI, a worker thread) every call reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerTurn(Generic[T]):
    __slots__ = ("_loop", "_read", "_value")

    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read
        self._value: T | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the value was read on

    def get(self) -> T:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return self._read()
        if self._loop is loop:
            return self._value  # type: ignore[return-value]  # set with _loop
        value = self._read()  # raises: nothing is remembered
        self._value, self._loop = value, loop
        loop.call_soon(self.forget)
        return value

    def forget(self) -> None:
        """Read afresh on the next call (after this process changed what is read)."""
        self._loop, self._value = None, None
