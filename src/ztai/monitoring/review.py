"""Pseudonymised review: what analysts do with alerts. Alerts are shown with the principal
pseudonymised; unmasking one needs a reason, and dismissing one (a false positive) needs a
reason and clears the principal's score at the monitor's next step. Every call is audited by
the entry point that makes it (the admin API through the pipeline, the CLI through its own
audit event), with the reason; this module refuses a call without one."""

from __future__ import annotations

from dataclasses import dataclass

from ztai.core.clock import Clock
from ztai.core.errors import BadRequest
from ztai.monitoring.pseudonym import Pseudonymizer
from ztai.storage.interface import MonitorStore
from ztai.storage.model import AlertDelivery, AlertRecord, AlertStatus

MAX_REASON_CHARS = 500
MAX_LIST = 1000


class UnknownAlert(BadRequest):
    code = "alert_not_found"


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert as an analyst sees it: ``alert.principal`` is the pseudonym unless unmasked."""

    alert: AlertRecord
    pseudonym: str
    masked: bool
    deliveries: tuple[AlertDelivery, ...] = ()


class AlertReview:
    def __init__(self, store: MonitorStore, pseudonyms: Pseudonymizer, clock: Clock) -> None:
        self._store, self._pseudonyms, self._clock = store, pseudonyms, clock

    def list(self, status: AlertStatus | None = None, limit: int = 100) -> list[AlertView]:
        """Newest first, pseudonymised. Raises ``StoreUnavailable``."""
        alerts = self._store.list_alerts(status, max(1, min(limit, MAX_LIST)))
        return [self._masked(alert) for alert in alerts]

    def show(self, alert_id: str) -> AlertView:
        """One alert with its evidence and deliveries, pseudonymised; ``UnknownAlert``."""
        return self._masked(self._get(alert_id), with_deliveries=True)

    def unmask(self, alert_id: str, reason: str) -> AlertView:
        """The alert with the real principal; needs a reason (``BadRequest`` without one)."""
        _require(reason)
        alert = self._get(alert_id)
        return AlertView(alert, self._pseudonyms.pseudonym(alert.principal), False,
                         tuple(self._store.deliveries(alert_id)))

    def dismiss(self, alert_id: str, by: str, reason: str) -> AlertView:
        """Close an open alert as a false positive. ``BadRequest`` without a reason, for an
        unknown alert, or one that is not open."""
        _require(reason)
        self._get(alert_id)
        closed = self._store.close_alert(alert_id, AlertStatus.DISMISSED, by, reason.strip(),
                                         self._clock.now())
        if closed is None:
            raise BadRequest(f"alert {alert_id!r} is not open", param="alert_id")
        return self._masked(closed, with_deliveries=True)

    def _get(self, alert_id: str) -> AlertRecord:
        alert = self._store.get_alert(alert_id)
        if alert is None:
            raise UnknownAlert(f"no alert {alert_id!r}", param="alert_id")
        return alert

    def _masked(self, alert: AlertRecord, with_deliveries: bool = False) -> AlertView:
        deliveries = tuple(self._store.deliveries(alert.alert_id)) if with_deliveries else ()
        masked = self._pseudonyms.mask(alert)
        return AlertView(masked, masked.principal, True, deliveries)


def _require(reason: str) -> None:
    if not reason.strip():
        raise BadRequest("a reason is required (it is recorded in the audit log)",
                         param="reason")
    if len(reason) > MAX_REASON_CHARS:
        raise BadRequest(f"the reason is longer than {MAX_REASON_CHARS} characters",
                         param="reason")
