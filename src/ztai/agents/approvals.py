"""Human approval of held calls: a held call waits in the store until a person approves or
denies it (here, from the admin API, or from another process such as the CLI) or it times out.
The store is the one source of truth: every transition is a compare-and-set on it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
from collections.abc import Awaitable, Callable

from ztai.agents.held import HeldCallClosed, UnknownHeldCall
from ztai.core.clock import Clock
from ztai.core.errors import BadRequest, ZtaiError
from ztai.storage.interface import ApprovalStore
from ztai.storage.model import HeldCall, HeldStatus

_log = logging.getLogger(__name__)
Notify = Callable[[HeldCall], Awaitable[None]]
_Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Event]
TIMED_OUT = "no decision before the timeout"
ABANDONED = "the caller stopped waiting"


class ApprovalQueue:
    """Holds calls, waits for their decision, and decides them. ``decide`` may run on any
    thread (the admin API answers off the event loop): it wakes waiters thread-safely."""

    def __init__(self, store: ApprovalStore, clock: Clock, notify: Notify | None = None,
                 poll_s: float = 0.25) -> None:
        if not poll_s > 0:
            raise ValueError("poll_s must be positive")
        self._store, self._clock, self._notify, self._poll_s = store, clock, notify, poll_s
        self._waiters: dict[str, list[_Waiter]] = {}
        self._lock = threading.Lock()

    async def hold(self, call: HeldCall) -> HeldCall:
        """Persist ``call``, then tell the approvers. A failure to tell them is logged and kept
        in the call's ``notify_error`` (and returned); the hold stands either way."""
        if call.status is not HeldStatus.PENDING:
            raise ValueError(f"held call {call.id}: only a pending call can be held")
        await asyncio.to_thread(self._store.put_held, call)
        if self._notify is None:
            return call
        try:
            await self._notify(call)
        except Exception as exc:  # noqa: BLE001  # any notifier failure is recorded; the hold stands
            return await asyncio.to_thread(self._notify_failed, call, exc)
        return call

    async def wait(self, call_id: str, timeout_s: float) -> HeldCall:
        """The call's final state: decided, or expired once ``timeout_s`` (or the call's own
        ``expires_at``) passes. A decision here wakes the wait at once; one by another process
        is seen within ``poll_s``. If the waiting task is cancelled the call expires, so nobody
        approves a call that can no longer run. Raises ``UnknownHeldCall``."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        with self._lock:
            self._waiters.setdefault(call_id, []).append((loop, event))
        try:
            return await self._await(call_id, loop.time() + timeout_s, event)
        except asyncio.CancelledError:
            self._abandon(call_id)
            raise
        finally:
            with self._lock:
                waiters = self._waiters.pop(call_id, [])
                if rest := [w for w in waiters if w[1] is not event]:
                    self._waiters[call_id] = rest

    def decide(self, call_id: str, approve: bool, by: str, reason: str) -> HeldCall:
        """Approve or deny a pending call as ``by`` (a person's "kind:id"; never an agent).
        Raises ``UnknownHeldCall``, or ``HeldCallClosed`` if it was already decided or expired,
        and ``BadRequest`` without a reason."""
        if by.startswith("agent:"):
            raise BadRequest("held calls are decided by people, not by agents", param="by")
        if not reason.strip():
            raise BadRequest("a decision needs a reason", param="reason")
        call, now = self._get(call_id), self._clock.now()
        if call.status is HeldStatus.PENDING and now >= call.expires_at:
            call, _ = self._settle(call, HeldStatus.EXPIRED, None, TIMED_OUT)
        if call.status is HeldStatus.PENDING:
            status = HeldStatus.APPROVED if approve else HeldStatus.DENIED
            call, won = self._settle(call, status, by, reason)
            if won:
                return call
        raise HeldCallClosed(f"held call {call_id!r} was already {call.status.value}",
                             param="call_id")

    def get(self, call_id: str) -> HeldCall:
        """The call as stored; raises ``UnknownHeldCall``."""
        return self._get(call_id)

    def calls(self, status: HeldStatus | None) -> list[HeldCall]:
        """The calls with ``status`` (all when None), oldest first."""
        return self._store.list_held(status)

    def pending(self) -> list[HeldCall]:
        """Calls waiting for a decision, oldest first (some may be past their expiry)."""
        return self._store.list_held(HeldStatus.PENDING)

    def expire(self, now: float) -> list[HeldCall]:
        """Housekeeping: expire pending calls whose ``expires_at`` is at or before ``now``;
        returns those this call expired."""
        expired = []
        for call in self._store.list_held(HeldStatus.PENDING):
            if call.expires_at <= now:
                done, won = self._settle(call, HeldStatus.EXPIRED, None, TIMED_OUT)
                if won:
                    expired.append(done)
        return expired

    async def _await(self, call_id: str, deadline: float, event: asyncio.Event) -> HeldCall:
        loop = asyncio.get_running_loop()
        while True:
            call = await asyncio.to_thread(self._get, call_id)
            if call.status is not HeldStatus.PENDING:
                return call
            remaining = deadline - loop.time()
            if remaining <= 0 or self._clock.now() >= call.expires_at:
                final, _ = await asyncio.to_thread(
                    self._settle, call, HeldStatus.EXPIRED, None, TIMED_OUT)
                return final
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(self._poll_s, remaining)):
                    await event.wait()

    def _settle(self, call: HeldCall, status: HeldStatus, by: str | None, reason: str
                ) -> tuple[HeldCall, bool]:
        """Move a pending call to ``status``: the call as stored afterwards, and whether this
        move won (if another decider won the race, the call as they left it). Wakes this
        process's waiters either way."""
        final = dataclasses.replace(call, status=status, decided_by=by,
                                    decided_at=self._clock.now(), reason=reason)
        won = self._store.update_held(final, HeldStatus.PENDING)
        if not won:
            final = self._get(call.id)
        self._wake(call.id)
        return final, won

    def _get(self, call_id: str) -> HeldCall:
        call = self._store.get_held(call_id)
        if call is None:
            raise UnknownHeldCall(f"no held call {call_id!r}", param="call_id")
        return call

    def _wake(self, call_id: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(call_id, ()))
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits there
                loop.call_soon_threadsafe(event.set)

    def _notify_failed(self, call: HeldCall, exc: Exception) -> HeldCall:
        # A ztai error's message is safe to keep; any other may hold a URL or a secret.
        why = exc.message if isinstance(exc, ZtaiError) else type(exc).__name__
        _log.warning("held call %s: telling the approvers failed: %s", call.id, why)
        noted = dataclasses.replace(call, notify_error=why[:500] or type(exc).__name__)
        return noted if self._store.update_held(noted, HeldStatus.PENDING) else self._get(call.id)

    def _abandon(self, call_id: str) -> None:
        try:
            call = self._get(call_id)
            if call.status is HeldStatus.PENDING:
                self._settle(call, HeldStatus.EXPIRED, None, ABANDONED)
        except ZtaiError as exc:  # the cancellation goes on; the call expires by its time
            _log.warning("held call %s: could not expire an abandoned wait: %s", call_id,
                         exc.message)
