"""The audit writer: a background thread commits queued events in groups, so each request waits
for one fsync shared with every event that arrived meanwhile, and the event loop never blocks.
A caller is answered only once its event is durable; if it is not, the caller gets an error."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Sequence

from ztai.audit.canonical import encode_event
from ztai.audit.committer import Committer, WriterOptions
from ztai.audit.signing import CheckpointSigner
from ztai.audit.waiters import Pending, Stop, finish, settle
from ztai.core.audit import AuditEvent
from ztai.core.clock import Clock, SystemClock
from ztai.core.errors import StoreUnavailable
from ztai.storage.interface import AuditStore

_log = logging.getLogger(__name__)


class AuditWriter:
    """``start()``, then ``record()`` from any event loop (or ``record_sync()`` from a thread),
    then ``aclose()``. Every method that refuses an event raises ``StoreUnavailable``."""

    def __init__(self, store: AuditStore, signer: CheckpointSigner | None = None,
                 clock: Clock | None = None, options: WriterOptions | None = None) -> None:
        self._options = options or WriterOptions()
        self._committer = Committer(store, signer, clock or SystemClock(), self._options)
        self._queue: queue.SimpleQueue[Pending | Stop] = queue.SimpleQueue()
        self._lock = threading.Lock()  # orders "accepting?" with the enqueue
        self._accepting = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Read the chain head and start the thread. Raises ``StoreUnavailable``."""
        if self._thread is not None:
            raise RuntimeError("AuditWriter.start() called twice")
        self._committer.load()
        self._thread = threading.Thread(target=self._run, name="ztai-audit-writer", daemon=True)
        self._accepting = True
        self._thread.start()

    async def record(self, event: AuditEvent) -> int:
        """Returns the event's seq once it is durably committed. If this raises, the event may
        or may not be stored, and the exchange must not be answered as if it were audited."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        self._enqueue(Pending(encode_event(event), future, loop))
        return await future

    def record_sync(self, event: AuditEvent) -> int:
        """``record`` for callers without an event loop (CLI, tests); blocks the thread."""
        future: concurrent.futures.Future[int] = concurrent.futures.Future()
        self._enqueue(Pending(encode_event(event), future, None))
        return future.result()

    async def aclose(self) -> None:
        """Commit everything queued, sign a final checkpoint, stop the thread. Raises
        ``StoreUnavailable`` if the final checkpoint could not be written."""
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        """``aclose`` for callers without an event loop."""
        with self._lock:
            self._accepting = False
        if self._thread is None:
            return
        stop = Stop(concurrent.futures.Future())
        self._queue.put(stop)
        self._thread.join()
        if stop.done.done():
            stop.done.result()

    def is_healthy(self) -> bool:
        """For readiness probes: the thread runs and the store's last answer was a success
        (while idle the writer re-reads the head every ``checkpoint_interval_s`` to recover)."""
        running = self._accepting and self._thread is not None and self._thread.is_alive()
        return running and self._committer.is_current

    def _enqueue(self, item: Pending) -> None:
        with self._lock:
            if not self._accepting:
                raise StoreUnavailable("the audit writer is not running")
            if self._queue.qsize() >= self._options.max_pending:
                raise StoreUnavailable("the audit backlog is full")
            self._queue.put(item)

    def _run(self) -> None:
        try:
            while self._serve_once():
                pass
        finally:
            self._refuse_remaining()

    def _serve_once(self) -> bool:
        batch, stop = self._next_batch()
        if batch:
            settle(batch, self._commit(batch))
        elif stop is None:
            self._checkpoint(force=False)
        if stop is None:
            return True
        finish(stop, self._checkpoint(force=True))
        return False

    def _next_batch(self) -> tuple[list[Pending], Stop | None]:
        """Whatever is queued, up to ``max_batch``; waits only when nothing is."""
        batch: list[Pending] = []
        try:
            item = self._queue.get(timeout=self._options.checkpoint_interval_s)
            while not isinstance(item, Stop):
                batch.append(item)
                if len(batch) >= self._options.max_batch:
                    return batch, None
                item = self._queue.get_nowait()
        except queue.Empty:
            return batch, None
        return batch, item

    def _commit(self, batch: list[Pending]) -> Sequence[int] | BaseException:
        try:
            return self._committer.commit([item.payload for item in batch])
        except StoreUnavailable as exc:
            _log.error("audit batch of %d events not committed: %s", len(batch), exc.message)
            return exc
        except Exception as exc:  # noqa: BLE001  # logged; the thread must outlive store bugs
            _log.exception("audit batch of %d events not committed", len(batch))
            return exc

    def _checkpoint(self, *, force: bool) -> BaseException | None:
        try:
            self._committer.checkpoint(force=force)
        except Exception as exc:  # noqa: BLE001  # logged; the thread must outlive store bugs
            _log.exception("audit checkpoint not written")
            return exc
        return None

    def _refuse_remaining(self) -> None:
        with self._lock:
            self._accepting = False
        stopped = StoreUnavailable("the audit writer stopped")
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, Pending):
                settle([item], stopped)
            else:
                finish(item, None)
