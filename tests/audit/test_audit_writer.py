"""The group-committing writer: durability before the answer, batching, failing closed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from ztai.audit.committer import WriterOptions
from ztai.audit.reader import verify_store
from ztai.audit.signing import CheckpointSigner
from ztai.audit.writer import AuditWriter
from ztai.core.clock import FixedClock, SystemClock
from ztai.core.errors import StoreUnavailable
from ztai.storage.memory import MemoryAuditStore
from ztai.storage.sqlite import SqliteAuditStore

from .support import CountingStore, make_event

pytestmark = pytest.mark.anyio


async def _wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def _hold_first_append(writer: AuditWriter, store: CountingStore
                             ) -> asyncio.Task[int]:
    """Start one record whose append blocks on ``store.gate``, so the next ones queue up."""
    store.gate.clear()
    first = asyncio.create_task(writer.record(make_event(0)))
    assert await asyncio.to_thread(store.entered.wait, 5)
    return first


async def test_concurrent_records_form_a_gap_free_verified_chain(
        sqlite_store: SqliteAuditStore, signer: CheckpointSigner) -> None:
    writer = AuditWriter(sqlite_store, signer, FixedClock(), WriterOptions(checkpoint_every=16))
    writer.start()
    seqs = await asyncio.gather(*(writer.record(make_event(i)) for i in range(300)))
    await writer.aclose()
    assert sorted(seqs) == list(range(1, 301))
    report = verify_store(sqlite_store, signer.public_key)
    assert report.ok, report.problems
    assert (report.count, report.unanchored) == (300, 0)


async def test_a_recorded_event_is_on_disk_when_record_returns(
        sqlite_store: SqliteAuditStore, db_path: Path) -> None:
    writer = AuditWriter(sqlite_store)
    writer.start()
    seq = await writer.record(make_event(1))
    with closing(sqlite3.connect(db_path)) as other:
        row = other.execute("SELECT payload FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    assert row is not None
    assert b"ex_000001" in row[0]
    await writer.aclose()


async def test_events_waiting_together_are_committed_together() -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store)
    writer.start()
    first = await _hold_first_append(writer, store)
    rest = [asyncio.create_task(writer.record(make_event(i))) for i in range(1, 101)]
    await asyncio.sleep(0)  # every task runs up to its await, i.e. has enqueued
    store.gate.set()
    assert sorted(await asyncio.gather(first, *rest)) == list(range(1, 102))
    assert store.appends == 2
    await writer.aclose()


async def test_a_batch_is_answered_with_one_wakeup_per_loop(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store)
    writer.start()
    first = await _hold_first_append(writer, store)
    rest = [asyncio.create_task(writer.record(make_event(i))) for i in range(1, 51)]
    await asyncio.sleep(0)
    loop = asyncio.get_running_loop()
    wakeups = []
    original = loop.call_soon_threadsafe

    def counting(callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        wakeups.append(callback)
        return original(callback, *args, **kwargs)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counting)
    store.gate.set()
    await asyncio.gather(first, *rest)
    assert len(wakeups) == 2  # the held batch of one, then the batch of fifty
    await writer.aclose()


@pytest.mark.parametrize("after_commit", [False, True])
async def test_a_store_failure_refuses_the_batch_and_the_chain_continues(
        after_commit: bool, signer: CheckpointSigner) -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store, signer, FixedClock(), WriterOptions(checkpoint_every=2))
    writer.start()
    await writer.record(make_event(0))
    store.fail_with, store.fail_after_commit = StoreUnavailable("disk on fire"), after_commit
    with pytest.raises(StoreUnavailable, match="not committed"):
        await writer.record(make_event(1))
    later = await asyncio.gather(*(writer.record(make_event(i)) for i in range(2, 6)))
    await writer.aclose()
    stored = 2 if after_commit else 1  # a failed commit may still have reached the disk
    assert sorted(later) == list(range(stored + 1, stored + 5))
    report = verify_store(store, signer.public_key)
    assert report.ok, report.problems
    assert report.count == stored + 4


async def test_an_unexpected_store_error_fails_closed_and_the_writer_survives() -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store)
    writer.start()
    store.fail_with = RuntimeError("bug in a backend")
    with pytest.raises(StoreUnavailable):
        await writer.record(make_event(0))
    assert await writer.record(make_event(1)) == 1
    await writer.aclose()


async def test_every_waiter_of_a_failed_batch_is_refused() -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store)
    writer.start()
    first = await _hold_first_append(writer, store)
    rest = [asyncio.create_task(writer.record(make_event(i))) for i in range(1, 21)]
    await asyncio.sleep(0)
    store.fail_with, store.fail_on = StoreUnavailable("disk on fire"), 2
    store.gate.set()
    assert await first == 1
    outcomes = await asyncio.gather(*rest, return_exceptions=True)
    assert all(isinstance(o, StoreUnavailable) for o in outcomes)
    assert store.appends == 2
    await writer.aclose()


async def test_a_full_backlog_refuses_at_once() -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store, options=WriterOptions(max_pending=1))
    writer.start()
    first = await _hold_first_append(writer, store)
    queued = asyncio.create_task(writer.record(make_event(1)))
    await asyncio.sleep(0)
    with pytest.raises(StoreUnavailable, match="backlog"):
        await writer.record(make_event(2))
    store.gate.set()
    assert sorted(await asyncio.gather(first, queued)) == [1, 2]
    await writer.aclose()


async def test_a_cancelled_waiter_does_not_disturb_the_others() -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store)
    writer.start()
    first = await _hold_first_append(writer, store)
    doomed = asyncio.create_task(writer.record(make_event(1)))
    kept = asyncio.create_task(writer.record(make_event(2)))
    await asyncio.sleep(0)
    doomed.cancel()
    store.gate.set()
    assert await kept == 3
    assert await first == 1
    await writer.aclose()
    assert store.inner.head() is not None
    assert store.inner.head().seq == 3  # type: ignore[union-attr]  # checked just above


async def test_records_are_refused_before_start_and_after_close() -> None:
    writer = AuditWriter(MemoryAuditStore())
    with pytest.raises(StoreUnavailable):
        await writer.record(make_event())
    writer.start()
    await writer.aclose()
    with pytest.raises(StoreUnavailable):
        await writer.record(make_event())
    with pytest.raises(StoreUnavailable):
        writer.record_sync(make_event())


async def test_start_twice_is_an_error() -> None:
    writer = AuditWriter(MemoryAuditStore())
    writer.start()
    with pytest.raises(RuntimeError):
        writer.start()
    await writer.aclose()


async def test_close_signs_the_unsigned_tail(signer: CheckpointSigner) -> None:
    store = MemoryAuditStore()
    writer = AuditWriter(store, signer, FixedClock(), WriterOptions(checkpoint_every=1000))
    writer.start()
    for i in range(3):
        await writer.record(make_event(i))
    assert store.checkpoints() == []
    await writer.aclose()
    assert [cp.seq for cp in store.checkpoints()] == [3]
    assert verify_store(store, signer.public_key).unanchored == 0


async def test_an_idle_writer_signs_its_tail_after_the_interval(signer: CheckpointSigner
                                                                ) -> None:
    store = MemoryAuditStore()
    options = WriterOptions(checkpoint_every=1000, checkpoint_interval_s=0.02)
    writer = AuditWriter(store, signer, SystemClock(), options)
    writer.start()
    await writer.record(make_event(0))
    await _wait_until(lambda: bool(store.checkpoints()))
    assert store.checkpoints()[0].seq == 1
    await writer.aclose()


async def test_a_restarted_writer_continues_the_chain(db_path: Path,
                                                      signer: CheckpointSigner) -> None:
    for run in range(2):
        with closing(SqliteAuditStore(db_path)) as store:
            writer = AuditWriter(store, signer, FixedClock())
            writer.start()
            seqs = [await writer.record(make_event(i)) for i in range(3)]
            await writer.aclose()
        assert seqs == [3 * run + 1, 3 * run + 2, 3 * run + 3]
    with closing(SqliteAuditStore(db_path)) as store:
        report = verify_store(store, signer.public_key)
    assert report.ok, report.problems
    assert (report.count, report.checkpoints_verified) == (6, 2)


async def test_sync_and_async_callers_share_one_chain() -> None:
    store = MemoryAuditStore()
    writer = AuditWriter(store)
    writer.start()
    results: list[int] = []
    thread = threading.Thread(
        target=lambda: results.extend(writer.record_sync(make_event(i)) for i in range(20)))
    thread.start()
    results += await asyncio.gather(*(writer.record(make_event(i)) for i in range(20)))
    await asyncio.to_thread(thread.join)
    await writer.aclose()
    assert sorted(results) == list(range(1, 41))


async def test_an_unwritable_anchor_file_does_not_refuse_events(
        tmp_path: Path, signer: CheckpointSigner, caplog: pytest.LogCaptureFixture) -> None:
    options = WriterOptions(checkpoint_every=1, anchor_path=tmp_path / "missing" / "a.jsonl")
    writer = AuditWriter(MemoryAuditStore(), signer, FixedClock(), options)
    writer.start()
    assert await writer.record(make_event()) == 1
    await writer.aclose()
    assert "anchor" in caplog.text


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        WriterOptions(max_batch=0)
    with pytest.raises(ValueError, match="positive"):
        WriterOptions(checkpoint_interval_s=0)


async def test_health_follows_the_thread_and_the_store() -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store)
    assert not writer.is_healthy()
    writer.start()
    assert writer.is_healthy()
    store.fail_with = StoreUnavailable("disk on fire")
    with pytest.raises(StoreUnavailable):
        await writer.record(make_event(0))
    assert not writer.is_healthy()
    await writer.record(make_event(1))
    assert writer.is_healthy()
    await writer.aclose()
    assert not writer.is_healthy()


async def test_an_idle_writer_recovers_its_health() -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store, options=WriterOptions(checkpoint_interval_s=0.02))
    writer.start()
    store.fail_with = StoreUnavailable("disk on fire")
    with pytest.raises(StoreUnavailable):
        await writer.record(make_event(0))
    await _wait_until(writer.is_healthy)
    await writer.aclose()


async def test_a_failed_final_checkpoint_is_reported_by_close(signer: CheckpointSigner) -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store, signer, FixedClock(), WriterOptions(checkpoint_every=1000))
    writer.start()
    await writer.record(make_event(0))
    store.fail_with = StoreUnavailable("disk on fire")
    with pytest.raises(StoreUnavailable, match="not committed"):
        await writer.aclose()
    assert store.checkpoints() == []


def test_close_before_start_and_twice_is_harmless() -> None:
    writer = AuditWriter(MemoryAuditStore())
    writer.close()
    writer.start()
    writer.close()
    writer.close()


def test_batches_are_capped_at_max_batch() -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store, options=WriterOptions(max_batch=4))

    async def burst() -> list[int]:
        first = await _hold_first_append(writer, store)
        rest = [asyncio.create_task(writer.record(make_event(i))) for i in range(1, 9)]
        await asyncio.sleep(0)
        store.gate.set()
        return await asyncio.gather(first, *rest)

    writer.start()
    assert sorted(asyncio.run(burst())) == list(range(1, 10))
    writer.close()
    assert store.appends == 3  # 1 held, then 8 queued in batches of 4


def test_results_for_a_closed_event_loop_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    store = CountingStore(MemoryAuditStore())
    writer = AuditWriter(store)
    writer.start()

    async def abandon() -> None:
        # asyncio.run cancels the pending record and closes its loop before the commit ends
        await _hold_first_append(writer, store)

    asyncio.run(abandon())
    store.gate.set()
    assert writer.record_sync(make_event(1)) == 2
    writer.close()
    assert "closed event loop" in caplog.text
