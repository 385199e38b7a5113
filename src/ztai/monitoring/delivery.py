"""Alert delivery from an outbox: each alert revision the engine stores comes with one pending
delivery per sink; the dispatcher sends those that are due, records every outcome, and retries
a failure with doubling back-off until ``max_attempts``, then marks it failed. Nothing is lost:
the alert stays in the store and its failed deliveries say why."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ztai.monitoring.pseudonym import Pseudonymizer
from ztai.monitoring.sinks.interface import AlertSink, SinkError
from ztai.storage.interface import MonitorStore
from ztai.storage.model import AlertDelivery, AlertRecord, DeliveryStatus

log = logging.getLogger("ztai.monitoring")
MAX_ERROR_CHARS = 300


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    max_attempts: int = 5
    backoff_s: float = 30.0
    per_tick: int = 50
    pseudonymise: bool = True  # sinks see pseudonyms, as analysts do until they unmask


@dataclass(frozen=True, slots=True)
class DispatchReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


class Dispatcher:
    def __init__(self, store: MonitorStore, sinks: Mapping[str, AlertSink],
                 pseudonyms: Pseudonymizer, options: DeliveryOptions | None = None) -> None:
        self._store, self._sinks, self._pseudonyms = store, dict(sinks), pseudonyms
        self._o = options or DeliveryOptions()

    @property
    def sink_names(self) -> tuple[str, ...]:
        return tuple(sorted(self._sinks))

    def dispatch(self, now: float, stop: Callable[[], bool] = lambda: False) -> DispatchReport:
        """Send the deliveries due at ``now`` (at most ``per_tick``); ``stop`` ends early.
        Raises ``StoreUnavailable`` if the outcome cannot be recorded."""
        counts = {status: 0 for status in DeliveryStatus}
        for delivery in self._store.pending_deliveries(now, self._o.per_tick):
            if stop():
                break
            outcome = self._attempt(delivery, now)
            self._store.record_delivery(outcome)
            counts[outcome.status] += 1
        return DispatchReport(counts[DeliveryStatus.DELIVERED], counts[DeliveryStatus.PENDING],
                              counts[DeliveryStatus.FAILED])

    def close(self) -> None:
        for sink in self._sinks.values():
            sink.close()

    def _attempt(self, delivery: AlertDelivery, now: float) -> AlertDelivery:
        attempts = delivery.attempts + 1
        alert, sink = self._store.get_alert(delivery.alert_id), self._sinks.get(delivery.sink)
        try:
            if alert is None or sink is None:
                raise SinkError("the alert is gone" if alert is None
                                else f"no sink {delivery.sink!r} is configured")
            sink.send(self._present(alert))
        except SinkError as exc:
            final = attempts >= self._o.max_attempts or alert is None or sink is None
            log.warning("alert %s to %s failed (attempt %d%s): %s", delivery.alert_id,
                        delivery.sink, attempts, ", giving up" if final else "", exc)
            return dataclasses.replace(
                delivery, status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
                attempts=attempts, next_at=now + self._o.backoff_s * 2 ** (attempts - 1),
                last_error=str(exc)[:MAX_ERROR_CHARS], updated_at=now)
        return dataclasses.replace(delivery, status=DeliveryStatus.DELIVERED, attempts=attempts,
                                   last_error="", updated_at=now)

    def _present(self, alert: AlertRecord) -> AlertRecord:
        return self._pseudonyms.mask(alert) if self._o.pseudonymise else alert
