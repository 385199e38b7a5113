"""The approval queue: a held call waits until a person decides it here (woken at once) or in
another process over the same SQLite file (seen by polling), or until it times out; every
transition is a compare-and-set, so racing deciders and expiry never both win."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from ztai.agents.approvals import ABANDONED, TIMED_OUT, ApprovalQueue
from ztai.agents.held import HeldCallClosed, UnknownHeldCall, decision_event, new_held_call
from ztai.core.clock import FixedClock
from ztai.core.errors import BadRequest
from ztai.storage.memory import MemoryApprovalStore
from ztai.storage.model import HeldCall, HeldStatus
from ztai.storage.sqlite import SqliteApprovalStore

pytestmark = pytest.mark.anyio
CHAIN = ("user:alice", "agent:mailbot")
SUMMARY = {"tool": "send_email", "server": "mail", "reasons": "external recipient"}


def _call(clock: FixedClock, timeout_s: float = 120.0) -> HeldCall:
    return new_held_call(CHAIN, "call_tool", "mail/send_email", SUMMARY, clock.now(), timeout_s)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "ztai.db"


@pytest.fixture
def sqlite_store(database: Path) -> Iterator[SqliteApprovalStore]:
    with closing(SqliteApprovalStore(database)) as store:
        yield store


async def test_a_held_call_is_stored_then_announced(clock: FixedClock) -> None:
    store, told = MemoryApprovalStore(), []

    async def notify(call: HeldCall) -> None:
        told.append((call, store.get_held(call.id)))  # stored before anyone is told

    queue = ApprovalQueue(store, clock, notify)
    call = await queue.hold(_call(clock))
    assert told == [(call, call)]
    assert queue.pending() == [call]
    assert (call.principal, call.chain, call.expires_at) == ("agent:mailbot", CHAIN,
                                                             clock.now() + 120)


async def test_a_decision_in_this_process_wakes_the_wait_at_once(clock: FixedClock) -> None:
    queue = ApprovalQueue(MemoryApprovalStore(), clock, poll_s=60.0)  # polling would be too late
    call = await queue.hold(_call(clock))
    waiting = asyncio.create_task(queue.wait(call.id, timeout_s=30.0))
    await asyncio.sleep(0.01)
    # the admin API decides off the event loop, in a worker thread
    decided = await asyncio.to_thread(queue.decide, call.id, True, "user:carol", "expected")
    async with asyncio.timeout(2.0):
        final = await waiting
    assert final == decided
    assert (final.status, final.decided_by, final.reason) == (
        HeldStatus.APPROVED, "user:carol", "expected")
    assert final.decided_at == clock.now()
    assert queue.pending() == []


async def test_a_decision_in_another_process_is_seen_by_polling(
        clock: FixedClock, database: Path, sqlite_store: SqliteApprovalStore) -> None:
    gateway = ApprovalQueue(sqlite_store, clock, poll_s=0.02)
    call = await gateway.hold(_call(clock))
    waiting = asyncio.create_task(gateway.wait(call.id, timeout_s=30.0))
    await asyncio.sleep(0.05)
    with closing(SqliteApprovalStore(database)) as other:  # the CLI's own connection
        ApprovalQueue(other, clock).decide(call.id, False, "operator:root", "not today")
    async with asyncio.timeout(2.0):
        final = await waiting
    assert (final.status, final.decided_by, final.reason) == (
        HeldStatus.DENIED, "operator:root", "not today")


async def test_no_decision_before_the_timeout_expires_the_call(clock: FixedClock) -> None:
    queue = ApprovalQueue(MemoryApprovalStore(), clock, poll_s=0.01)
    call = await queue.hold(_call(clock))
    final = await queue.wait(call.id, timeout_s=0.05)
    assert (final.status, final.decided_by, final.reason) == (
        HeldStatus.EXPIRED, None, TIMED_OUT)
    assert queue.get(call.id) == final
    with pytest.raises(HeldCallClosed, match="already expired"):
        queue.decide(call.id, True, "user:carol", "too late")


async def test_a_call_past_its_own_expiry_is_expired_without_waiting(clock: FixedClock) -> None:
    queue = ApprovalQueue(MemoryApprovalStore(), clock, poll_s=60.0)
    call = await queue.hold(_call(clock, timeout_s=10.0))
    clock.advance(10.0)
    async with asyncio.timeout(2.0):
        final = await queue.wait(call.id, timeout_s=300.0)
    assert final.status is HeldStatus.EXPIRED


async def test_a_decision_after_the_expiry_time_is_refused_and_expires_the_call(
        clock: FixedClock) -> None:
    queue = ApprovalQueue(MemoryApprovalStore(), clock)
    call = await queue.hold(_call(clock, timeout_s=10.0))
    clock.advance(11.0)
    with pytest.raises(HeldCallClosed, match="already expired"):
        queue.decide(call.id, True, "user:carol", "looks fine")
    assert queue.get(call.id).status is HeldStatus.EXPIRED


async def test_an_approval_that_lands_just_before_expiry_wins(clock: FixedClock) -> None:
    """Expiry is a compare-and-set too: if a person approved first, the wait returns that."""

    class ApprovedFirst(MemoryApprovalStore):
        def update_held(self, call: HeldCall, expected_status: HeldStatus) -> bool:
            if call.status is HeldStatus.EXPIRED and self.list_held(HeldStatus.PENDING):
                stored = self.get_held(call.id)
                assert stored is not None
                super().update_held(dataclasses.replace(
                    stored, status=HeldStatus.APPROVED, decided_by="user:carol",
                    decided_at=1.0, reason="just in time"), HeldStatus.PENDING)
            return super().update_held(call, expected_status)

    queue = ApprovalQueue(ApprovedFirst(), clock, poll_s=0.01)
    call = await queue.hold(_call(clock))
    final = await queue.wait(call.id, timeout_s=0.02)
    assert (final.status, final.decided_by) == (HeldStatus.APPROVED, "user:carol")


def test_of_two_processes_deciding_at_once_exactly_one_wins(
        clock: FixedClock, database: Path) -> None:
    with closing(SqliteApprovalStore(database)) as one, \
            closing(SqliteApprovalStore(database)) as two:
        call = asyncio.run(ApprovalQueue(one, clock).hold(_call(clock)))
        queues = [ApprovalQueue(one, clock), ApprovalQueue(two, clock)] * 4
        start, outcomes = threading.Barrier(len(queues)), list[HeldCall | None]()

        def decide(n: int) -> None:
            start.wait()
            try:
                outcomes.append(queues[n].decide(call.id, n % 2 == 0, f"user:u{n}", "race"))
            except HeldCallClosed:
                outcomes.append(None)

        threads = [threading.Thread(target=decide, args=(n,)) for n in range(len(queues))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        winners = [o for o in outcomes if o is not None]
        assert len(winners) == 1
        assert one.get_held(call.id) == winners[0]


async def test_deciding_needs_a_known_pending_call_a_person_and_a_reason(
        clock: FixedClock) -> None:
    queue = ApprovalQueue(MemoryApprovalStore(), clock)
    call = await queue.hold(_call(clock))
    with pytest.raises(UnknownHeldCall, match="no held call 'h-nope'"):
        queue.decide("h-nope", True, "user:carol", "ok")
    with pytest.raises(BadRequest, match="not by agents"):
        queue.decide(call.id, True, "agent:mailbot", "I approve myself")
    with pytest.raises(BadRequest, match="reason"):
        queue.decide(call.id, True, "user:carol", "  ")
    assert queue.get(call.id).status is HeldStatus.PENDING
    queue.decide(call.id, False, "user:carol", "no")
    with pytest.raises(HeldCallClosed, match="already denied"):
        queue.decide(call.id, True, "user:dan", "yes")
    with pytest.raises(UnknownHeldCall):
        await queue.wait("h-nope", timeout_s=1.0)


async def test_a_failed_announcement_is_recorded_and_the_hold_stands(
        clock: FixedClock, caplog: pytest.LogCaptureFixture) -> None:
    async def broken(call: HeldCall) -> None:
        raise RuntimeError("https://user:hunter2@hooks.example/x refused")

    queue = ApprovalQueue(MemoryApprovalStore(), clock, broken, poll_s=0.01)
    with caplog.at_level(logging.WARNING, logger="ztai.agents.approvals"):
        call = await queue.hold(_call(clock))
    assert (call.status, call.notify_error) == (HeldStatus.PENDING, "RuntimeError")
    assert queue.pending() == [call]
    assert call.id in caplog.text
    assert "hunter2" not in caplog.text  # an unknown error's message may hold secrets
    decided = queue.decide(call.id, True, "user:carol", "saw it in the list")
    assert decided.notify_error == "RuntimeError"


async def test_a_cancelled_wait_expires_the_call(clock: FixedClock) -> None:
    queue = ApprovalQueue(MemoryApprovalStore(), clock, poll_s=60.0)
    call = await queue.hold(_call(clock))
    waiting = asyncio.create_task(queue.wait(call.id, timeout_s=30.0))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    final = queue.get(call.id)
    assert (final.status, final.reason) == (HeldStatus.EXPIRED, ABANDONED)


async def test_housekeeping_expires_only_calls_past_their_time(clock: FixedClock) -> None:
    queue = ApprovalQueue(MemoryApprovalStore(), clock)
    short = await queue.hold(_call(clock, timeout_s=10.0))
    long = await queue.hold(_call(clock, timeout_s=100.0))
    clock.advance(10.0)
    expired = queue.expire(clock.now())
    assert [c.id for c in expired] == [short.id]
    assert expired[0].status is HeldStatus.EXPIRED
    assert queue.expire(clock.now()) == []
    assert [c.id for c in queue.pending()] == [long.id]
    assert [c.id for c in queue.calls(None)] == sorted([short.id, long.id])  # same time: by id


async def test_only_a_pending_call_can_be_held(clock: FixedClock) -> None:
    queue = ApprovalQueue(MemoryApprovalStore(), clock)
    decided = dataclasses.replace(_call(clock), status=HeldStatus.APPROVED)
    with pytest.raises(ValueError, match="pending"):
        await queue.hold(decided)
    assert queue.calls(None) == []
    with pytest.raises(ValueError, match="poll_s"):
        ApprovalQueue(MemoryApprovalStore(), clock, poll_s=0)


def test_a_new_held_call_needs_a_chain_and_a_timeout(clock: FixedClock) -> None:
    with pytest.raises(ValueError, match="chain"):
        new_held_call((), "call_tool", "mail/send_email", {}, clock.now(), 10)
    with pytest.raises(ValueError, match="timeout"):
        new_held_call(CHAIN, "call_tool", "mail/send_email", {}, clock.now(), 0)
    first, second = _call(clock), _call(clock)
    assert first.id != second.id
    assert first.id.startswith("h-")


async def test_a_decision_made_outside_an_exchange_becomes_an_audit_event(
        clock: FixedClock) -> None:
    queue = ApprovalQueue(MemoryApprovalStore(), clock)
    call = await queue.hold(_call(clock))
    decided = queue.decide(call.id, False, "operator:root", "suspicious")
    event = decision_event(decided, "operator:root", clock.now())
    assert (event.route, event.principal, event.principal_kind, event.action) == (
        "approvals.deny", "root", "operator", "administer")
    assert event.details == {"held_id": call.id, "subject": "agent:mailbot",
                             "resource": "mail/send_email", "status": "denied",
                             "reason": "suspicious", "chain": "user:alice > agent:mailbot"}
