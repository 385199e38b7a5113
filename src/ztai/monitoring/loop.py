"""The monitor as a background loop: a step every ``interval_s`` in a worker thread (stores
and sinks block). Cancelling waits for the step in hand to finish, so its stores are never
closed under it. A step that fails is logged and the next one starts over from the store."""

from __future__ import annotations

import asyncio
import logging
import threading

from ztai.core.errors import ZtaiError
from ztai.monitoring.service import RiskService, TickReport

log = logging.getLogger("ztai.monitoring")


class RiskLoop:
    def __init__(self, service: RiskService, interval_s: float) -> None:
        self._service, self._interval = service, interval_s
        self._stopping = threading.Event()

    async def run(self) -> None:
        """Runs until cancelled."""
        try:
            while True:
                await self.step()
                await asyncio.sleep(self._interval)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the risk monitor stopped")
            raise

    async def step(self) -> TickReport | None:
        work = asyncio.ensure_future(asyncio.to_thread(self._tick))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            self._stopping.set()  # sinks stop between deliveries; the catch-up between batches
            await work
            raise

    def _tick(self) -> TickReport | None:
        try:
            report = self._service.tick(self._stopping.is_set)
        except ZtaiError as exc:
            log.error("risk monitor step failed: %s", exc.message)
            return None
        log.log(logging.INFO if report.published else logging.DEBUG,
                "risk monitor: %d events, %d levels changed, cursor %d",
                report.processed, report.published, report.cursor)
        return report
