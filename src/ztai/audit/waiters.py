"""Waiters on the audit writer: the future each queued event answers, and how the writer
thread answers a whole batch with one ``call_soon_threadsafe`` per event loop."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from ztai.core.errors import StoreUnavailable

_log = logging.getLogger(__name__)

Future = asyncio.Future[int] | concurrent.futures.Future[int]
Outcome = int | BaseException


@dataclass(frozen=True, slots=True, eq=False)
class Pending:
    payload: bytes
    future: Future
    loop: asyncio.AbstractEventLoop | None  # None: a thread blocks on a concurrent future


@dataclass(frozen=True, slots=True, eq=False)
class Stop:
    done: concurrent.futures.Future[None]


def settle(batch: list[Pending], outcome: Sequence[int] | BaseException) -> None:
    """Resolve a batch's waiters with one ``call_soon_threadsafe`` per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Future, Outcome]]] = {}
    for index, item in enumerate(batch):
        value = refusal(outcome) if isinstance(outcome, BaseException) else outcome[index]
        if item.loop is None:
            _resolve([(item.future, value)])
        else:
            by_loop.setdefault(item.loop, []).append((item.future, value))
    for loop, pairs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_resolve, pairs)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            _log.warning("dropped %d audit results for a closed event loop", len(pairs))


def refusal(cause: BaseException) -> StoreUnavailable:
    """A fresh error per waiter (an exception object must not be raised in two tasks)."""
    error = StoreUnavailable("the audit event was not committed")
    error.__cause__ = cause
    return error


def _resolve(pairs: list[tuple[Future, Outcome]]) -> None:
    for future, value in pairs:
        if future.done():  # the waiting task was cancelled; its event is stored regardless
            continue
        if isinstance(value, BaseException):
            future.set_exception(value)
        else:
            future.set_result(value)


def finish(stop: Stop, error: BaseException | None) -> None:
    if error is None:
        stop.done.set_result(None)
    else:
        stop.done.set_exception(refusal(error))
